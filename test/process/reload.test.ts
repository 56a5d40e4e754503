// Reloading the configuration (SIGHUP, what `systemctl reload` sends) on a running seamark: what may change live
// changes, on the same sockets, with no query lost; a bad file changes nothing; a restart-only change is named.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { dig } from '../helpers/dig.js';
import { startDnsmasq, type RunningDnsmasq } from '../helpers/dnsmasq.js';
import { freePort, MAIN, startSeamark, type RunningSeamark } from '../helpers/seamark.js';

const run = promisify(execFile);

/** Waits until a log line whose msg starts with `prefix` appears (after the first `skip` such lines). */
async function logLine(seamark: RunningSeamark, prefix: string, skip = 0): Promise<Record<string, unknown>> {
  for (let waited = 0; waited < 10000; waited += 50) {
    const found = seamark.logs.filter((entry) => String(entry.msg).startsWith(prefix));
    if (found.length > skip) return found[skip] as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no log line "${prefix}…" within 10 s`);
}

for (const workers of [1, 2]) {
  describe(`reload with ${workers === 1 ? 'the DNS thread' : 'two DNS worker processes'}`, () => {
    let oldUpstream: RunningDnsmasq;
    let newUpstream: RunningDnsmasq;
    let seamark: RunningSeamark;
    const base = () => ({ dns: [`127.0.0.1:${seamark.dnsPort}`], http: `127.0.0.1:${seamark.httpPort}`, dataDir: seamark.dataDir, logLevel: 'debug', docker: 'off', workers });

    before(async () => {
      oldUpstream = await startDnsmasq({ 'outside.example': '192.0.2.1' });
      newUpstream = await startDnsmasq({ 'outside.example': '192.0.2.2' });
      seamark = await startSeamark({
        config: { docker: 'off', workers, ttl: 30, upstreams: [`127.0.0.1:${oldUpstream.port}`], hosts: [{ names: ['web'], addresses: ['10.9.0.1'] }] },
      });
    });
    after(async () => {
      await seamark?.stop();
      await oldUpstream?.stop();
      await newUpstream?.stop();
    });

    test('SIGHUP while queries run: none is lost, and the new hosts, TTL and upstream answer', async () => {
      assert.equal((await dig(seamark.dnsPort, 'outside.example', 'A')).answer[0]?.data, '192.0.2.1');
      const lost: string[] = [];
      let answered = 0;
      let answeredBefore = 0;
      let running = true;
      const ask = async (name: string) => {
        while (running) {
          const result = await dig(seamark.dnsPort, name, 'A').catch((error: Error) => ({ status: error.message, answer: [] }));
          if (result.status !== 'NOERROR' || result.answer.length === 0) lost.push(`${name}: ${result.status}`);
          else answered++;
        }
      };
      const askers = [ask('web.docker'), ask('web.docker'), ask('outside.example')];
      while (answered < 3) await new Promise((resolve) => setTimeout(resolve, 20));
      writeFileSync(
        seamark.configFile,
        stringify({ ...base(), ttl: 7, upstreams: [`127.0.0.1:${newUpstream.port}`], hosts: [{ names: ['web'], addresses: ['10.9.0.1'] }, { names: ['api'], addresses: ['10.9.0.2'] }] }),
      );
      answeredBefore = answered;
      process.kill(seamark.pid, 'SIGHUP');
      const reloaded = await logLine(seamark, 'configuration reloaded');
      const answeredAtReload = answered;
      while (answered < answeredAtReload + 3) await new Promise((resolve) => setTimeout(resolve, 20));
      running = false;
      await Promise.all(askers);
      assert.deepEqual(lost, [], 'every query during the reload is answered');
      assert.ok(answeredBefore > 0 && answered > answeredBefore, `queries ran before, during and after the reload (${answeredBefore}, ${answered})`);
      assert.deepEqual(reloaded.changed, ['hosts', 'ttl', 'upstreams']);
      assert.deepEqual(reloaded.needRestart, []);

      const web = await dig(seamark.dnsPort, 'web.docker', 'A');
      assert.equal(web.answer[0]?.ttl, 7, 'the new TTL');
      assert.equal((await dig(seamark.dnsPort, 'api.docker', 'A')).answer[0]?.data, '10.9.0.2', 'the new host');
      assert.equal((await dig(seamark.dnsPort, 'outside.example', 'A')).answer[0]?.data, '192.0.2.2', 'the new upstream');
      assert.equal(seamark.process.exitCode, null, 'still running');
      assert.equal(seamark.logs.filter((entry) => String(entry.msg).startsWith('DNS worker died')).length, 0);
    });

    test('a bad file is refused with a log line naming the problem, and the running configuration stays', async () => {
      writeFileSync(seamark.configFile, stringify({ ...base(), ttl: -1, hosts: [] }));
      process.kill(seamark.pid, 'SIGHUP');
      const refused = await logLine(seamark, 'configuration not reloaded');
      assert.match(String(refused.msg), /ttl = -1: must be an integer from 0/);
      assert.equal(refused.level, 50);
      assert.equal((await dig(seamark.dnsPort, 'web.docker', 'A')).answer[0]?.ttl, 7, 'the TTL of before');
      assert.equal((await dig(seamark.dnsPort, 'api.docker', 'A')).answer[0]?.data, '10.9.0.2', 'the hosts of before');
    });

    test('a change that needs a restart is named in the reload log line and not applied', async () => {
      const otherPort = await freePort();
      writeFileSync(
        seamark.configFile,
        stringify({ ...base(), dns: [`127.0.0.1:${otherPort}`], zones: ['docker', 'other'], workers: workers + 1, ttl: 7, upstreams: [`127.0.0.1:${newUpstream.port}`], logLevel: 'info', hosts: [{ names: ['web.docker'], addresses: ['10.9.0.1'] }, { names: ['api.docker'], addresses: ['10.9.0.2'] }] }),
      );
      process.kill(seamark.pid, 'SIGHUP');
      const reloaded = await logLine(seamark, 'configuration reloaded', 1);
      assert.deepEqual(reloaded.changed, ['logLevel']);
      assert.deepEqual(reloaded.needRestart, ['dns', 'workers', 'zones']);
      assert.match(String(reloaded.msg), /dns, workers, zones changed but take effect only after a restart/);
      assert.equal((await dig(seamark.dnsPort, 'web.docker', 'A')).answer[0]?.data, '10.9.0.1', 'still on its old port and zone');
      // The new log level: debug lines stop.
      const before = seamark.logs.length;
      await dig(seamark.dnsPort, 'nothing.example', 'A');
      process.kill(seamark.pid, 'SIGHUP');
      await logLine(seamark, 'configuration reloaded', 2);
      assert.equal(seamark.logs.slice(before).filter((entry) => (entry.level as number) < 30).length, 0, 'no debug line after logLevel: info');
    });
  });
}

describe('seamark --check-config', () => {
  test('a good configuration: exit 0, without binding a port (the DNS port is taken and it does not matter)', async () => {
    const port = await freePort();
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(port, '127.0.0.1', resolve));
    try {
      const file = `/tmp/seamark-check-${process.pid}.yaml`;
      writeFileSync(file, stringify({ dns: [`127.0.0.1:${port}`], ttl: 9, docker: 'off' }));
      const { stdout } = await run(process.execPath, [MAIN, '--check-config', '--config', file]);
      assert.equal(stdout.trim(), `configuration OK: ${file}`);
    } finally {
      taken.close();
    }
  });

  test('a bad configuration: exit 2 and the problem on stderr', async () => {
    const file = `/tmp/seamark-check-bad-${process.pid}.yaml`;
    writeFileSync(file, stringify({ ttl: 'soon', docker: 'off' }));
    const failed = await run(process.execPath, [MAIN, '--check-config', '--config', file]).then(
      () => assert.fail('exit 0'),
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /ttl = "soon": must be an integer/);
    assert.equal(failed.stdout, '');
  });
});

describe('reload of the API token', () => {
  test('the new token is required for writes at once; the old one is refused', async () => {
    const oldToken = 'old-token-0123456789';
    const newToken = 'new-token-9876543210';
    const seamark = await startSeamark({ config: { docker: 'off', upstreams: [], token: oldToken } });
    try {
      const put = (token: string) =>
        fetch(`http://127.0.0.1:${seamark.httpPort}/v1/records/db1`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ names: ['db1'], addresses: ['10.9.0.9'] }),
        }).then((reply) => reply.status);
      assert.equal(await put(oldToken), 201);
      writeFileSync(seamark.configFile, stringify({ dns: [`127.0.0.1:${seamark.dnsPort}`], http: `127.0.0.1:${seamark.httpPort}`, dataDir: seamark.dataDir, logLevel: 'debug', docker: 'off', upstreams: [], token: newToken }));
      process.kill(seamark.pid, 'SIGHUP');
      const reloaded = await logLine(seamark, 'configuration reloaded');
      assert.deepEqual(reloaded.changed, ['token']);
      assert.doesNotMatch(JSON.stringify(seamark.logs), new RegExp(`${oldToken}|${newToken}`), 'no token in the log');
      assert.equal(await put(oldToken), 401);
      assert.equal(await put(newToken), 200);
    } finally {
      await seamark.stop();
    }
  });
});
