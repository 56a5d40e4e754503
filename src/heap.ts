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

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
if (!given.some((flag) => /^--(max-|min-)?semi-space/.test(flag))) setFlagsFromString('--semi-space-growth-factor=1');
