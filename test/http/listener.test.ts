// seamark refuses to open the HTTP API beyond loopback without a token, and says how to set one.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startSeamark } from '../helpers/seamark.js';
import { api } from './client.js';

describe('HTTP listener safety', () => {
  it('refuses a non-loopback listener without a token', async () => {
    const port = await freePort();
    await assert.rejects(startSeamark({ config: { docker: 'off', http: `0.0.0.0:${port}` } }), (error: Error) => {
      assert.match(error.message, /exited with 1/);
      assert.match(error.message, /refusing to listen for HTTP on 0\.0\.0\.0:\d+ without a token/);
      assert.match(error.message, /SEAMARK_TOKEN/);
      assert.match(error.message, /--token-file/);
      return true;
    });
  });

  it('reads the token from --token-file and requires it for writes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seamark-token-')), 'token');
    writeFileSync(file, 'from-a-file\n');
    const seamark = await startSeamark({ config: { docker: 'off' }, args: ['--token-file', file] });
    try {
      const body = { names: ['t'], addresses: ['10.0.0.1'] };
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/t', body)).status, 401);
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/t', body, 'from-a-file')).status, 201);
      assert.ok(!JSON.stringify(seamark.logs).includes('from-a-file'));
    } finally {
      await seamark.stop();
    }
  });
});
