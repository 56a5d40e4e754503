#!/usr/bin/env node
// Checks every relative link of README.md and docs/*.md: the file exists and, for a #fragment, the target file
// has a heading with that anchor (GitHub's rule: lower case, punctuation dropped, spaces made '-', a repeated
// heading gets -1, -2, …). Prints each broken link with its file and line; exits 1 if there is one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The lines of a Markdown file outside fenced code blocks, with their line numbers. */
function proseLines(text) {
  const lines = [];
  let fence = null;
  text.split('\n').forEach((line, index) => {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker !== undefined && (fence === null || fence === marker)) fence = fence === null ? marker : null;
    else if (fence === null) lines.push({ line, number: index + 1 });
  });
  return lines;
}

/** The anchor GitHub gives a heading's text. */
function anchorOf(heading) {
  const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const anchorCache = new Map();
function anchorsOf(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map();
    const anchors = new Set();
    for (const { line } of proseLines(readFileSync(file, 'utf8'))) {
      const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
      if (heading === undefined) continue;
      const base = anchorOf(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    anchorCache.set(file, anchors);
  }
  return anchorCache.get(file);
}

let broken = 0;
let checked = 0;
for (const name of files) {
  const file = join(root, name);
  for (const { line, number } of proseLines(readFileSync(file, 'utf8'))) {
    const code = line.replace(/`[^`]*`/g, '');
    for (const match of code.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1];
      if (/^[a-z]+:/i.test(target)) continue;
      checked += 1;
      const [path, fragment] = target.split('#');
      const targetFile = path === '' ? file : resolve(dirname(file), path);
      let problem = null;
      if (!existsSync(targetFile)) problem = `no file ${relative(root, targetFile)}`;
      else if (fragment !== undefined && !anchorsOf(targetFile).has(fragment)) problem = `no heading #${fragment} in ${relative(root, targetFile)}`;
      if (problem !== null) {
        broken += 1;
        console.log(`${name}:${number}: ${target}: ${problem}`);
      }
    }
  }
}
console.log(`${checked} relative links in ${files.length} files, ${broken} broken`);
process.exitCode = broken === 0 ? 0 : 1;
