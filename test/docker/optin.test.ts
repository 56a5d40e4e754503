// Opt-in mode, per-container network choice and host-network containers at a configured address.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { addressesOf, describeWithDocker, docker, runContainer, sameSet, seamarkResolver, waitUntil } from './engine.js';

// A documentation address (RFC 5737): only ever put in answers, never contacted.
const HOST_ADDRESS = '192.0.2.53';

describeWithDocker('opt-in publishing, seamark.network and host-network containers', 'opt', { timeout: 120000 }, (prefix) => {
  const seamark = seamarkForSuite({
    config: { zones: ['docker'], http: 'off' },
    args: ['--publish-all', 'false', '--docker-host-address', HOST_ADDRESS],
    waitFor: 'Docker containers synced',
  });

  it('publishes only seamark.enable=true containers, on the networks they choose, and host-network ones at the host address', async () => {
    const resolver = seamarkResolver(seamark.dnsPort);
    const enable = ['--label', 'seamark.enable=true'];
    await docker('network', 'create', `${prefix}a`);
    await docker('network', 'create', `${prefix}b`);
    await runContainer(`${prefix}plain`);
    const chosen = await runContainer(`${prefix}chosen`, [...enable, '--network', `${prefix}a`, '--label', `seamark.network=${prefix}b`]);
    await docker('network', 'connect', `${prefix}b`, chosen);
    await runContainer(`${prefix}onhost`, [...enable, '--network', 'host']);

    const onB = await docker('inspect', '--format', `{{(index .NetworkSettings.Networks "${prefix}b").IPAddress}}`, chosen);
    await waitUntil('chosen to answer on network b only', async () => sameSet(await addressesOf(resolver, `${prefix}chosen.docker`), [onB]));
    await waitUntil('onhost at the host address', async () => sameSet(await addressesOf(resolver, `${prefix}onhost.docker`), [HOST_ADDRESS]));
    assert.equal((await dig(seamark.dnsPort, `${prefix}plain.docker`)).status, 'NXDOMAIN');
  });
});
