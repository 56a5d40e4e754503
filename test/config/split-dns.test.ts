// The split-DNS recipes shipped under config/split-dns, and seamark's refusal to forward in a loop through
// systemd-resolved (the global DNS= drop-in the README once gave) or to itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseEndpoint } from '../../src/config/addresses.js';
import { loadConfig, parseCommandLine } from '../../src/config/load.js';
import { forwardingLoop, type ResolverFiles } from '../../src/config/loop.js';
import { MAIN } from '../helpers/seamark.js';

const run = promisify(execFile);
const DIR = fileURLToPath(new URL('../../../config/split-dns/', import.meta.url));

/** The settings of an INI-style systemd file, by section. */
function settings(file: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const line of readFileSync(join(DIR, file), 'utf8').split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) {
      section = header[1] as string;
      sections[section] ??= {};
      continue;
    }
    const [key = '', ...value] = line.split('=');
    ((sections[section] as Record<string, string[]>)[key.trim()] ??= []).push(value.join('='));
  }
  return sections;
}

test('the networkd recipe: a dummy link always up, its address seamark\'s DNS server for ~docker only, never the default route', () => {
  const netdev = settings('90-seamark0.netdev');
  assert.deepEqual(netdev.NetDev?.Kind, ['dummy']);
  const network = settings('90-seamark0.network');
  assert.deepEqual(network.Match?.Name, netdev.NetDev?.Name, 'matches the link the netdev makes');
  assert.deepEqual(network.Network?.Domains, ['~docker'], 'a routing-only domain: no search suffix');
  assert.deepEqual(network.Network?.DNSDefaultRoute, ['no'], 'never asked for names outside the zone');
  assert.deepEqual(network.Network?.ConfigureWithoutCarrier, ['yes']);
  assert.deepEqual(network.Address?.Scope, ['global'], 'resolved uses a link\'s servers only with an address beyond link scope');
  const address = (network.Address?.Address?.[0] ?? '').replace(/\/32$/, '');
  assert.deepEqual(network.Network?.DNS, [address], 'the DNS server is the link\'s own address');
  // seamark accepts that address as a listener, and the unit's comment says to add it.
  const listen = `${address}:53`;
  assert.deepEqual(parseEndpoint(listen), { address, port: 53, family: 4 });
  assert.match(readFileSync(join(DIR, '90-seamark0.network'), 'utf8'), new RegExp(`SEAMARK_DNS=.*${address.replaceAll('.', '\\.')}:53`));
});

test('the resolved 258+ delegate and the dnsmasq lines send only the zone to seamark', () => {
  const delegate = settings('seamark.dns-delegate');
  assert.deepEqual(delegate.Delegate?.Domains, ['~docker']);
  assert.deepEqual(delegate.Delegate?.DefaultRoute, ['no']);
  assert.deepEqual(delegate.Delegate?.DNS, ['127.0.0.1']);
  const dnsmasq = readFileSync(join(DIR, 'dnsmasq-seamark.conf'), 'utf8').split('\n').filter((line) => /^server=/.test(line));
  assert.deepEqual(dnsmasq, ['server=/docker/127.0.0.1', 'server=/17.172.in-addr.arpa/127.0.0.1'], 'per-domain servers only: no catch-all server= line');
});

/** resolv.conf and resolved.conf files of a host, in a directory of their own. */
function host(resolvConf: string, resolvedDropIn: string | undefined): ResolverFiles {
  const dir = mkdtempSync(join(tmpdir(), 'seamark-resolver-'));
  writeFileSync(join(dir, 'resolv.conf'), resolvConf);
  writeFileSync(join(dir, 'resolved.conf'), '[Resolve]\n#DNS=\n');
  mkdirSync(join(dir, 'resolved.conf.d'));
  if (resolvedDropIn !== undefined) writeFileSync(join(dir, 'resolved.conf.d', 'seamark.conf'), resolvedDropIn);
  return { resolvConf: join(dir, 'resolv.conf'), resolvedConf: [join(dir, 'resolved.conf')], resolvedDropIns: [join(dir, 'resolved.conf.d')] };
}

const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\n';
const seamarkOn53 = [parseEndpoint('172.17.0.1:53'), parseEndpoint('127.0.0.1:53')];

test('the global DNS= drop-in loops through 127.0.0.53 back to seamark: refused, naming the file and the fix', () => {
  const files = host(stub, '[Resolve]\nDNS=127.0.0.1\nDomains=~docker\n');
  const loop = forwardingLoop(seamarkOn53, [], files);
  assert.ok(loop !== undefined, 'a loop');
  assert.match(loop, /^upstream 127\.0\.0\.53:53 \(from .*resolv\.conf\) is systemd-resolved, whose global DNS= in .*seamark\.conf is seamark itself \(127\.0\.0\.1:53\)/);
  assert.match(loop, /config\/split-dns/);
  // The same through a configured upstream, and with a port in DNS=.
  assert.ok(forwardingLoop([parseEndpoint('127.0.0.1:8053')], [parseEndpoint('127.0.0.53:53')], host(stub, '[Resolve]\nDNS=127.0.0.1:8053\n')) !== undefined);
});

test('no loop: the split-DNS link, another port in DNS=, a later empty DNS=, or no resolved at all', () => {
  assert.equal(forwardingLoop(seamarkOn53, [], host(stub, undefined)), undefined, 'the recipe: no global DNS=');
  assert.equal(forwardingLoop(seamarkOn53, [], host(stub, '[Resolve]\nDNS=127.0.0.1:8053\n')), undefined, 'resolved asks another port');
  assert.equal(forwardingLoop(seamarkOn53, [], host(stub, '[Resolve]\nDNS=127.0.0.1\nDNS=\nDNS=9.9.9.9\n')), undefined, 'an empty DNS= clears');
  assert.equal(forwardingLoop(seamarkOn53, [], host('nameserver 192.0.2.53\n', '[Resolve]\nDNS=127.0.0.1\n')), undefined, 'resolv.conf does not name resolved');
});

test('an upstream that is seamark\'s own listener is refused at start-up and by --check-config (exit 2)', async () => {
  assert.throws(() => loadConfig(parseCommandLine(['--dns', '127.0.0.1:8053', '--upstream', '127.0.0.1:8053']), {}), /upstream 127\.0\.0\.1:8053 is seamark's own DNS listener 127\.0\.0\.1:8053: it would forward to itself/);
  assert.throws(() => loadConfig(parseCommandLine(['--dns', '0.0.0.0:8053', '--upstream', '127.0.0.1:8053']), {}), /own DNS listener 0\.0\.0\.0:8053/);
  const failed = await run(process.execPath, [MAIN, '--check-config', '--dns', '127.0.0.1:8053', '--upstream', '127.0.0.1:8053']).then(
    () => assert.fail('exit 0'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /^seamark: invalid configuration: upstreams = \["127\.0\.0\.1:8053"\]: upstream 127\.0\.0\.1:8053 is seamark's own DNS listener/);
});
