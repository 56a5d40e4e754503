// `seamark lookup <name> [type]`: asks the running seamark what its DNS
// server answers (GET /v1/lookup) and prints it as dig would, each record
// followed by the instance it comes from.
import { parseArgs } from 'node:util';
import { apiClient, DEFAULT_TIMEOUT_SECONDS, type CliIo } from './records.js';

const USAGE = `Usage:
  seamark lookup <name> [type] [--from <address>] [--json]

  name   a name (relative to the first zone, or ending in a dot to ask it as is) or an IP address (asks its PTR)
  type   A (default), AAAA, SRV, PTR, SOA, NS, ANY, TXT, MX…, TYPE<n>

Options:
  --url <url>      seamark's HTTP API; env SEAMARK_URL [http://127.0.0.1:8080]
  --token <token>  bearer token (needed from beyond loopback); env SEAMARK_TOKEN
  --from <address> ask as the client at this address would: a container gets its targets' addresses on the
                   networks they share (README "Networks") [this command's own address]
  --json           print the API's JSON instead of dig's layout

Exit code: 0 when the answer has records, 3 when it has none (NXDOMAIN, NODATA, forwarded), 1 on an API error, 2 on a usage error.`;

export async function runLookupCommand(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { url: { type: 'string' }, token: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    io.err(`seamark lookup: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.out(USAGE);
    return 0;
  }
  const [name, type, ...extra] = positionals;
  if (name === undefined || extra.length > 0) {
    io.err(`seamark lookup: ${name === undefined ? 'give the name to look up' : `unexpected "${extra.join(' ')}"`}\n\n${USAGE}`);
    return 2;
  }
  const client = apiClient((values.url ?? env.SEAMARK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''), values.token ?? env.SEAMARK_TOKEN, Number(env.SEAMARK_TIMEOUT ?? DEFAULT_TIMEOUT_SECONDS) || DEFAULT_TIMEOUT_SECONDS);
  try {
    const query = `?name=${encodeURIComponent(name)}${type === undefined ? '' : `&type=${encodeURIComponent(type)}`}${values.from === undefined ? '' : `&from=${encodeURIComponent(values.from)}`}`;
    const result = (await client('GET', `/v1/lookup${query}`)).body as { text: string; answer: unknown[] };
    io.out(values.json === true ? JSON.stringify(result, null, 2) : result.text);
    return result.answer.length > 0 ? 0 : 3;
  } catch (error) {
    io.err(`seamark lookup: ${(error as Error).message}`);
    return 1;
  }
}
