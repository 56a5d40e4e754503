// `npm start`'s build: compiles only when a source is newer than the last build, and says what it does.
// The server (tsconfig.src.json) and the operator page (tsconfig.ui.json) are compiled incrementally
// (tsc --incremental, its state in dist/), the page's static files copied when newer. With nothing
// changed it reads file times and is done: `npm start -- records list` starts at once.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (text) => process.stderr.write(`seamark build: ${text}\n`);

function filesUnder(dir, keep) {
  let found = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found = found.concat(filesUnder(path, keep));
    else if (keep(path)) found.push(path);
  }
  return found;
}

function modified(path) {
  try {
    return statSync(join(root, path)).mtimeMs;
  } catch {
    return -Infinity;
  }
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const parts = [
  {
    name: 'server',
    config: 'tsconfig.src.json',
    output: join('dist', 'src', 'main.js'),
    state: join('dist', '.tsbuildinfo-src'),
    sources: [...filesUnder('src', (p) => p.endsWith('.ts') && !p.startsWith(join('src', 'ui'))), 'tsconfig.json', 'tsconfig.src.json'],
  },
  { name: 'operator page', config: 'tsconfig.ui.json', output: join('dist', 'src', 'ui', 'app.js'), state: join('dist', '.tsbuildinfo-ui'), sources: [...filesUnder(join('src', 'ui'), (p) => p.endsWith('.ts')), 'tsconfig.json', 'tsconfig.ui.json'] },
];

let built = false;
for (const part of parts) {
  const stamp = join('dist', `.built-${part.config}`);
  // Output gone (dist/src deleted by hand): tsc's incremental state would think it still there.
  if (modified(part.output) === -Infinity) rmSync(join(root, part.state), { force: true });
  const since = modified(part.output) === -Infinity ? -Infinity : modified(stamp);
  const changed = part.sources.filter((source) => modified(source) > since);
  if (changed.length === 0) continue;
  const which = since === -Infinity ? 'no build yet' : `${changed.length} changed: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}`;
  say(`compiling the ${part.name} (${which}) with tsc --incremental; a first build takes about half a minute on two cores`);
  const started = Date.now();
  const startedAt = new Date(started);
  try {
    execFileSync(process.execPath, [tsc, '-p', part.config, ...(part.config === 'tsconfig.ui.json' ? ['--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo-ui'] : [])], { cwd: root, stdio: 'inherit' });
  } catch {
    say(`tsc failed: the ${part.name} was not built (the errors are above)`);
    process.exit(1);
  }
  // The stamp takes the time the compile started: a source saved during it counts as changed next time.
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, stamp), '');
  utimesSync(join(root, stamp), startedAt, startedAt);
  say(`${part.name} compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  built = true;
}

const assets = filesUnder(join('src', 'ui'), (p) => /\.(html|css|svg)$/.test(p));
for (const asset of assets) {
  const target = join('dist', asset);
  if (modified(asset) <= modified(target)) continue;
  mkdirSync(join(root, 'dist', 'src', 'ui'), { recursive: true });
  copyFileSync(join(root, asset), join(root, target));
  say(`copied ${relative('.', asset)}`);
  built = true;
}
if (!built) say('up to date (no source newer than the last build): not compiling');
