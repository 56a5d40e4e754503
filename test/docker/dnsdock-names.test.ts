// --dnsdock-names: DNSDock's default names for every container, labelled or not.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite, withSeamark } from '../helpers/seamark.js';
import { addressesOf, containerAddresses, describeWithDocker, runContainer, sameSet, seamarkResolver, waitUntil } from './engine.js';

// IMAGE (seamark-test-busybox:latest) cut as DNSDock cuts it: no registry path, no tag.
const IMAGE_NAME = 'seamark-test-busybox';

describeWithDocker('--dnsdock-names', 'dnd', { timeout: 120000 }, (prefix) => {
  const seamark = seamarkForSuite({ config: { zones: ['docker'], http: 'off' }, args: ['--dnsdock-names', 'true'], waitFor: 'Docker containers synced' });

  it('answers <container>.<image>.<zone> for an unlabelled container and <image>.<zone> with every container of the image', async () => {
    const resolver = seamarkResolver(seamark.dnsPort);
    await runContainer(`${prefix}one`);
    await runContainer(`${prefix}two`, ['--label', 'com.dnsdock.alias=two-alias']);
    const one = await containerAddresses(`${prefix}one`);
    const two = await containerAddresses(`${prefix}two`);
    await waitUntil('<container>.<image> of the unlabelled one', async () => sameSet(await addressesOf(resolver, `${prefix}one.${IMAGE_NAME}.docker`), one));
    await waitUntil('<container>.<image> of the labelled one', async () => sameSet(await addressesOf(resolver, `${prefix}two.${IMAGE_NAME}.docker`), two));
    // Other containers of the test image on this engine answer there too, so: both, among any others.
    await waitUntil('<image> with both', async () => {
      const answered = await addressesOf(resolver, `${IMAGE_NAME}.docker`);
      return [...one, ...two].every((address) => answered.includes(address));
    });
    assert.ok(sameSet(await addressesOf(resolver, 'two-alias.docker'), two));
    assert.ok(sameSet(await addressesOf(resolver, `${prefix}one.docker`), one), 'the container name still answers');
  });
});

describeWithDocker('without --dnsdock-names', 'dnq', { timeout: 120000 }, (quiet) => {
  it('gives an unlabelled container no DNSDock name', async () => {
    await withSeamark({ config: { zones: ['docker'], http: 'off' }, waitFor: 'Docker containers synced' }, async (seamark) => {
      await runContainer(`${quiet}plain`);
      const resolver = seamarkResolver(seamark.dnsPort);
      await waitUntil('the container name', async () => (await addressesOf(resolver, `${quiet}plain.docker`)).length > 0);
      assert.equal((await dig(seamark.dnsPort, `${quiet}plain.${IMAGE_NAME}.docker`)).status, 'NXDOMAIN');
    });
  });
});
