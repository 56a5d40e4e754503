// Every acknowledged write survives kill -9; an unreadable store stops start-up and is left untouched.
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
    it(`stops start-up on a ${what} record file, naming it, and leaves it untouched`, async () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'seamark-corrupt-')), 'data');
      mkdirSync(join(dataDir, 'records'), { recursive: true });
      const file = join(dataDir, 'records', 'db.json');
      writeFileSync(file, content);
      await assert.rejects(startSeamark({ config, dataDir }), (error: Error) => {
        assert.match(error.message, /exited with 1/);
        assert.ok(error.message.includes(file), error.message);
        assert.match(error.message, /unreadable/);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), content);
    });
  }
});
