// Every acknowledged write survives kill -9; an unreadable record file is reported and left untouched while the rest is served.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark } from '../helpers/seamark.js';
import { api } from '../http/client.js';

const config = { docker: 'off' };

describe('durable store', () => {
  it('keeps every write that got a 2xx across kill -9, and DNS answers for each after restart', async () => {
    const first = await startSeamark({ config });
    const acknowledged = new Map<string, string>();
    const total = 400;
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < total && !killed) {
        const i = next++;
        const address = `10.50.${Math.floor(i / 250)}.${(i % 250) + 1}`;
        try {
          const reply = await api(first.httpPort, 'PUT', `/v1/records/host-${i}`, { names: [`host-${i}`], addresses: [address] });
          if (reply.status >= 200 && reply.status < 300) acknowledged.set(`host-${i}`, address);
        } catch {
          // The connection died with the process: this write was never acknowledged.
        }
        if (acknowledged.size >= 150 && !killed) {
          killed = true;
          first.process.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await first.stop();
    assert.ok(acknowledged.size >= 150, `only ${acknowledged.size} writes acknowledged before the kill`);
    assert.ok(acknowledged.size < total, 'the kill came mid-stream');

    const second = await startSeamark({ config, dataDir: first.dataDir });
    try {
      const records = (await api(second.httpPort, 'GET', '/v1/records')).body as { id: string; addresses: string[] }[];
      const stored = new Map(records.map((record) => [record.id, record.addresses[0]]));
      for (const [id, address] of acknowledged) assert.equal(stored.get(id), address, `acknowledged write ${id} lost`);
      const ids = [...acknowledged.keys()];
      for (let i = 0; i < ids.length; i += 10) {
        await Promise.all(
          ids.slice(i, i + 10).map(async (id) => {
            const answer = await dig(second.dnsPort, `${id}.docker`, 'A');
            assert.deepEqual(answer.answer.map((r) => r.data), [acknowledged.get(id)], `${id}.docker in DNS`);
          }),
        );
      }
    } finally {
      await second.stop();
    }
  });

  for (const [what, content] of [
    ['garbled', 'this is not json {{{'],
    ['truncated', '{"version": 1, "record": {"id": "db", "names": ["db.docker"], "addr'],
    ['well-formed but not a record', '{"version": 1, "record": {"id": "db", "names": "db.docker"}}'],
  ] as const) {
    it(`serves every other record past a ${what} record file, reports it on /readyz, the log and /metrics, and never touches it`, async () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'seamark-corrupt-')), 'data');
      mkdirSync(join(dataDir, 'records'), { recursive: true });
      const file = join(dataDir, 'records', 'db.json');
      writeFileSync(file, content);
      writeFileSync(
        join(dataDir, 'records', 'web.json'),
        JSON.stringify({ version: 1, record: { id: 'web', names: ['web.docker'], addresses: ['10.77.0.1'], srv: [], createdAt: 'x', updatedAt: 'x' } }),
      );
      const seamark = await startSeamark({ config, dataDir });
      try {
        assert.deepEqual((await dig(seamark.dnsPort, 'web.docker', 'A')).answer.map((r) => r.data), ['10.77.0.1']);
        const ready = await api(seamark.httpPort, 'GET', '/readyz');
        assert.equal(ready.status, 200);
        assert.equal(ready.body.problems.length, 1);
        assert.ok(ready.body.problems[0].includes(file), ready.body.problems[0]);
        assert.match(ready.body.problems[0], /unreadable/);
        assert.ok(seamark.logs.some((line) => line.level === 50 && String(line.msg).includes(file)), 'an error log line names the file');
        assert.match((await api(seamark.httpPort, 'GET', '/metrics')).text, /^seamark_store_unreadable_records 1$/m);
        // Writing that id would overwrite the file: refused until an operator repairs or moves it.
        const put = await api(seamark.httpPort, 'PUT', '/v1/records/db', { names: ['db'], addresses: ['10.77.0.2'] });
        assert.equal(put.status, 409);
        assert.ok(put.body.message.includes(file), put.body.message);
        assert.equal((await api(seamark.httpPort, 'PUT', '/services/db', { name: 'db', image: 'pg', ip: '10.77.0.2' })).status, 409);
        assert.equal((await api(seamark.httpPort, 'DELETE', '/v1/records/db')).status, 409);
      } finally {
        await seamark.stop();
      }
      assert.equal(readFileSync(file, 'utf8'), content);
    });
  }
});
