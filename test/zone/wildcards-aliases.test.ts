// The zone view's wildcards (RFC 4592), aliases (CNAME, RFC 1034 §3.6.2 and §4.3.2, RFC 6604) and TXT records.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Instance } from '../../src/registry/instance.js';
import { reverseName } from '../../src/registry/names.js';
import { Registry } from '../../src/registry/registry.js';
import { RRType, Rcode, type ResourceRecord } from '../../src/zone/records.js';
import { lookup, zoneTransfer, type ZoneSettings } from '../../src/zone/view.js';

const settings: ZoneSettings = { zones: ['docker', 'lab.docker'], ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1000 };

function registryWith(...instances: Partial<Instance>[]): Registry {
  const registry = new Registry();
  instances.forEach((partial, i) => registry.upsert({ owner: `manual:${i}`, source: 'manual', names: [], addresses: [], srv: [], healthy: true, ...partial }));
  return registry;
}

/** Each record as "owner type data". */
const lines = (records: readonly ResourceRecord[] = []) =>
  records.map((r) => `${r.name} ${r.type} ${'address' in r ? r.address : 'target' in r ? r.target : 'text' in r ? r.text : ''}`.trim());

describe('wildcards (RFC 4592)', () => {
  const registry = registryWith(
    { names: ['*.app.docker', 'proxy.docker'], addresses: ['10.0.0.9'], txt: ['proxied'], srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }] },
    { names: ['sub.app.docker'], addresses: ['10.0.0.1'] },
    { names: ['deep.ent.app.docker'], addresses: ['10.0.0.2'] },
    { names: ['*.docker'], addresses: ['10.0.0.99'] },
    { names: ['*.only.docker'], addresses: ['10.0.0.50'] },
  );
  const ask = (name: string, type: number = RRType.A) => lookup(registry, settings, name, type);

  test('a name below the wildcard that does not exist is answered with its data, owned by the question name', () => {
    for (const name of ['x.app.docker', 'a.b.c.app.docker']) {
      const answer = ask(name);
      assert.equal(answer?.rcode, Rcode.NOERROR);
      assert.deepEqual(lines(answer?.answers), [`${name} 1 10.0.0.9`]);
    }
    // One label below: a change to the name (or below it) touches it; deeper, the names in between would not.
    assert.equal(ask('x.app.docker')?.dependsOnOtherNames, undefined, 'for the answer cache');
    assert.equal(ask('a.b.c.app.docker')?.dependsOnOtherNames, true, 'not for the answer cache');
    assert.deepEqual(lines(ask('x.app.docker', RRType.TXT)?.answers), ['x.app.docker 16 proxied']);
  });

  test('a name that exists wins; a wildcard covers nothing below an existing name, and an empty non-terminal stays NODATA', () => {
    assert.deepEqual(lines(ask('sub.app.docker')?.answers), ['sub.app.docker 1 10.0.0.1']);
    assert.equal(ask('sub.app.docker')?.dependsOnOtherNames, undefined);
    assert.equal(ask('x.sub.app.docker')?.rcode, Rcode.NXDOMAIN, 'the closest encloser is sub.app.docker, which has no wildcard');
    const ent = ask('ent.app.docker');
    assert.equal(ent?.rcode, Rcode.NOERROR);
    assert.deepEqual(ent?.answers, []);
    assert.equal(ent?.authority[0]?.type, RRType.SOA);
    assert.equal(ask('x.ent.app.docker')?.rcode, Rcode.NXDOMAIN);
  });

  test('another type at a synthesised name is NODATA; SRV below it too; the wildcard asked literally answers itself', () => {
    const mx = ask('x.app.docker', RRType.MX);
    assert.equal(mx?.rcode, Rcode.NOERROR);
    assert.deepEqual(mx?.answers, []);
    assert.equal(mx?.authority[0]?.type, RRType.SOA);
    // _http._tcp.x.app.docker is itself answered by *.app.docker, which has no SRV: NODATA.
    const srv = ask('_http._tcp.x.app.docker', RRType.SRV);
    assert.equal(srv?.rcode, Rcode.NOERROR);
    assert.deepEqual(srv?.answers, []);
    assert.deepEqual(lines(ask('*.app.docker')?.answers), ['*.app.docker 1 10.0.0.9']);
  });

  test('SRV and PTR point at the canonical name, never at the wildcard', () => {
    assert.deepEqual(lines(ask('_http._tcp.proxy.docker', RRType.SRV)?.answers), ['_http._tcp.proxy.docker 33 proxy.docker']);
    assert.equal(ask('_http._tcp.*.app.docker', RRType.SRV)?.answers.length ?? 0, 0, 'no SRV owner under a wildcard');
    assert.deepEqual(lines(lookup(registry, settings, reverseName('10.0.0.9'), RRType.PTR)?.answers), [`${reverseName('10.0.0.9')} 12 proxy.docker`]);
    assert.equal(lookup(registry, settings, reverseName('10.0.0.50'), RRType.PTR), undefined, 'a wildcard-only instance has no name for a PTR');
  });

  test('a wildcard at the apex answers names without a closer encloser, and never names in a zone below', () => {
    assert.deepEqual(lines(ask('nothing.docker')?.answers), ['nothing.docker 1 10.0.0.99']);
    assert.deepEqual(lines(ask('x.only.docker')?.answers), ['x.only.docker 1 10.0.0.50']);
    assert.equal(ask('x.lab.docker')?.rcode, Rcode.NXDOMAIN, 'lab.docker is a zone of its own');
  });

  test('the zone transfer lists the * owner as it is', () => {
    const transfer = lines(zoneTransfer(registry, settings, 'docker'));
    assert.ok(transfer.includes('*.app.docker 1 10.0.0.9'), transfer.join('\n'));
    assert.ok(transfer.includes('*.app.docker 16 proxied'));
    assert.ok(!transfer.some((line) => line.startsWith('x.app.docker')));
  });
});

