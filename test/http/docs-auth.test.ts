// "Every read from a client beyond loopback needs the token" holds for the OpenAPI document and Swagger UI too.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { freePort, withSeamark } from '../helpers/seamark.js';

/** An address of this machine that is not loopback: a request to it comes from beyond loopback. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;
}

const address = outsideAddress();

describe('the API documentation beyond loopback', { skip: address === undefined ? 'no non-loopback IPv4 address on this machine' : false }, () => {
  it('needs the token for /docs/json and /docs from beyond loopback, not from loopback', async () => {
    const port = await freePort();
    const token = 'docs-token-0123456789';
    await withSeamark({ config: { docker: 'off', http: `0.0.0.0:${port}`, token } }, async (seamark) => {
      const get = (host: string, path: string, bearer?: string) =>
        fetch(`http://${host}:${port}${path}`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });
      assert.equal((await get(address as string, '/v1/records')).status, 401, 'a read of the API beyond loopback needs the token');
      assert.equal((await get(address as string, '/docs/json')).status, 401);
      assert.equal((await get(address as string, '/docs')).status, 401);
      const withToken = await get(address as string, '/docs/json', token);
      assert.equal(withToken.status, 200);
      assert.equal(((await withToken.json()) as { openapi: string }).openapi.startsWith('3.'), true);
      assert.equal((await get('127.0.0.1', '/docs/json')).status, 200, 'reads from loopback stay open');
    });
  });
});
