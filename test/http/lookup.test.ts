// GET /v1/lookup and `seamark lookup` against a running seamark: the API's
// answer is compared with what dig gets from the DNS server for the same
// question, and each record names the instance it comes from.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dig, type DigRecord } from '../helpers/dig.js';
import { MAIN, seamarkForSuite } from '../helpers/seamark.js';
import { api, waitUntil } from './client.js';
import { describeWithDocker, docker, IMAGE } from '../docker/engine.js';

const run = promisify(execFile);

interface LookupRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
  from: { owner: string; source: string; healthy: boolean; origin?: { container?: string; networks?: string[] } }[];
}

/** Records as text lines, order aside: the DNS server rotates addresses from one answer to the next. */
const lines = (records: (DigRecord | LookupRecord)[]) => records.map((r) => `${r.name.toLowerCase()} ${r.ttl} ${r.type} ${r.data}`).sort();

describe('GET /v1/lookup', () => {
  const seamark = seamarkForSuite({
    config: {
      docker: 'off',
      hosts: [{ names: ['web', 'www'], addresses: ['10.70.0.5', 'fd00::70:5'], ttl: 45, srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }] }],
    },
  });
  before(async () => {
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/db1', { names: ['db', 'pg'], addresses: ['10.70.0.10'], ttl: 60 })).status, 201);
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/db2', { names: ['db'], addresses: ['10.70.0.11'], ttl: 20 })).status, 201);
  });

  const questions: [string, string][] = [
    ['web.docker', 'A'],
    ['web.docker', 'AAAA'],
    ['web.docker', 'ANY'],
    ['db.docker', 'A'],
    ['_http._tcp.web.docker', 'SRV'],
    ['docker', 'SOA'],
    ['docker', 'NS'],
    ['nothing.docker', 'A'],
    ['web.docker', 'TXT'],
    ['10.0.70.10.in-addr.arpa', 'PTR'],
  ];
  for (const [name, type] of questions) {
    it(`answers ${name} ${type} exactly as the DNS server does`, async () => {
      const fromDns = await dig(seamark.dnsPort, `${name}.`, type);
      const fromApi = await api(seamark.httpPort, 'GET', `/v1/lookup?name=${encodeURIComponent(name + '.')}&type=${type}`);
      assert.equal(fromApi.status, 200, fromApi.text);
      assert.equal(fromApi.body.rcode, fromDns.status);
      assert.deepEqual([...fromApi.body.flags].sort(), [...fromDns.flags].sort());
      assert.deepEqual(lines(fromApi.body.answer), lines(fromDns.answer));
      assert.deepEqual(lines(fromApi.body.authority), lines(fromDns.authority));
      assert.deepEqual(lines(fromApi.body.additional), lines(fromDns.additional.filter((r) => r.type !== 'OPT')));
    });
  }

  it('names the instance behind every record', async () => {
    const { body } = await api(seamark.httpPort, 'GET', '/v1/lookup?name=db');
    assert.equal(body.question.name, 'db.docker.', 'a relative name is under the first zone');
    const byAddress = new Map((body.answer as LookupRecord[]).map((r) => [r.data, r.from.map((f) => `${f.source} ${f.owner}`)]));
    assert.deepEqual(byAddress.get('10.70.0.10'), ['manual manual:db1']);
    assert.deepEqual(byAddress.get('10.70.0.11'), ['manual manual:db2']);
    assert.equal(body.answer[0].ttl, 20, 'one RRset, one TTL: the smallest');

    const srv = await api(seamark.httpPort, 'GET', '/v1/lookup?name=_http._tcp.web&type=srv');
    assert.deepEqual((srv.body.answer as LookupRecord[]).map((r) => r.from.map((f) => f.owner)), [['config:web.docker']]);
    const soa = await api(seamark.httpPort, 'GET', '/v1/lookup?name=docker.&type=SOA');
    assert.deepEqual(soa.body.answer[0].from, [], 'the zone’s own SOA comes from no instance');
  });

  it('asks the PTR of an address, and lays the answer out as dig does', async () => {
    const { body } = await api(seamark.httpPort, 'GET', '/v1/lookup?name=10.70.0.10');
    assert.equal(body.question.name, '10.0.70.10.in-addr.arpa.');
    assert.equal(body.question.type, 'PTR');
    assert.deepEqual(lines(body.answer), ['10.0.70.10.in-addr.arpa. 60 PTR db.docker.']);
    assert.match(body.text, /^;; ->>HEADER<<- opcode: QUERY, status: NOERROR\n;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0\n/);
    assert.match(body.text, /;; ANSWER SECTION:\n10\.0\.70\.10\.in-addr\.arpa\.\t60\tIN\tPTR\tdb\.docker\.\t; manual:db1\n?$/);
  });

  it('says a name outside the zones is forwarded, not answered by seamark', async () => {
    const { body } = await api(seamark.httpPort, 'GET', '/v1/lookup?name=example.com.');
    assert.equal(body.forwarded, true);
    assert.equal(body.rcode, undefined);
    assert.deepEqual(body.answer, []);
  });

  it('answers 400 naming the field for a bad type or name', async () => {
    const type = await api(seamark.httpPort, 'GET', '/v1/lookup?name=web&type=BOGUS');
    assert.equal(type.status, 400);
    assert.equal(type.body.field, 'type');
    assert.match(type.body.message, /^type: "BOGUS" is not a record type/);
    const name = await api(seamark.httpPort, 'GET', '/v1/lookup?name=bad..name');
    assert.equal(name.status, 400);
    assert.equal(name.body.field, 'name');
    const missing = await api(seamark.httpPort, 'GET', '/v1/lookup');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.field, 'name');
  });

  it('is what `seamark lookup` prints, with exit code 3 when nothing answers', async () => {
    const cli = (...args: string[]) => run(process.execPath, [MAIN, 'lookup', ...args, '--url', `http://127.0.0.1:${seamark.httpPort}`]);
    const found = await cli('db');
    assert.match(found.stdout, /;; ANSWER SECTION:\n/);
    assert.match(found.stdout, /^db\.docker\.\t20\tIN\tA\t10\.70\.0\.10\t; manual:db1$/m);
    const json = JSON.parse((await cli('web', 'AAAA', '--json')).stdout) as { answer: LookupRecord[] };
    assert.deepEqual(lines(json.answer), ['web.docker. 45 AAAA fd00::70:5']);
    await assert.rejects(cli('nothing'), (error: { code: number; stdout: string }) => error.code === 3 && /status: NXDOMAIN/.test(error.stdout));
    await assert.rejects(cli('web', 'BOGUS'), (error: { code: number; stderr: string }) => error.code === 1 && /type: "BOGUS" is not a record type/.test(error.stderr));
    await assert.rejects(cli(), (error: { code: number }) => error.code === 2);
  });
});

describeWithDocker('GET /v1/lookup with Docker', 'lookup', {}, (prefix) => {
  const seamark = seamarkForSuite();

  it('names the container and its network behind a container’s address', async () => {
    const name = `${prefix}web`;
    await docker('run', '-d', '--name', name, IMAGE, 'sleep', '300');
    const address = await docker('inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', name);
    let answer: LookupRecord[] = [];
    await waitUntil(async () => {
      answer = (await api(seamark.httpPort, 'GET', `/v1/lookup?name=${name}`)).body.answer;
      return answer.length > 0;
    }, 15000, 'the container in /v1/lookup');
    assert.equal(answer[0]?.data, address);
    assert.equal(answer[0]?.from[0]?.source, 'docker');
    assert.equal(answer[0]?.from[0]?.origin?.container, name);
    assert.deepEqual(answer[0]?.from[0]?.origin?.networks, ['bridge']);
  });
});
