// `seamark records ...` against a running seamark, each change checked with dig.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dig } from '../helpers/dig.js';
import { MAIN, startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { digAddresses } from '../http/client.js';

const run = promisify(execFile);
const TOKEN = 'cli-test-token-0123456789';

describe('seamark records', () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({ config: { docker: 'off' }, env: { SEAMARK_TOKEN: TOKEN } });
  });
  after(async () => {
    await seamark.stop();
  });

  const cli = (args: string[], env: Record<string, string> = { SEAMARK_TOKEN: TOKEN }) =>
    run(process.execPath, [MAIN, 'records', ...args, '--url', `http://127.0.0.1:${seamark.httpPort}`], { env: { PATH: process.env.PATH ?? '', ...env } });

  it('adds, lists, renews and removes records, visible in DNS', async () => {
    const added = await cli(['add', '--id', 'db', '--name', 'db', '--name', 'postgres', '--address', '10.90.0.1', '--ttl', '60', '--lease', '600', '--srv', 'postgres:5432']);
    assert.match(added.stdout, /^ID\s+NAMES\s+ADDRESSES\s+TTL\s+SRV\s+HEALTH\s+EXPIRES\n/);
    assert.match(added.stdout, /db\s+db\.docker,postgres\.docker\s+10\.90\.0\.1\s+60\s+postgres:5432\/tcp\s+healthy/);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'postgres.docker'), ['10.90.0.1']);

    const listed = await cli(['list', '--json']);
    const records = JSON.parse(listed.stdout) as { id: string; names: string[] }[];
    assert.deepEqual(records.map((r) => r.id), ['db']);
    const table = await cli(['list']);
    assert.equal(table.stdout.trim().split('\n').length, 2);

    const renewed = await cli(['renew', 'db']);
    assert.match(renewed.stdout, /^renewed db until \d{4}-/);

    const removed = await cli(['rm', 'db']);
    assert.equal(removed.stdout.trim(), 'removed db');
    assert.equal((await dig(seamark.dnsPort, 'postgres.docker', 'A')).status, 'NXDOMAIN');
  });

  it('adds an alias and a wildcard with TXT, each answered by dig', async () => {
    await cli(['add', '--id', 'target', '--name', 'target', '--address', '10.90.0.7']);
    const alias = await cli(['add', '--id', 'alias', '--name', 'alias', '--cname', 'target']);
    assert.match(alias.stdout, /alias\s+alias\.docker\s+→ target\.docker/);
    assert.deepEqual((await dig(seamark.dnsPort, 'alias.docker', 'A')).answer.map((r) => `${r.type} ${r.data}`), ['CNAME target.docker.', 'A 10.90.0.7']);
    await cli(['add', '--id', 'wild', '--name', '*.wild', '--address', '10.90.0.8', '--txt', 'v=spf1 -all']);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'any.wild.docker'), ['10.90.0.8']);
    assert.deepEqual((await dig(seamark.dnsPort, 'any.wild.docker', 'TXT')).answer.map((r) => r.data), ['"v=spf1 -all"']);
    for (const id of ['alias', 'target', 'wild']) await cli(['rm', id]);
  });

  it('generates an id when none is given', async () => {
    const added = await cli(['add', '--name', 'anon', '--address', '10.90.0.2', '--json']);
    const record = JSON.parse(added.stdout) as { id: string };
    assert.match(record.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'anon.docker'), ['10.90.0.2']);
  });

  it("prints the API's error and exits 1: validation, missing token, unknown id", async () => {
    await assert.rejects(cli(['add', '--name', 'bad', '--address', '999.1.1.1']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /400 Bad Request: addresses\[0\]: "999\.1\.1\.1" is not an IPv4 or IPv6 address/);
      return true;
    });
    await assert.rejects(cli(['add', '--name', 'x', '--address', '10.0.0.1'], {}), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /401 Unauthorized/);
      return true;
    });
    await assert.rejects(cli(['rm', 'nobody']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /404 Not Found: no record with id "nobody"/);
      return true;
    });
  });

  it('never writes the token to the log', () => {
    assert.ok(seamark.logs.length > 0);
    assert.ok(!JSON.stringify(seamark.logs).includes(TOKEN));
    assert.ok(!seamark.stderr.join('').includes(TOKEN));
  });

  it('exits 2 with the usage on a bad command line', async () => {
    await assert.rejects(cli(['frobnicate']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /unknown subcommand "frobnicate"[\s\S]*Usage:/);
      return true;
    });
    await assert.rejects(cli(['add', '--name', 'x']), (error: { code: number; stderr: string }) => error.code === 2 && /--address/.test(error.stderr));
  });
});
