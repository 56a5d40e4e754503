// The HTTP API over HTTPS (--http-tls-cert/--http-tls-key), checked with real clients against a certificate made here.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, MAIN, seamarkForSuite, startSeamark } from '../helpers/seamark.js';
import { digAddresses } from './client.js';

const TOKEN = 'tls-test-token-0123456789';
const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 and localhost, valid for a day. */
function makeCertificate(): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'seamark-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=seamark-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { dir, cert, key };
}

/** Runs seamark with these TLS files to its end (a start that fails exits at once), so every line of its stderr is read. */
async function startFailure(cert: string, key: string): Promise<{ code: number | null; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'seamark-tls-data-'));
  const args = [MAIN, '--docker', 'off', '--http', '127.0.0.1:0', '--dns', '127.0.0.1:0', '--data-dir', dataDir, '--http-tls-cert', cert, '--http-tls-key', key];
  try {
    await run(process.execPath, args, { timeout: 15000, killSignal: 'SIGKILL' });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code: number | null; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

/** A path as a regular expression that matches it literally. */
function quote(path: string): string {
  return path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function httpsRequest(port: number, method: string, path: string, ca: Buffer, body?: unknown, token?: string): Promise<{ status: number; body: any; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    };
    const req = request({ host: '127.0.0.1', port, method, path, ca, headers }, (response) => {
      let text = '';
      const authorized = (response.socket as import('node:tls').TLSSocket).authorized;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text), authorized }));
    });
    req.once('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`no answer from https://127.0.0.1:${port}${path} within 10 s`)));
    req.end(payload);
  });
}

describe('HTTPS for the API', () => {
  let certificate: ReturnType<typeof makeCertificate>;
  const seamark = seamarkForSuite(() => {
    certificate = makeCertificate();
    return { config: { docker: 'off', token: TOKEN }, args: ['--http-tls-cert', certificate.cert], env: { SEAMARK_HTTP_TLS_KEY: certificate.key } };
  });

  it('serves the API over TLS to a client that trusts the certificate: writes with the token change DNS', async () => {
    const ca = readFileSync(certificate.cert);
    const put = await httpsRequest(seamark.httpPort, 'PUT', '/v1/records/secure', ca, { names: ['secure'], addresses: ['10.71.0.1'] }, TOKEN);
    assert.equal(put.status, 201);
    assert.equal(put.authorized, true, 'the certificate verified against its CA');
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'secure.docker'), ['10.71.0.1']);
    assert.equal((await httpsRequest(seamark.httpPort, 'PUT', '/v1/records/other', ca, { names: ['other'], addresses: ['10.71.0.2'] })).status, 401);
    const read = await httpsRequest(seamark.httpPort, 'GET', '/v1/records/secure', ca);
    assert.deepEqual(read.body.addresses, ['10.71.0.1']);
    assert.equal(seamark.logs.find((entry) => entry.msg === 'HTTP API listening')?.tls, true);

    // curl, as an operator would use it.
    const curled = execFileSync('curl', ['-sS', '--max-time', '10', '--cacert', certificate.cert, `https://127.0.0.1:${seamark.httpPort}/v1/records/secure`], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(curled).names, ['secure.docker']);
  });

  it('answers no clear-text HTTP and refuses clients that do not trust the certificate', async () => {
    const plain = await new Promise<string>((resolve) => {
      const req = httpGet({ host: '127.0.0.1', port: seamark.httpPort, path: '/v1/records' }, (response) => resolve(`status ${response.statusCode}`));
      req.once('error', (error) => resolve(error.message));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    });
    assert.ok(!plain.startsWith('status 2'), `clear-text HTTP got ${plain}`);
    await assert.rejects(httpsRequest(seamark.httpPort, 'GET', '/v1/records', Buffer.from('')), /self[- ]signed|unable to verify|certificate/i);
  });
});

describe('HTTPS configuration errors', () => {
  it('still refuses a listener beyond loopback without a token, TLS or not', async () => {
    const { cert, key } = makeCertificate();
    const port = await freePort();
    await assert.rejects(startSeamark({ config: { docker: 'off', http: `0.0.0.0:${port}`, httpTlsCert: cert, httpTlsKey: key } }), /refusing to listen for HTTP on 0\.0\.0\.0:\d+ without a token/);
  });

  it('names what is wrong: a certificate without its key, a file that is not there', async () => {
    const { dir, cert } = makeCertificate();
    await assert.rejects(startSeamark({ config: { docker: 'off', httpTlsCert: cert } }), /httpTlsCert and httpTlsKey go together/);
    const missing = join(dir, 'missing.pem');
    await assert.rejects(startSeamark({ config: { docker: 'off', httpTlsCert: cert, httpTlsKey: missing } }), (error: Error) => {
      assert.match(error.message, new RegExp(`cannot read httpTlsKey ${missing.replace(/[.]/g, '\\.')}`));
      return true;
    });
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key\n');
    const failed = await startFailure(cert, garbage);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, new RegExp(`httpTlsKey ${quote(garbage)} is not a PEM private key`));
  });

  it('names the file that is wrong, never with OpenSSL\'s bare words: a key of another certificate, swapped files, an encrypted key', async () => {
    const mine = makeCertificate();
    const other = makeCertificate();
    const mismatched = await startFailure(mine.cert, other.key);
    assert.equal(mismatched.code, 1);
    assert.match(mismatched.stderr, new RegExp(`^seamark: httpTlsKey ${quote(other.key)} is not the private key of the certificate in httpTlsCert ${quote(mine.cert)} \\(CN=seamark-test\\)`, 'm'));
    assert.doesNotMatch(mismatched.stderr, /key values mismatch/);
    const swapped = await startFailure(mine.key, mine.cert);
    assert.match(swapped.stderr, new RegExp(`httpTlsCert ${quote(mine.key)} is not a PEM certificate .*: it holds a private key \\(are httpTlsCert and httpTlsKey swapped\\?\\)`));
    const encrypted = join(mine.dir, 'encrypted.pem');
    execFileSync('openssl', ['pkey', '-in', mine.key, '-aes256', '-passout', 'pass:secret', '-out', encrypted], { stdio: 'ignore' });
    const locked = await startFailure(mine.cert, encrypted);
    assert.match(locked.stderr, new RegExp(`httpTlsKey ${quote(encrypted)} is not a PEM private key .*: it is encrypted; give seamark the key without a passphrase`));
  });
});
