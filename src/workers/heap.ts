// V8 heap settings for a daemon whose heap is small and steady. main.ts
// imports this alone and the rest of the program after it: an ES module graph
// is loaded whole before any of it runs, and loading seamark's modules is
// itself enough allocation to grow the young generation.
//
// V8 grows the young generation (two semi-spaces) up to 16 MB each under an
// allocation burst such as start-up, and then keeps it: 32 MB of resident
// memory for a heap that holds a few MB of short-lived objects. Keeping the
// semi-spaces at their initial size costs more, smaller scavenges, which
// `npm run bench` shows as no change in throughput or CPU per query.
// `--max-semi-space-size` cannot be changed once the process runs, the growth
// factor can. An operator's own semi-space flag (node flags or NODE_OPTIONS) wins.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];

/** Whether the operator gave a node flag matching `pattern` (in the node flags or NODE_OPTIONS): then it wins over seamark's. */
export function operatorGave(pattern: RegExp): boolean {
  return given.some((flag) => pattern.test(flag));
}

if (!operatorGave(/^--(max-|min-)?semi-space/)) setFlagsFromString('--semi-space-growth-factor=1');

/**
 * Once seamark has started: the old generation may grow 20 % beyond what
 * the last full collection left before the next one (V8 lets it grow by up
 * to several times). A serving seamark's heap is steady, so that costs few
 * collections, and the garbage of start-up and of first answers is not left
 * to pile up: `npm run bench` with 100,000 names saw up to 165 MB resident
 * without it, 143–150 MB with it. Not during start-up, where it would slow
 * loading 100,000 stored records by about 0.4 s. An operator's own
 * `--heap-growing-percent` wins.
 */
export function tightenHeapGrowth(): void {
  if (!operatorGave(/^--heap-growing-percent/)) setFlagsFromString('--heap-growing-percent=20');
  // One full collection now: start-up's garbage (a parsed configuration, the store's files) goes at
  // once, and V8 sets its next limit from what is left, with the growth above.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
