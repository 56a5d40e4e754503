// Two nodes changing one hand-made record: each write is an etcd transaction on the record's mod revision as its
// node knows it, so a node that has not yet seen the other's change gets a conflict (the API's 409) and writes
// nothing, instead of undoing that change. Two record stores over a real etcd; what each has seen is fed by hand,
// as the subscriber feeds it, so one of them can be held behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { connectEtcd, etcdOptions, type EtcdClient } from '../../src/cluster/client.js';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/keys.js';
import { StoreConflictError, type StoredRecord } from '../../src/store/store.js';
import { startEtcd, type EtcdCluster } from './etcd.js';

interface Note extends StoredRecord {
  text: string;
}

describe('cluster mode: racing writes to one record', { timeout: 60000 }, () => {
  let etcd: EtcdCluster;
  let client: EtcdClient;
  const layout = new KeyLayout('/seamark-conflict/');
  const log = pino({ level: 'silent' });
  const storeOfNode = async () => {
    const store = new EtcdStore<Note>(client, layout, () => Promise.resolve(true), log);
    await store.load(() => undefined);
    const listed = await client.list(layout.records());
    store.replaceAll(listed.entries, listed.revision);
    return store;
  };

  before(async () => {
    etcd = await startEtcd(1);
    client = connectEtcd(etcdOptions({ etcd: etcd.endpoints }));
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('the node behind gets a conflict and writes nothing; once it has seen the change its write goes through', async () => {
    const first = await storeOfNode();
    await first.put({ id: 'web', text: 'v1' });
    const a = await storeOfNode();
    const b = await storeOfNode();
    await a.put({ id: 'web', text: 'v2 by A' });
    // B has not seen A's change yet: its write would undo it.
    await assert.rejects(b.put({ id: 'web', text: 'v2 by B' }), StoreConflictError);
    const stored = await client.list(layout.record('web'));
    assert.deepEqual(stored.entries.map((entry) => JSON.parse(entry.value) as Note), [{ id: 'web', text: 'v2 by A' }]);
    // A new record B believes absent, that another node created meanwhile: a conflict too.
    await a.put({ id: 'api', text: 'by A' });
    await assert.rejects(b.put({ id: 'api', text: 'by B' }), StoreConflictError);
    // B catches up (as its watch would): now it builds on the stored state.
    const listed = await client.list(layout.records());
    b.replaceAll(listed.entries, listed.revision);
    await b.put({ id: 'web', text: 'v3 by B' });
    assert.equal(JSON.parse((await client.list(layout.record('web'))).entries[0]!.value).text, 'v3 by B');
  });
});
