// `seamark records list|get|add|edit|rm|renew`: the HTTP API from a shell,
// with a readable table or --json.
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';

/** The largest reply read: far above 100,000 records, far below what would exhaust memory. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface RecordView {
  id: string;
  names: string[];
  addresses: string[];
  ttl?: number;
  srv: { service: string; protocol: string; port: number }[];
  cname?: string;
  healthy: boolean;
  expiresAt?: string;
}

const USAGE = `Usage:
  seamark records list [--name <name>] [--json]
  seamark records get <id> [--json]
  seamark records add --name <name>... --address <addr>... [--id <id> [--replace]] [--ttl <s>] [--lease <s>]
                      [--srv <service>:<port>[/<proto>]]... [--txt <text>]... [--json]
  seamark records add --name <name>... --cname <target> [--id <id> [--replace]] [--ttl <s>] [--lease <s>] [--json]
                      (an alias; a name of the form *.app is a wildcard; --txt alone needs no --address;
                      an --id that exists is refused unless --replace is given)
  seamark records edit <id> [--name <name>]... [--address <addr>]... [--ttl <s>|none] [--lease <s>|none]
                      [--srv <service>:<port>[/<proto>]]... [--txt <text>]... [--cname <target>|none] [--json]
                      (changes only the fields given; a list given replaces that list)
  seamark records rm <id>
  seamark records renew <id> [--json]

Options of every subcommand:
  --url <url>      seamark's HTTP API; env SEAMARK_URL [http://127.0.0.1:8080]
  --token <token>  bearer token for writes; env SEAMARK_TOKEN (preferred: flags show in ps)
  --timeout <s>    give up when the whole request takes longer; env SEAMARK_TIMEOUT [${DEFAULT_TIMEOUT_SECONDS}]
  --json           print the API's JSON instead of a table

Exit status: 0 done, 1 the API refused or could not be reached, 2 usage error (on stderr).`;

class UsageError extends Error {}

/** Runs one `records` subcommand; returns the exit code (0 ok, 1 API error, 2 usage). */
export async function runRecordsCommand(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        name: { type: 'string', multiple: true },
        address: { type: 'string', multiple: true },
        cname: { type: 'string' },
        txt: { type: 'string', multiple: true },
        id: { type: 'string' },
        ttl: { type: 'string' },
        lease: { type: 'string' },
        srv: { type: 'string', multiple: true },
        replace: { type: 'boolean' },
      },
    });
    const [subcommand, ...rest] = positionals;
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    if (subcommand === undefined) throw new UsageError('give a subcommand: list, get, add, edit, rm or renew');
    const timeout = values.timeout ?? env.SEAMARK_TIMEOUT;
    const client = apiClient(
      (values.url ?? env.SEAMARK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
      values.token ?? env.SEAMARK_TOKEN,
      timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : positiveSeconds('--timeout', timeout),
    );
    const json = values.json === true;
    switch (subcommand) {
      case 'list': {
        const query = values.name?.[0] === undefined ? '' : `?name=${encodeURIComponent(values.name[0])}`;
        const records = (await client('GET', `/v1/records${query}`)).body as RecordView[];
        io.out(json ? JSON.stringify(records, null, 2) : recordTable(records));
        return 0;
      }
      case 'get': {
        const record = (await client('GET', recordPath(onlyId(rest, 'get')))).body as RecordView;
        io.out(json ? JSON.stringify(record, null, 2) : recordTable([record]));
        return 0;
      }
      case 'add': {
        if (rest.length > 0) throw new UsageError(`add takes no positional argument ("${rest[0]}"); give the id with --id`);
        if (values.replace === true && values.id === undefined) throw new UsageError('--replace needs the --id of the record to replace');
        const body = recordBody(values);
        // Without --replace an existing id is refused by the API (If-None-Match: *), not overwritten.
        const id = values.id;
        const written = id === undefined ? client('POST', '/v1/records', body) : client('PUT', recordPath(id), body, values.replace === true ? {} : { 'if-none-match': '*' });
        const reply = await written.catch((error: unknown) => {
          if (!(error instanceof ApiError && error.status === 412)) throw error;
          throw new Error(`record "${id}" exists; add --replace to replace it, or change some of its fields with: seamark records edit ${id}`);
        });
        const record = reply.body as RecordView;
        if (json) io.out(JSON.stringify(record, null, 2));
        else io.out(reply.status === 201 ? recordTable([record]) : `replaced ${record.id}\n${recordTable([record])}`);
        return 0;
      }
      case 'edit': {
        const id = onlyId(rest, 'edit');
        if (values.id !== undefined || values.replace === true) throw new UsageError('edit takes the id as its argument and changes only the fields given; --id and --replace belong to add');
        const record = (await client('PATCH', recordPath(id), patchBody(values))).body as RecordView;
        io.out(json ? JSON.stringify(record, null, 2) : recordTable([record]));
        return 0;
      }
      case 'rm': {
        const id = onlyId(rest, 'rm');
        await client('DELETE', recordPath(id));
        if (!json) io.out(`removed ${id}`);
        return 0;
      }
      case 'renew': {
        const record = (await client('POST', `${recordPath(onlyId(rest, 'renew'))}/renew`)).body as RecordView;
        io.out(json ? JSON.stringify(record, null, 2) : `renewed ${record.id} until ${record.expiresAt ?? '?'}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand "${subcommand}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`seamark records: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`seamark records: ${(error as Error).message}`);
    return 1;
  }
}

const recordPath = (id: string) => `/v1/records/${encodeURIComponent(id)}`;

function onlyId(rest: string[], subcommand: string): string {
  if (rest.length !== 1 || rest[0] === undefined) throw new UsageError(`${subcommand} takes exactly one record id`);
  return rest[0];
}

interface FieldFlags {
  name?: string[];
  address?: string[];
  ttl?: string;
  lease?: string;
  srv?: string[];
  cname?: string;
  txt?: string[];
}

function recordBody(values: FieldFlags): Record<string, unknown> {
  if (values.name === undefined || (values.address === undefined && values.cname === undefined && values.txt === undefined)) {
    throw new UsageError('add needs at least one --name and one --address (or a --cname, or --txt)');
  }
  const body: Record<string, unknown> = { names: values.name, ...(values.address === undefined ? {} : { addresses: values.address }) };
  if (values.cname !== undefined) body.cname = values.cname;
  if (values.txt !== undefined) body.txt = values.txt;
  if (values.ttl !== undefined) body.ttl = wholeNumber('--ttl', values.ttl);
  if (values.lease !== undefined) body.lease = wholeNumber('--lease', values.lease);
  if (values.srv !== undefined) body.srv = values.srv.map(srvOf);
  return body;
}

/** A PATCH of the fields given; `none` removes a ttl, lease or cname (JSON null). */
function patchBody(values: FieldFlags): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (values.name !== undefined) body.names = values.name;
  if (values.address !== undefined) body.addresses = values.address;
  if (values.txt !== undefined) body.txt = values.txt;
  if (values.srv !== undefined) body.srv = values.srv.map(srvOf);
  if (values.cname !== undefined) body.cname = values.cname === 'none' ? null : values.cname;
  if (values.ttl !== undefined) body.ttl = values.ttl === 'none' ? null : wholeNumber('--ttl', values.ttl);
  if (values.lease !== undefined) body.lease = values.lease === 'none' ? null : wholeNumber('--lease', values.lease);
  if (Object.keys(body).length === 0) throw new UsageError('edit needs at least one field to change: --name, --address, --ttl, --lease, --srv, --txt or --cname');
  return body;
}

