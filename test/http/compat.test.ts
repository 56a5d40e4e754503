// DNSDock and Mesos-DNS routes answer in their original JSON shapes; operations endpoints; metrics count queries.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { api, digAddresses } from './client.js';

describe('compatibility and operations routes', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off', ttl: 30, upstreams: ['127.0.0.1:9'], hosts: [{ names: ['Filer'], addresses: ['10.81.0.1'], ttl: 60 }] } });

  describe('DNSDock', () => {
    it('adds a service the way DNSDock documents it (curl --data-ascii, any key case) and serves its names', async () => {
      // From DNSDock's README: curl http://dnsdock.docker/services/newid -X PUT --data-ascii '{"name": "foo", "image": "bar", "ips": ["8.8.8.8"], "ttl": 30}'
      const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/services/newid`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '{"Name": "foo", "IMAGE": "bar", "ips": ["10.70.0.1"], "ttl": 30, "aliases": ["foo.example"]}',
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'foo.bar.docker'), ['10.70.0.1']);
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'bar.docker'), ['10.70.0.1']);
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'foo.example.docker'), ['10.70.0.1']);
      assert.equal((await dig(seamark.dnsPort, 'foo.bar.docker', 'A')).answer[0]?.ttl, 30);

      const one = await api(seamark.httpPort, 'GET', '/services/newid');
      assert.deepEqual(one.body, { Name: 'foo', Image: 'bar', IPs: ['10.70.0.1'], TTL: 30, Aliases: ['foo.example'] });
      assert.deepEqual(Object.keys(JSON.parse(one.text)), ['Name', 'Image', 'IPs', 'TTL', 'Aliases'], 'the keys and their order of the Go struct');
      const all = await api(seamark.httpPort, 'GET', '/services');
      assert.deepEqual(all.body.newid, { Name: 'foo', Image: 'bar', IPs: ['10.70.0.1'], TTL: 30, Aliases: ['foo.example'] });
    });

    it('patches, sets the default TTL and deletes services', async () => {
      await api(seamark.httpPort, 'PUT', '/services/svc2', { name: 'web', image: 'nginx', ip: '10.70.0.2', ttl: -1 });
      assert.equal((await dig(seamark.dnsPort, 'web.nginx.docker', 'A')).answer[0]?.ttl, 30, 'ttl -1 is the server default');
      const patched = await api(seamark.httpPort, 'PATCH', '/services/svc2', { ips: ['10.70.0.3'] });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body, { Name: 'web', Image: 'nginx', IPs: ['10.70.0.3'], TTL: -1, Aliases: null });
      assert.match(patched.text, /"Aliases":null/);
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'web.nginx.docker'), ['10.70.0.3']);

      const setTtl = await fetch(`http://127.0.0.1:${seamark.httpPort}/set/ttl`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '10',
      });
      assert.equal(setTtl.status, 200);
      assert.equal((await dig(seamark.dnsPort, 'web.nginx.docker', 'A')).answer[0]?.ttl, 10);

      assert.equal((await api(seamark.httpPort, 'DELETE', '/services/svc2')).status, 200);
      assert.equal((await dig(seamark.dnsPort, 'web.nginx.docker', 'A')).status, 'NXDOMAIN');
      assert.equal((await api(seamark.httpPort, 'GET', '/services/svc2')).status, 404);
      assert.equal((await api(seamark.httpPort, 'PATCH', '/services/svc2', { ttl: 5 })).status, 404);
    });

    it('rejects unknown fields and bad addresses with a 400 naming the field', async () => {
      const unknown = await api(seamark.httpPort, 'PUT', '/services/bad', { name: 'x', image: 'y', ips: ['10.0.0.1'], colour: 'red' });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.field, 'colour');
      const address = await api(seamark.httpPort, 'PUT', '/services/bad', { name: 'x', image: 'y', ips: ['not-an-ip'] });
      assert.equal(address.status, 400);
      assert.equal(address.body.field, 'ips[0]');
      assert.match(address.body.message, /^ips\[0\]: "not-an-ip"/);
      assert.equal((await api(seamark.httpPort, 'GET', '/services/bad')).status, 404);
    });

    it('names DNSDock\'s own fields in every 400: ips[i], ip, name, image, aliases[i]', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ Name: 'x', Image: 'y', IPs: ['10.0.0.1', '10.0.0.300'] }, 'ips[1]'],
        [{ name: 'x', image: 'y', ips: ['10.0.0.1'], ip: 'nope' }, 'ip'],
        [{ name: 'bad!', image: 'y', ip: '10.0.0.1' }, 'name'],
        [{ name: 'x', image: 'bad!', ip: '10.0.0.1' }, 'name'],
        [{ image: 'bad!', ip: '10.0.0.1' }, 'image'],
        [{ name: 'x', image: 'y', ip: '10.0.0.1', ALIASES: ['ok', 'bad!'] }, 'aliases[1]'],
        [{ name: 'x', image: 'y', ip: '10.0.0.1', aliases: ['outside.elsewhere.'] }, 'aliases[0]'],
        [{ name: 'x', image: 'y' }, 'ips'],
      ];
      for (const [body, field] of cases) {
        const reply = await api(seamark.httpPort, 'PUT', '/services/fields', body);
        assert.equal(reply.status, 400, JSON.stringify(body));
        assert.equal(reply.body.field, field, JSON.stringify(body));
        assert.ok(reply.body.message.startsWith(`${field}: `), reply.body.message);
      }
      await api(seamark.httpPort, 'PUT', '/services/fields', { name: 'x', image: 'y', ip: '10.0.0.1' });
      const patched = await api(seamark.httpPort, 'PATCH', '/services/fields', { IPs: ['10.0.0.2', 'x'] });
      assert.equal(patched.body.field, 'ips[1]');
      assert.equal((await api(seamark.httpPort, 'PATCH', '/services/fields', { aliases: ['bad!'] })).body.field, 'aliases[0]');
      assert.equal((await api(seamark.httpPort, 'DELETE', '/services/fields')).status, 200);
    });

    it('reads back what it wrote: a DNSDock client can PUT the Go-shaped service it got, null aliases included', async () => {
      await api(seamark.httpPort, 'PUT', '/services/echo', { name: 'echo', image: 'img', ip: '10.70.0.9' });
      const got = await api(seamark.httpPort, 'GET', '/services/echo');
      assert.deepEqual(got.body, { Name: 'echo', Image: 'img', IPs: ['10.70.0.9'], TTL: -1, Aliases: null });
      const again = await api(seamark.httpPort, 'PUT', '/services/echo', { ...got.body, TTL: 12 });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.body, { ...got.body, TTL: 12 });
      assert.equal((await dig(seamark.dnsPort, 'echo.img.docker', 'A')).answer[0]?.ttl, 12);
      assert.equal((await api(seamark.httpPort, 'DELETE', '/services/echo')).status, 200);
    });
  });

  describe('Mesos-DNS', () => {
    before(async () => {
      await api(seamark.httpPort, 'PUT', '/v1/records/nginx-1', {
        names: ['nginx.marathon'],
        addresses: ['10.80.0.1'],
        srv: [{ service: 'nginx', protocol: 'tcp', port: 31666 }],
      });
    });

    it('GET /v1/version', async () => {
      const reply = await api(seamark.httpPort, 'GET', '/v1/version');
      assert.deepEqual(Object.keys(reply.body).sort(), ['Service', 'URL', 'Version']);
      assert.equal(reply.body.Version, '0.1.0');
    });

    it('GET /v1/config: the effective configuration', async () => {
      const reply = await api(seamark.httpPort, 'GET', '/v1/config');
      assert.equal(reply.body.Domain, 'docker');
      assert.equal(reply.body.TTL, 30);
      assert.equal(reply.body.Port, seamark.dnsPort);
      assert.equal(reply.body.HttpPort, seamark.httpPort);
      assert.deepEqual(reply.body.Resolvers, ['127.0.0.1:9']);
      assert.equal(reply.body.DnsOn, true);
      assert.equal(reply.body.HttpOn, true);
      assert.equal(reply.body.SOAMname, 'ns.docker.');
      // The configured hosts as loaded (normalised), though seamark keeps them only in its registry.
      assert.deepEqual(reply.body.Seamark.hosts, [{ names: ['filer.docker'], addresses: ['10.81.0.1'], ttl: 60, srv: [] }]);
      assert.equal(reply.body.Seamark.ttl, 30);
    });

    it('GET /v1/hosts/{host}: [{host, ip}], and Mesos-DNS\'s one entry of empty strings for a miss', async () => {
      // Mesos-DNS docs: [{"host":"nginx.marathon.mesos.","ip":"10.249.219.155"}]
      assert.deepEqual((await api(seamark.httpPort, 'GET', '/v1/hosts/nginx.marathon.docker')).body, [{ host: 'nginx.marathon.docker.', ip: '10.80.0.1' }]);
      assert.deepEqual((await api(seamark.httpPort, 'GET', '/v1/hosts/nginx.marathon')).body, [{ host: 'nginx.marathon.docker.', ip: '10.80.0.1' }]);
      // Mesos-DNS (resolver.go, RestHost): a miss is [{"host":"","ip":""}], status 200.
      const miss = await api(seamark.httpPort, 'GET', '/v1/hosts/nobody.docker');
      assert.equal(miss.status, 200);
      assert.equal(miss.text, '[{"host":"","ip":""}]');
    });

    it('GET /v1/services/{service}: [{service (as asked), host, ip, port}], port a string, and Mesos-DNS\'s empty entry for a miss', async () => {
      // Mesos-DNS docs: [{"service":"_nginx._tcp.marathon.mesos","host":"nginx-s0.marathon.mesos.","ip":"10.190.238.173","port":"31666"}]
      const reply = await api(seamark.httpPort, 'GET', '/v1/services/_nginx._tcp.nginx.marathon.docker');
      assert.deepEqual(reply.body, [{ service: '_nginx._tcp.nginx.marathon.docker', host: 'nginx.marathon.docker.', ip: '10.80.0.1', port: '31666' }]);
      const asked = await api(seamark.httpPort, 'GET', '/v1/services/_NGINX._tcp.nginx.marathon.docker.');
      assert.deepEqual(asked.body, [{ service: '_NGINX._tcp.nginx.marathon.docker.', host: 'nginx.marathon.docker.', ip: '10.80.0.1', port: '31666' }]);
      // Mesos-DNS (RestService): a miss is [{"service":"","host":"","ip":"","port":""}].
      const miss = await api(seamark.httpPort, 'GET', '/v1/services/_none._tcp.docker');
      assert.equal(miss.status, 200);
      assert.equal(miss.text, '[{"service":"","host":"","ip":"","port":""}]');
    });

    it('GET /v1/axfr: every record served, by name', async () => {
      const reply = await api(seamark.httpPort, 'GET', '/v1/axfr');
      // Mesos-DNS's models.AXFR, in its field order.
      assert.deepEqual(Object.keys(reply.body), ['TTL', 'Serial', 'RefreshSeconds', 'Mname', 'Rname', 'Domain', 'Records']);
      assert.deepEqual(Object.keys(reply.body.Records), ['As', 'AAAAs', 'SRVs']);
      assert.equal(reply.body.TTL, 30);
      assert.equal(reply.body.RefreshSeconds, 60);
      assert.equal(reply.body.Domain, 'docker');
      assert.equal(typeof reply.body.Serial, 'number');
      assert.deepEqual(reply.body.Records.As['nginx.marathon.docker.'], ['10.80.0.1']);
      assert.deepEqual(reply.body.Records.SRVs['_nginx._tcp.nginx.marathon.docker.'], ['nginx.marathon.docker.:31666']);
    });
  });

  describe('operations', () => {
    it('/healthz and /readyz answer 200 once started', async () => {
      assert.deepEqual((await api(seamark.httpPort, 'GET', '/healthz')).body, { status: 'ok' });
      assert.deepEqual((await api(seamark.httpPort, 'GET', '/readyz')).body, { ready: true, pending: [], problems: [] });
    });

    it('/metrics parses as Prometheus text and counts the queries made', async () => {
      const count = async () => {
        const text = (await api(seamark.httpPort, 'GET', '/metrics')).text;
        return parsePrometheus(text);
      };
      const before = await count();
      for (let i = 0; i < 3; i++) await dig(seamark.dnsPort, 'nginx.marathon.docker', 'A');
      await dig(seamark.dnsPort, 'nothing-here.docker', 'AAAA');
      const metrics = await count();
      const value = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;
      assert.equal(value(metrics, 'seamark_dns_queries_total{type="A",rcode="NOERROR"}') - value(before, 'seamark_dns_queries_total{type="A",rcode="NOERROR"}'), 3);
      assert.equal(value(metrics, 'seamark_dns_queries_total{type="AAAA",rcode="NXDOMAIN"}') - value(before, 'seamark_dns_queries_total{type="AAAA",rcode="NXDOMAIN"}'), 1);
      assert.ok(value(metrics, 'seamark_dns_answer_seconds_count') >= 4);
      assert.equal(value(metrics, 'seamark_records{source="manual"}'), 2);
      assert.ok(value(metrics, 'seamark_http_requests_total{method="GET",route="/metrics",status="200"}') >= 1);
    });
  });
});

/** Parses Prometheus text exposition: every sample line must be `name{labels} value`; comments must be HELP/TYPE. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /, line);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    samples.set(match[1] ?? '', Number(match[2]));
  }
  return samples;
}
