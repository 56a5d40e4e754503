// seamark refuses to open the HTTP API beyond loopback without a token, and says how to set one.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, MAIN, startSeamark, withSeamark } from '../helpers/seamark.js';
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
    writeFileSync(file, 'from-a-file-0123456789\n');
    await withSeamark({ config: { docker: 'off' }, args: ['--token-file', file] }, async (seamark) => {
      const body = { names: ['t'], addresses: ['10.0.0.1'] };
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/t', body)).status, 401);
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/t', body, 'from-a-file-0123456789')).status, 201);
      assert.ok(!JSON.stringify(seamark.logs).includes('from-a-file'));
    });
  });
});

describe('token rules', () => {
  const run = promisify(execFile);
  const startError = async (args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> => {
    try {
      await run(process.execPath, [MAIN, '--docker', 'off', '--http', '127.0.0.1:0', '--dns', '127.0.0.1:0', ...args], { env: { ...process.env, ...env }, timeout: 15000 });
      return { code: 0, stderr: '' };
    } catch (error) {
      return error as { code: number; stderr: string };
    }
  };

  it('refuses a token shorter than 16 characters, or one no client can send, without showing it', async () => {
    const short = await startError([], { SEAMARK_TOKEN: 'hunter2' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /invalid configuration: token = "<redacted>": is 7 characters long; a token needs at least 16 so that it cannot be guessed \(make one with: openssl rand -hex 16\) \(from SEAMARK_TOKEN\)/);
    assert.ok(!short.stderr.includes('hunter2'));
    const control = await startError(['--token', 'a-long-enough-token\u0007-with-a-bell'], {});
    assert.equal(control.code, 2);
    assert.match(control.stderr, /token = "<redacted>": holds a character other than printable ASCII/);
    const file = join(mkdtempSync(join(tmpdir(), 'seamark-token-')), 'token');
    writeFileSync(file, '  shorty  \n');
    const fromFile = await startError(['--token-file', file], {});
    assert.equal(fromFile.code, 1);
    assert.match(fromFile.stderr, new RegExp(`the HTTP API token in ${file.replace(/[.]/g, '\\.')} is 6 characters long; a token needs at least 16`));
    assert.ok(!fromFile.stderr.includes('shorty'));
  });

  it('takes a token with white space around it as the token without it, which is what clients send', async () => {
    const token = 'padded-token-0123456789';
    await withSeamark({ config: { docker: 'off' }, env: { SEAMARK_TOKEN: `  ${token}\t` } }, async (seamark) => {
      const body = { names: ['padded'], addresses: ['10.0.0.2'] };
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/padded', body)).status, 401);
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/padded', body, token)).status, 201);
    });
  });
});
