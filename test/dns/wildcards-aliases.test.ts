// Wildcards (RFC 4592), hand-made CNAME and TXT records over real sockets, read with dig; a real dnsmasq is the
// upstream a CNAME out of the zones is forwarded to.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startDnsmasq, type RunningDnsmasq } from '../helpers/dnsmasq.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api } from '../http/client.js';

/** Each record of a section as "owner type data". */
const lines = (records: { name: string; type: string; data: string }[]) => records.map((r) => `${r.name} ${r.type} ${r.data}`);

describe('wildcards, CNAME and TXT over DNS', () => {
  let seamark: RunningSeamark;
  let upstream: RunningDnsmasq;
  let port: number;
  before(async () => {
    // hop.example.com is an alias of back.docker upstream: a chain that comes back into seamark's zone.
    upstream = await startDnsmasq({ 'db1.prod.example.com': '192.0.2.10', 'back.docker': '192.0.2.99' }, ['--cname=hop.example.com,back.docker']);
    seamark = await startSeamark({
      config: { docker: 'off', zones: ['docker'], upstreams: [`127.0.0.1:${upstream.port}`], forwardAllow: ['127.0.0.1/32'], axfrAllow: ['127.0.0.1/32'] },
    });
    port = seamark.dnsPort;
    const records: [string, unknown][] = [
      ['proxy', { names: ['proxy', '*.app'], addresses: ['10.5.0.9'], txt: ['served by the proxy'] }],
      ['sub', { names: ['sub.app'], addresses: ['10.5.0.1'] }],
      ['deep', { names: ['deep.ent.app'], addresses: ['10.5.0.2'] }],
      ['db1', { names: ['db1'], addresses: ['10.5.0.5'], txt: ['v=spf1 -all', 'k'.repeat(400)] }],
      ['db', { names: ['db'], cname: 'db1' }],
      ['gone', { names: ['gone'], cname: 'nothere.docker' }],
      ['ext', { names: ['legacy'], cname: 'db1.prod.example.com' }],
      ['back', { names: ['back'], addresses: ['10.5.0.99'] }],
      ['hop', { names: ['hop'], cname: 'hop.example.com' }],
    ];
    for (const [id, body] of records) {
      const put = await api(seamark.httpPort, 'PUT', `/v1/records/${id}`, body);
      assert.ok(put.status < 300, `${id}: ${put.text}`);
    }
  });
  after(async () => {
    await seamark?.stop();
    await upstream?.stop();
  });

  test('RFC 4592: a wildcard answers names below it that do not exist, one label or several, with the question as owner', async () => {
    for (const name of ['anything.app.docker', 'a.b.app.docker']) {
      const answer = await dig(port, name, 'A');
      assert.equal(answer.status, 'NOERROR');
      assert.ok(answer.flags.includes('aa'));
      assert.deepEqual(lines(answer.answer), [`${name}. A 10.5.0.9`]);
    }
    // Asked twice: an answer the cache does not keep is served again from the zone, the same.
    assert.deepEqual(lines((await dig(port, 'anything.app.docker', 'A')).answer), ['anything.app.docker. A 10.5.0.9']);
    assert.deepEqual(lines((await dig(port, 'x.app.docker', 'TXT')).answer), ['x.app.docker. TXT "served by the proxy"']);
  });

  test('RFC 4592: the name that exists wins, nothing below it is covered, an empty non-terminal is NODATA, another type is NODATA', async () => {
    assert.deepEqual(lines((await dig(port, 'sub.app.docker', 'A')).answer), ['sub.app.docker. A 10.5.0.1']);
    assert.equal((await dig(port, 'x.sub.app.docker', 'A')).status, 'NXDOMAIN');
    const ent = await dig(port, 'ent.app.docker', 'A');
    assert.equal(ent.status, 'NOERROR');
    assert.deepEqual(ent.answer, []);
    assert.equal(ent.authority[0]?.type, 'SOA');
    assert.equal((await dig(port, 'x.ent.app.docker', 'A')).status, 'NXDOMAIN');
    const mx = await dig(port, 'anything.app.docker', 'MX');
    assert.equal(mx.status, 'NOERROR');
    assert.deepEqual(mx.answer, []);
    assert.equal(mx.authority[0]?.type, 'SOA');
  });

  test('PTR of a wildcard owner’s address names its canonical host; AXFR lists the * owner as it is', async () => {
    assert.deepEqual(lines((await dig(port, '-x', '10.5.0.9')).answer), ['9.0.5.10.in-addr.arpa. PTR proxy.docker.']);
    const axfr = await dig(port, '+tcp', 'docker', 'AXFR');
    assert.match(axfr.output, /^\*\.app\.docker\.\s+\d+\s+IN\s+A\s+10\.5\.0\.9$/m, axfr.output);
    assert.match(axfr.output, /^db\.docker\.\s+\d+\s+IN\s+CNAME\s+db1\.docker\.$/m, axfr.output);
  });

  test('a CNAME into the zone is followed in the same answer; QTYPE CNAME gets it alone; a dangling one is NXDOMAIN with the chain', async () => {
    const answer = await dig(port, 'db.docker', 'A');
    assert.equal(answer.status, 'NOERROR');
    assert.ok(answer.flags.includes('aa'));
    assert.deepEqual(lines(answer.answer), ['db.docker. CNAME db1.docker.', 'db1.docker. A 10.5.0.5']);
    assert.deepEqual(lines((await dig(port, 'db.docker', 'CNAME')).answer), ['db.docker. CNAME db1.docker.']);
    const dangling = await dig(port, 'gone.docker', 'A');
    assert.equal(dangling.status, 'NXDOMAIN');
    assert.deepEqual(lines(dangling.answer), ['gone.docker. CNAME nothere.docker.']);
    assert.equal(dangling.authority[0]?.type, 'SOA');
  });

  test('TXT strings longer than 255 octets go out as several character-strings of one record', async () => {
    const answer = await dig(port, 'db.docker', 'TXT');
    const long = answer.answer.find((r) => r.type === 'TXT' && r.data.startsWith('"kkk'));
    assert.equal(long?.data, `"${'k'.repeat(255)}" "${'k'.repeat(145)}"`);
    assert.ok(answer.answer.some((r) => r.data === '"v=spf1 -all"'));
    assert.equal(answer.answer[0]?.type, 'CNAME', 'through the alias');
  });

  test('a CNAME out of the zones: the forwarded answer appended for a client allowed to forward, the CNAME alone for others', async () => {
    const allowed = await dig(port, 'legacy.docker', 'A');
    assert.equal(allowed.status, 'NOERROR');
    assert.deepEqual(lines(allowed.answer), ['legacy.docker. CNAME db1.prod.example.com.', 'db1.prod.example.com. A 192.0.2.10']);
    assert.ok(upstream.queries.includes('db1.prod.example.com'));
    assert.deepEqual(lines((await dig(port, '+tcp', 'legacy.docker', 'A')).answer), lines(allowed.answer), 'over TCP the same');
    // From 127.0.0.2, outside forwardAllow: seamark answers what is its own and forwards nothing.
    const other = await dig(port, '-b', '127.0.0.2', 'legacy.docker', 'A');
    assert.equal(other.status, 'NOERROR');
    assert.deepEqual(lines(other.answer), ['legacy.docker. CNAME db1.prod.example.com.']);
    assert.ok(!other.flags.includes('ra'));
  });

  test('a CNAME out of the zones whose upstream chain comes back in: seamark answers its own name, never the upstream', async () => {
    const answer = await dig(port, 'hop.docker', 'A');
    assert.equal(answer.status, 'NOERROR');
    assert.deepEqual(lines(answer.answer), ['hop.docker. CNAME hop.example.com.', 'hop.example.com. CNAME back.docker.', 'back.docker. A 10.5.0.99']);
  });

  test('a wildcard added later takes over names that were NXDOMAIN, and one removed gives them back', async () => {
    assert.equal((await dig(port, 'x.late.docker', 'A')).status, 'NXDOMAIN');
    const put = await api(seamark.httpPort, 'PUT', '/v1/records/late', { names: ['*.late'], addresses: ['10.5.0.77'] });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(lines((await dig(port, 'x.late.docker', 'A')).answer), ['x.late.docker. A 10.5.0.77']);
    assert.deepEqual(lines((await dig(port, 'x.late.docker', 'A')).answer), ['x.late.docker. A 10.5.0.77'], 'again, from the answer cache');
    // A name made below x.late makes it an empty non-terminal: NODATA, though its wildcard answer was cached.
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/below', { names: ['y.x.late'], addresses: ['10.5.0.78'] })).status, 201);
    const ent = await dig(port, 'x.late.docker', 'A');
    assert.equal(ent.status, 'NOERROR');
    assert.deepEqual(ent.answer, []);
    assert.equal((await api(seamark.httpPort, 'DELETE', '/v1/records/below')).status, 204);
    assert.deepEqual(lines((await dig(port, 'x.late.docker', 'A')).answer), ['x.late.docker. A 10.5.0.77']);
    // Deeper names are not cached: a name made between them and the wildcard is seen at once.
    assert.deepEqual(lines((await dig(port, 'a.b.late.docker', 'A')).answer), ['a.b.late.docker. A 10.5.0.77']);
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/between', { names: ['b.late'], addresses: ['10.5.0.79'] })).status, 201);
    assert.equal((await dig(port, 'a.b.late.docker', 'A')).status, 'NXDOMAIN', 'b.late exists now and has no wildcard');
    assert.equal((await api(seamark.httpPort, 'DELETE', '/v1/records/late')).status, 204);
    assert.equal((await dig(port, 'x.late.docker', 'A')).status, 'NXDOMAIN');
  });

  test('/v1/lookup shows the wildcard instance behind a synthesised answer and where a chain leaves the zones', async () => {
    const wild = await api(seamark.httpPort, 'GET', '/v1/lookup?name=anything.app&type=A');
    assert.equal(wild.body.answer[0]?.name, 'anything.app.docker.');
    assert.equal(wild.body.answer[0]?.from[0]?.owner, 'manual:proxy');
    const legacy = await api(seamark.httpPort, 'GET', '/v1/lookup?name=legacy&type=A');
    assert.equal(legacy.body.answer[0]?.type, 'CNAME');
    assert.equal(legacy.body.answer[0]?.from[0]?.owner, 'manual:ext');
    assert.equal(legacy.body.leavesZonesAt, 'db1.prod.example.com.');
    assert.match(legacy.body.text, /leaves seamark's zones at db1\.prod\.example\.com\./);
  });
});
