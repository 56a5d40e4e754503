// `seamark records list|add|rm|renew`: the HTTP API from a shell, with a
// readable table or --json.
import { parseArgs } from 'node:util';

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
  healthy: boolean;
  expiresAt?: string;
}

const USAGE = `Usage:
  seamark records list [--name <name>] [--json]
  seamark records add --name <name>... --address <addr>... [--id <id>] [--ttl <s>] [--lease <s>]
                      [--srv <service>:<port>[/<proto>]]... [--json]
  seamark records rm <id>
  seamark records renew <id> [--json]

Options of every subcommand:
  --url <url>      seamark's HTTP API; env SEAMARK_URL [http://127.0.0.1:8080]
  --token <token>  bearer token for writes; env SEAMARK_TOKEN (preferred: flags show in ps)
  --json           print the API's JSON instead of a table`;

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
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        name: { type: 'string', multiple: true },
        address: { type: 'string', multiple: true },
        id: { type: 'string' },
        ttl: { type: 'string' },
        lease: { type: 'string' },
        srv: { type: 'string', multiple: true },
      },
    });
    const [subcommand, ...rest] = positionals;
    if (values.help === true || subcommand === undefined) {
      io.out(USAGE);
      return values.help === true ? 0 : 2;
    }
    const client = apiClient((values.url ?? env.SEAMARK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''), values.token ?? env.SEAMARK_TOKEN);
    const json = values.json === true;
    switch (subcommand) {
      case 'list': {
        const query = values.name?.[0] === undefined ? '' : `?name=${encodeURIComponent(values.name[0])}`;
        const records = (await client('GET', `/v1/records${query}`)) as RecordView[];
        io.out(json ? JSON.stringify(records, null, 2) : recordTable(records));
        return 0;
      }
      case 'add': {
        const body = recordBody(values);
        const record = (await client(values.id === undefined ? 'POST' : 'PUT', values.id === undefined ? '/v1/records' : `/v1/records/${encodeURIComponent(values.id)}`, body)) as RecordView;
        io.out(json ? JSON.stringify(record, null, 2) : recordTable([record]));
        return 0;
      }
      case 'rm': {
        const id = onlyId(rest, 'rm');
        await client('DELETE', `/v1/records/${encodeURIComponent(id)}`);
        if (!json) io.out(`removed ${id}`);
        return 0;
      }
      case 'renew': {
        const record = (await client('POST', `/v1/records/${encodeURIComponent(onlyId(rest, 'renew'))}/renew`)) as RecordView;
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

function onlyId(rest: string[], subcommand: string): string {
  if (rest.length !== 1 || rest[0] === undefined) throw new UsageError(`${subcommand} takes exactly one record id`);
  return rest[0];
}

function recordBody(values: { name?: string[]; address?: string[]; ttl?: string; lease?: string; srv?: string[] }): Record<string, unknown> {
  if (values.name === undefined || values.address === undefined) throw new UsageError('add needs at least one --name and one --address');
  const body: Record<string, unknown> = { names: values.name, addresses: values.address };
  if (values.ttl !== undefined) body.ttl = wholeNumber('--ttl', values.ttl);
  if (values.lease !== undefined) body.lease = wholeNumber('--lease', values.lease);
  if (values.srv !== undefined) {
    body.srv = values.srv.map((text) => {
      const match = /^([A-Za-z0-9-]+):(\d+)(?:\/([A-Za-z0-9-]+))?$/.exec(text);
      if (match === null) throw new UsageError(`--srv "${text}" is not <service>:<port>[/<proto>], e.g. http:80/tcp`);
      return { service: match[1], port: Number(match[2]), protocol: match[3] ?? 'tcp' };
    });
  }
  return body;
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} "${text}" is not a whole number of seconds`);
  return Number(text);
}

export type Client = (method: string, path: string, body?: unknown) => Promise<unknown>;

export function apiClient(baseUrl: string, token: string | undefined): Client {
  return async (method, path, body) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new Error(`cannot reach ${baseUrl}: ${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message} (set --url or SEAMARK_URL)`);
    }
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok) {
      const message = (parsed as { message?: string } | undefined)?.message ?? text;
      throw new Error(`${response.status} ${response.statusText}: ${message}`);
    }
    return parsed;
  };
}

/** Columns padded to their widest cell. */
function recordTable(records: RecordView[]): string {
  const rows = [
    ['ID', 'NAMES', 'ADDRESSES', 'TTL', 'SRV', 'HEALTH', 'EXPIRES'],
    ...records.map((record) => [
      record.id,
      record.names.join(','),
      record.addresses.join(','),
      record.ttl === undefined ? '-' : String(record.ttl),
      record.srv.length === 0 ? '-' : record.srv.map((srv) => `${srv.service}:${srv.port}/${srv.protocol}`).join(','),
      record.healthy ? 'healthy' : 'failing',
      record.expiresAt ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}
