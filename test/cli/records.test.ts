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

  it('refuses an --id that exists unless --replace is given, and says when it replaced', async () => {
    await cli(['add', '--id', 'web', '--name', 'web', '--address', '10.90.1.1']);
    await assert.rejects(cli(['add', '--id', 'web', '--name', 'web', '--address', '10.90.1.2']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /record "web" exists; add --replace to replace it, or change some of its fields with: seamark records edit web/);
      return true;
    });
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'web.docker'), ['10.90.1.1'], 'the refused add changed nothing');
    const replaced = await cli(['add', '--id', 'web', '--replace', '--name', 'web', '--address', '10.90.1.2']);
    assert.match(replaced.stdout, /^replaced web\nID\s+NAMES/);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'web.docker'), ['10.90.1.2']);
    await cli(['rm', 'web']);
  });

  it('gets one record, and edits only the fields given', async () => {
    await cli(['add', '--id', 'cache', '--name', 'cache', '--address', '10.90.2.1', '--ttl', '60', '--lease', '600']);
    const got = await cli(['get', 'cache']);
    assert.match(got.stdout, /^ID\s+NAMES[\s\S]*\ncache\s+cache\.docker\s+10\.90\.2\.1\s+60\s/);
    const gotJson = JSON.parse((await cli(['get', 'cache', '--json'])).stdout) as { id: string; lease?: number };
    assert.equal(gotJson.lease, 600);

    const edited = await cli(['edit', 'cache', '--address', '10.90.2.2', '--address', '10.90.2.3', '--ttl', '90', '--lease', 'none', '--json']);
    const record = JSON.parse(edited.stdout) as { names: string[]; addresses: string[]; ttl?: number; lease?: number; expiresAt?: string };
    assert.deepEqual(record.names, ['cache.docker'], 'names not given stay');
    assert.deepEqual(record.addresses, ['10.90.2.2', '10.90.2.3']);
    assert.equal(record.ttl, 90);
    assert.equal(record.lease, undefined, '--lease none removes the lease');
    assert.equal(record.expiresAt, undefined);
    const answer = await dig(seamark.dnsPort, 'cache.docker', 'A');
    assert.deepEqual(answer.answer.map((r) => r.data).sort(), ['10.90.2.2', '10.90.2.3']);
    assert.equal(answer.answer[0]?.ttl, 90);

    await assert.rejects(cli(['edit', 'cache']), (error: { code: number; stderr: string }) => error.code === 2 && /edit needs at least one field/.test(error.stderr));
    await assert.rejects(cli(['edit', 'nobody', '--ttl', '5']), (error: { code: number; stderr: string }) => error.code === 1 && /404 Not Found: no record with id "nobody"/.test(error.stderr));
    await assert.rejects(cli(['get', 'nobody']), (error: { code: number; stderr: string }) => error.code === 1 && /404 Not Found/.test(error.stderr));
    await cli(['rm', 'cache']);
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
