// DNSDock writes on a real seamark: every record a route acknowledges loads
// again after kill -9; PATCH is a read-modify-write under the record's lock
// that changes only the fields it names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark, withSeamark } from '../helpers/seamark.js';
import { api, digAddresses } from './client.js';

const config = { docker: 'off' };
const aliases = (n: number) => Array.from({ length: n }, (_, i) => `alias-${i}`);

describe('DNSDock writes', () => {
  it('refuses a service that would store more than 64 names or addresses, so every acknowledged write loads after kill -9', async () => {
    const first = await startSeamark({ config });
    const tooManyNames = await api(first.httpPort, 'PUT', '/services/many', { name: 'x', image: 'y', ip: '10.61.0.1', aliases: aliases(64) });
    assert.equal(tooManyNames.status, 400, tooManyNames.text);
    assert.equal(tooManyNames.body.field, 'aliases');
    assert.match(tooManyNames.body.message, /64/);
    const ips = Array.from({ length: 64 }, (_, i) => `10.62.0.${i + 1}`);
    const tooManyAddresses = await api(first.httpPort, 'PUT', '/services/wide', { name: 'x', image: 'y', ips, ip: '10.62.1.1' });
    assert.equal(tooManyAddresses.status, 400, tooManyAddresses.text);
    assert.equal(tooManyAddresses.body.field, 'ips');
    // A ttl-only PATCH on a record with 64 names keeps its 64 names.
    const names = aliases(64);
    assert.equal((await api(first.httpPort, 'PUT', '/v1/records/full', { names, addresses: ['10.63.0.1'] })).status, 201);
    const patched = await api(first.httpPort, 'PATCH', '/services/full', { ttl: 5 });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await api(first.httpPort, 'GET', '/v1/records/full')).body.names.length, 64);
    first.process.kill('SIGKILL');
    await first.stop();

    await withSeamark({ config, dataDir: first.dataDir }, async (second) => {
      const record = (await api(second.httpPort, 'GET', '/v1/records/full')).body;
      assert.equal(record.ttl, 5);
      assert.equal(record.names.length, 64);
      assert.deepEqual(await digAddresses(second.dnsPort, 'alias-63.docker'), ['10.63.0.1']);
      assert.equal((await api(second.httpPort, 'GET', '/v1/records/many')).status, 404);
      assert.deepEqual((await api(second.httpPort, 'GET', '/readyz')).body.problems, []);
    });
  });

  it('loses no change when PATCHes race, and a PATCH racing a DELETE never brings the record back', async () => {
    const dataDir = await withSeamark({ config }, async (seamark) => {
      for (let round = 0; round < 20; round++) {
        const id = `race-${round}`;
        assert.equal((await api(seamark.httpPort, 'PUT', `/services/${id}`, { name: 'app', image: `img${round}`, ip: '10.64.0.1' })).status, 200);
        const [ttl, renamed] = await Promise.all([
          api(seamark.httpPort, 'PATCH', `/services/${id}`, { ttl: 42 }),
          api(seamark.httpPort, 'PATCH', `/services/${id}`, { aliases: [`extra-${round}`] }),
        ]);
        assert.equal(ttl.status, 200);
        assert.equal(renamed.status, 200);
        const service = (await api(seamark.httpPort, 'GET', `/services/${id}`)).body;
        assert.equal(service.TTL, 42, `round ${round}: the ttl change was lost`);
        assert.deepEqual(service.Aliases, [`extra-${round}`], `round ${round}: the alias change was lost`);
      }
      for (let round = 0; round < 20; round++) {
        const id = `gone-${round}`;
        await api(seamark.httpPort, 'PUT', `/services/${id}`, { name: 'gone', image: `gone-img${round}`, ip: '10.65.0.1' });
        const [removed, patched] = await Promise.all([
          api(seamark.httpPort, 'DELETE', `/services/${id}`),
          api(seamark.httpPort, 'PATCH', `/services/${id}`, { ttl: 7 }),
        ]);
        assert.equal(removed.status, 200);
        assert.ok(patched.status === 200 || patched.status === 404, `PATCH answered ${patched.status}`);
        assert.equal((await api(seamark.httpPort, 'GET', `/services/${id}`)).status, 404, `round ${round}: the deleted service came back`);
        assert.deepEqual((await dig(seamark.dnsPort, `gone-img${round}.docker`, 'A')).answer, []);
      }
      return seamark.dataDir;
    });
    await withSeamark({ config, dataDir }, async (restarted) => {
      const ids = Object.keys((await api(restarted.httpPort, 'GET', '/services')).body);
      assert.deepEqual(ids.filter((id) => id.startsWith('gone-')), [], 'a deleted service is back on disk');
    });
  });

  it('changes only the fields a PATCH names: no renaming, no lease renewal, and no 400 for an id that is not a name', async () => {
    await withSeamark({ config }, async (seamark) => {
      const created = await api(seamark.httpPort, 'PUT', '/v1/records/web-vm', { names: ['web'], addresses: ['10.66.0.1'], srv: [{ service: 'http', port: 80 }], lease: 600 });
      assert.equal(created.status, 201);
      const patched = await api(seamark.httpPort, 'PATCH', '/services/web-vm', { ttl: 9 });
      assert.equal(patched.status, 200, patched.text);
      const record = (await api(seamark.httpPort, 'GET', '/v1/records/web-vm')).body;
      assert.deepEqual(record.names, ['web.docker']);
      assert.equal(record.ttl, 9);
      assert.equal(record.expiresAt, created.body.expiresAt, 'a ttl PATCH renewed the lease');
      const srv = await dig(seamark.dnsPort, '_http._tcp.web.docker', 'SRV');
      assert.deepEqual(srv.answer.map((r) => r.data), ['0 0 80 web.docker.']);
      assert.deepEqual((await dig(seamark.dnsPort, 'web-vm.docker', 'A')).answer, []);

      // An id with an underscore is a valid id but not a valid host name.
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/host_1', { names: ['host1'], addresses: ['10.66.0.2'] })).status, 201);
      const underscore = await api(seamark.httpPort, 'PATCH', '/services/host_1', { ttl: 3 });
      assert.equal(underscore.status, 200, underscore.text);

      // After a /v1/records rename the old DNSDock names stay gone.
      await api(seamark.httpPort, 'PUT', '/services/svc', { name: 'old', image: 'thing', ip: '10.66.0.3' });
      assert.equal((await api(seamark.httpPort, 'PATCH', '/v1/records/svc', { names: ['new-name'] })).status, 200);
      assert.equal((await api(seamark.httpPort, 'PATCH', '/services/svc', { ttl: 4 })).status, 200);
      assert.deepEqual((await api(seamark.httpPort, 'GET', '/v1/records/svc')).body.names, ['new-name.docker']);
      assert.deepEqual((await dig(seamark.dnsPort, 'thing.docker', 'A')).answer, []);

      const missing = await api(seamark.httpPort, 'PATCH', '/services/nobody', { ttl: 4 });
      assert.equal(missing.status, 404);
    });
  });
});