describe('aliases (CNAME) and TXT', () => {
  const chain = Array.from({ length: 10 }, (_, i) => ({ names: [`c${i}.docker`], cname: `c${i + 1}.docker` }));
  const registry = registryWith(
    { names: ['db.docker'], cname: 'db1.docker', ttl: 60 },
    { names: ['db1.docker'], addresses: ['10.0.0.5'], txt: ['v=spf1 -all', 'x'.repeat(600)] },
    { names: ['gone.docker'], cname: 'nothere.docker' },
    { names: ['ext.docker'], cname: 'db1.prod.example.com' },
    { names: ['into.docker'], cname: 'printer.lab.docker' },
    { names: ['l1.docker'], cname: 'l2.docker' },
    { names: ['l2.docker'], cname: 'l1.docker' },
    { names: ['*.w.docker'], cname: 'db1.docker' },
    { names: ['clash.docker'], cname: 'db1.docker' },
    { names: ['clash.docker'], addresses: ['10.9.9.9'] },
    ...chain,
  );
  const ask = (name: string, type: number = RRType.A) => lookup(registry, settings, name, type);

  test('a CNAME into the zone is followed in the same answer', () => {
    const answer = ask('db.docker');
    assert.equal(answer?.rcode, Rcode.NOERROR);
    assert.deepEqual(lines(answer?.answers), ['db.docker 5 db1.docker', 'db1.docker 1 10.0.0.5']);
    assert.equal(answer?.answers[0]?.ttl, 60);
    assert.equal(answer?.dependsOnOtherNames, true);
  });

  test('QTYPE CNAME and ANY get the CNAME alone; a type the target lacks is NODATA after the CNAME', () => {
    assert.deepEqual(lines(ask('db.docker', RRType.CNAME)?.answers), ['db.docker 5 db1.docker']);
    assert.deepEqual(lines(ask('db.docker', RRType.ANY)?.answers), ['db.docker 5 db1.docker']);
    const aaaa = ask('db.docker', RRType.AAAA);
    assert.equal(aaaa?.rcode, Rcode.NOERROR);
    assert.deepEqual(lines(aaaa?.answers), ['db.docker 5 db1.docker']);
    assert.equal(aaaa?.authority[0]?.type, RRType.SOA);
  });

  test('a dangling CNAME: the chain with NXDOMAIN, the rcode of the last name (RFC 6604)', () => {
    const answer = ask('gone.docker');
    assert.equal(answer?.rcode, Rcode.NXDOMAIN);
    assert.deepEqual(lines(answer?.answers), ['gone.docker 5 nothere.docker']);
    assert.equal(answer?.authority[0]?.name, 'docker');
  });

  test('a CNAME out of the zones ends the answer and says where; into a zone below, that zone answers', () => {
    const out = ask('ext.docker');
    assert.deepEqual(lines(out?.answers), ['ext.docker 5 db1.prod.example.com']);
    assert.equal(out?.leavesZonesAt, 'db1.prod.example.com');
    const into = ask('into.docker');
    assert.equal(into?.rcode, Rcode.NXDOMAIN);
    assert.equal(into?.authority[0]?.name, 'lab.docker', 'the SOA of the zone the chain ended in');
  });

  test('a loop and a chain longer than 8 are cut: what was followed, NOERROR, never a hang', () => {
    const loop = ask('l1.docker');
    assert.equal(loop?.rcode, Rcode.NOERROR);
    assert.deepEqual(lines(loop?.answers), ['l1.docker 5 l2.docker', 'l2.docker 5 l1.docker']);
    const long = ask('c0.docker');
    assert.equal(long?.answers.length, 9, lines(long?.answers).join('\n'));
    assert.deepEqual(lines(ask('c2.docker')?.answers).at(-1), 'c9.docker 5 c10.docker', 'eight links from c2: followed to the end');
    assert.equal(ask('c2.docker')?.rcode, Rcode.NXDOMAIN, 'c10 does not exist');
  });

  test('a wildcard CNAME answers with the question name as owner; a CNAME owns its name alone', () => {
    assert.deepEqual(lines(ask('x.y.w.docker')?.answers), ['x.y.w.docker 5 db1.docker', 'db1.docker 1 10.0.0.5']);
    assert.deepEqual(lines(ask('clash.docker')?.answers), ['clash.docker 5 db1.docker', 'db1.docker 1 10.0.0.5']);
  });

  test('TXT: one record per string, whole; the transfer carries CNAME and TXT', () => {
    const answer = ask('db1.docker', RRType.TXT);
    assert.deepEqual(lines(answer?.answers), ['db1.docker 16 v=spf1 -all', `db1.docker 16 ${'x'.repeat(600)}`]);
    const transfer = lines(zoneTransfer(registry, settings, 'docker'));
    assert.ok(transfer.includes('db.docker 5 db1.docker'));
    assert.ok(transfer.includes('db1.docker 16 v=spf1 -all'));
    assert.ok(transfer.includes('*.w.docker 5 db1.docker'));
  });
});
