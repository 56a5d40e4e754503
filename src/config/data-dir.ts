// Where hand-made records live when no dataDir is given: a place that does not
// depend on the directory seamark happened to be started from.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The seamark package's own directory (dist/src/config/ → the package root). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface DataDirContext {
  env: NodeJS.ProcessEnv;
  /** The package root when it is a source checkout (has .git), else undefined. */
  checkout: string | undefined;
  root: boolean;
  home: string;
}

export function dataDirContext(env: NodeJS.ProcessEnv): DataDirContext {
  return {
    env,
    checkout: existsSync(join(PACKAGE_ROOT, '.git')) ? PACKAGE_ROOT : undefined,
    root: process.getuid?.() === 0,
    home: homedir(),
  };
}

/**
 * The default dataDir, first that applies: systemd's StateDirectory= ($STATE_DIRECTORY); `data` in the source
 * checkout seamark runs from (the quick start's `npm start`); /var/lib/seamark for root; else
 * $XDG_STATE_HOME/seamark (~/.local/state/seamark). Returns where it came from too, for the start-up log.
 */
export function defaultDataDir({ env, checkout, root, home }: DataDirContext): { dir: string; why: string } {
  const state = env.STATE_DIRECTORY?.split(':')[0];
  if (state !== undefined && state !== '') return { dir: state, why: "systemd's StateDirectory ($STATE_DIRECTORY)" };
  if (checkout !== undefined) return { dir: join(checkout, 'data'), why: 'the source checkout seamark runs from' };
  if (root) return { dir: '/var/lib/seamark', why: 'running as root' };
  const xdg = env.XDG_STATE_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(home, '.local', 'state');
  return { dir: join(base, 'seamark'), why: xdg !== undefined && xdg.startsWith('/') ? '$XDG_STATE_HOME' : 'the user state directory (~/.local/state)' };
}
