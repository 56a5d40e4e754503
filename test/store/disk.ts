// Disk faults for store tests, on real filesystems mounted by the test (root
// only): a small tmpfs filled to the last byte, read-only remounts and bind mounts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why a disk-fault test cannot run here, or undefined when it can (mounting needs root). */
export function cannotMount(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'needs root to mount a tmpfs and remount it read-only; run the tests as root (CI does)';
}

/** A fresh tmpfs of `size` (e.g. "256k") mounted on a new directory; returns that directory. */
export function mountTmpfs(size: string): string {
  const mountPoint = mkdtempSync(join(tmpdir(), 'seamark-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint]);
  return mountPoint;
}

/** Fills the filesystem of `directory` to the last byte with one file, returned (remove it to free the space). */
export function fillDisk(directory: string): string {
  const filler = join(directory, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // expected: dd stops with ENOSPC, which is the point
  }
  return filler;
}

/** Makes `directory` a read-only view of itself (a read-only bind mount); undo with writable(). */
export function readOnlyBind(directory: string): void {
  execFileSync('mount', ['--bind', directory, directory]);
  execFileSync('mount', ['-o', 'remount,bind,ro', directory]);
}

/** Makes a read-only bind mount writable again (the bind stays until unmount()). */
export function writableBind(directory: string): void {
  execFileSync('mount', ['-o', 'remount,bind,rw', directory]);
}

export function remountReadOnly(mountPoint: string): void {
  execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
}

export function remountWritable(mountPoint: string): void {
  execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
}

/** Unmounts whatever is mounted on `directory` (ignored when nothing is) and removes it. */
export function unmount(directory: string): void {
  for (;;) {
    try {
      execFileSync('umount', [directory], { stdio: 'ignore' });
    } catch {
      break;
    }
  }
  rmSync(directory, { recursive: true, force: true });
}
