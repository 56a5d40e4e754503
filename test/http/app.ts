// Builds the HTTP API in-process (for app.inject()) over a real registry and a disk store in a temp dir.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { buildHttpApi } from '../../src/http/server.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { Readiness } from '../../src/ops/readiness.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualSource, type ManualRecord } from '../../src/sources/manual/index.js';
import type { LeaseClock } from '../../src/sources/manual/leases.js';
import { DiskStore } from '../../src/store/disk.js';

export async function buildTestApi(options: { token?: string; clock?: LeaseClock } = {}) {
  const { config } = loadConfig({ help: false, version: false, flags: { docker: 'off', zones: ['docker', 'lan.example'] } }, {});
  const dataDir = mkdtempSync(join(tmpdir(), 'seamark-api-'));
  const log = pino({ level: 'silent' });
  const registry = new Registry();
  const manual = new ManualSource({ store: new DiskStore<ManualRecord>(dataDir), registry, zones: config.zones, log, ...(options.clock === undefined ? {} : { clock: options.clock }) });
  await manual.start();
  const readiness = new Readiness();
  const zone = { zones: config.zones, ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1 };
  const app = await buildHttpApi({
    config: { ...config, ...(options.token === undefined ? {} : { token: options.token }) },
    configuredHosts: () => config.hosts,
    token: options.token,
    manual,
    registry,
    zone,
    readiness,
    metrics: createMetrics(registry),
    version: '0.0.0-test',
    log,
  });
  return { app, registry, manual, readiness, dataDir };
}
