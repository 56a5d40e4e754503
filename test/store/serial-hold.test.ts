// The SOA serial while its reservation cannot be written: many changes during
// the fault and a restart one second later never bring it back, and once the
// disk is writable the serial follows the changes again.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from '../../src/registry/registry.js';
import { startSerial, type SerialReservation } from '../../src/zone/serial.js';
import { soaRecord, type ZoneSettings } from '../../src/zone/view.js';
import { cannotMount, readOnlyBind, unmount, writableBind } from './disk.js';

const log = pino({ level: 'silent' });

function serialOf(reservation: SerialReservation, registry: Registry): number {
  const settings: ZoneSettings = {
    zones: ['docker'],
    ttl: 30,
    negativeTtl: 5,
    failOpen: true,
    serialBase: reservation.base,
    get serialCeiling() {
      return reservation.ceiling;
    },
  };
  return (soaRecord(settings, registry, 'docker', 30) as { serial: number }).serial;
}

function change(registry: Registry, times: number): void {
  for (let i = 0; i < times; i++) registry.upsert({ owner: 'manual:x', source: 'manual', names: ['x.docker'], addresses: [`10.0.${(i >> 8) & 255}.${i & 255}`], srv: [], healthy: true });
}

describe('SOA serial on a read-only data directory', { skip: cannotMount() }, () => {
  it('is held through 25,000 changes and a restart a second later, then follows the changes once the reservation is written', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'seamark-serial-'));
    const now = Date.now();
    writeFileSync(join(dataDir, 'soa-serial'), `${Math.floor(now / 1000) + 50}\n`);
    const faults: (string | undefined)[] = [];
    const running: SerialReservation[] = [];
    readOnlyBind(dataDir);
    try {
      const first = new Registry();
      const held = startSerial(dataDir, first, log, (fault) => faults.push(fault), now);
      running.push(held);
      const atStart = serialOf(held, first);
      change(first, 25_000);
      const afterChanges = serialOf(held, first);
      assert.equal(afterChanges, atStart, 'the serial stands still while nothing can be reserved');
      assert.match(String(faults[0]), /EROFS \(the disk is read-only\)/);
      held.stop();

      // A restart one second later, the disk still read-only: 25,000 changes in one second outran the clock.
      const second = new Registry();
      const restarted = startSerial(dataDir, second, log, undefined, now + 1000);
      running.push(restarted);
      change(second, 3);
      const afterRestart = serialOf(restarted, second);
      assert.ok(afterRestart >= afterChanges, `the serial went back across a restart: ${afterChanges} -> ${afterRestart}`);

      writableBind(dataDir);
      const generation = second.generation;
      restarted.retrySoon();
      const recovered = serialOf(restarted, second);
      assert.ok(recovered > afterRestart, `the serial moves once the reservation is written: ${afterRestart} -> ${recovered}`);
      assert.ok(second.generation > generation, 'a new generation carries the new serial to cached answers and DNS workers');
      assert.ok(Number(readFileSync(join(dataDir, 'soa-serial'), 'utf8')) >= recovered, 'the serial served is reserved on disk');
      change(second, 2);
      assert.equal(serialOf(restarted, second), recovered + 2, 'one serial per change again');
      restarted.stop();

      const third = new Registry();
      const later = startSerial(dataDir, third, log, undefined, now + 1000);
      running.push(later);
      assert.ok(serialOf(later, third) > recovered + 2, 'a start after the recovery is ahead of every serial served');
    } finally {
      for (const reservation of running) reservation.stop();
      unmount(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