function srvOf(text: string): { service: string; port: number; protocol: string } {
  const match = /^([A-Za-z0-9-]+):(\d+)(?:\/([A-Za-z0-9-]+))?$/.exec(text);
  if (match === null) throw new UsageError(`--srv "${text}" is not <service>:<port>[/<proto>], e.g. http:80/tcp`);
  return { service: match[1] as string, port: Number(match[2]), protocol: match[3] ?? 'tcp' };
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} "${text}" is not a whole number of seconds`);
  return Number(text);
}

function positiveSeconds(flag: string, text: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(seconds > 0)) throw new UsageError(`${flag} "${text}" is not a positive number of seconds`);
  return seconds;
}

/** A 2xx reply's status and parsed JSON body. */
export interface ApiReply {
  status: number;
  body: unknown;
}

export type Client = (method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>) => Promise<ApiReply>;

/** A reply outside 2xx, with its status and the API's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * JSON over node:http(s): unlike fetch it talks to any port (fetch refuses the
 * Fetch standard's "bad ports", 6667, 10080, ...), and here every request has a
 * deadline and a size cap, and a reply that is not JSON is shown with its status.
 */
export function apiClient(baseUrl: string, token: string | undefined, timeoutSeconds: number): Client {
  return async (method, path, body, extraHeaders = {}) => {
    let url: URL;
    try {
      url = new URL(baseUrl + path);
    } catch {
      throw new UsageError(`--url "${baseUrl}" is not a URL, e.g. http://127.0.0.1:8080`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url "${baseUrl}" is not an http:// or https:// URL`);
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
    const { status, text } = await send(url, method, headers, payload, timeoutSeconds, baseUrl);
    const statusLine = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      const excerpt = text.slice(0, 200).replace(/\s+/g, ' ').trim();
      throw new Error(`${baseUrl} answered ${statusLine} with a body that is not JSON (is --url seamark's API?): ${excerpt}`);
    }
    if (status < 200 || status >= 300) {
      const message = (parsed as { message?: unknown } | undefined)?.message;
      throw new ApiError(status, `${statusLine}: ${typeof message === 'string' ? message : text}`);
    }
    return { status, body: parsed };
  };
}

function send(url: URL, method: string, headers: Record<string, string>, payload: string | undefined, timeoutSeconds: number, baseUrl: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers });
    const timer = setTimeout(() => fail(new Error(`${baseUrl} did not answer within ${timeoutSeconds} s (set --timeout)`)), timeoutSeconds * 1000);
    function fail(error: Error): void {
      clearTimeout(timer);
      request.destroy();
      reject(error);
    }
    request.once('error', (error) => fail(new Error(`cannot reach ${baseUrl}: ${error.message} (set --url or SEAMARK_URL)`)));
    request.once('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) fail(new Error(`${baseUrl} sent a reply larger than ${MAX_REPLY_BYTES / 1024 / 1024} MiB; stopped reading`));
        else chunks.push(chunk);
      });
      response.once('error', (error) => fail(error));
      response.once('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.end(payload);
  });
}

/** Columns padded to their widest cell. */
function recordTable(records: RecordView[]): string {
  const rows = [
    ['ID', 'NAMES', 'ADDRESSES', 'TTL', 'SRV', 'HEALTH', 'EXPIRES'],
    ...records.map((record) => [
      record.id,
      record.names.join(','),
      record.cname === undefined ? record.addresses.join(',') : `→ ${record.cname}`,
      record.ttl === undefined ? '-' : String(record.ttl),
      record.srv.length === 0 ? '-' : record.srv.map((srv) => `${srv.service}:${srv.port}/${srv.protocol}`).join(','),
      record.healthy ? 'healthy' : 'failing',
      record.expiresAt ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}
