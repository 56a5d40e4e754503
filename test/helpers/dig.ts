// Runs the real `dig` (bind9-dnsutils) and reads its output into sections.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** EDNS version line, when the reply had an OPT record. */
  edns?: string;
  output: string;
}

/** `dig @127.0.0.1 -p <port> <args…>` with short timeouts and no retries. */
export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], { timeout: 20000 });
  return parseDig(stdout);
}

export function parseDig(output: string): DigResult {
  const result: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], output };
  let section: DigRecord[] | undefined;
  for (const line of output.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) result.status = status[1] ?? '';
    const flags = /;; flags: ([^;]*);/.exec(line);
    if (flags) result.flags = (flags[1] ?? '').trim().split(/\s+/);
    const edns = /; EDNS: (.*)/.exec(line);
    if (edns) result.edns = edns[1];
    if (line.startsWith(';; ANSWER SECTION')) section = result.answer;
    else if (line.startsWith(';; AUTHORITY SECTION')) section = result.authority;
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = result.additional;
    else if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') section = undefined;
    } else if (section) {
      const [name = '', ttl = '0', , type = '', ...data] = line.split(/\s+/);
      section.push({ name, ttl: Number(ttl), type, data: data.join(' ') });
    }
  }
  return result;
}
