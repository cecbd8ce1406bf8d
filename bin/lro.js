#!/usr/bin/env node
// `lro` command: runs the bundled dist/lro/main.js (plain Node, nothing loaded but the command's
// own modules). In a clone whose TypeScript sources are newer than that build, or with LRO_TSX=1,
// it runs the sources through tsx instead, so a developer never runs a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';

const sources = new URL('../bindings/', import.meta.url);
const source = new URL('../bindings/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/lro/main.js', import.meta.url);

/** Newest modification time of the .ts files under `dir` (0 if none). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

function wantSources() {
  if (!existsSync(source)) return false; // an installed package: dist/ only
  if (process.env.LRO_TSX === '1') return true;
  if (!existsSync(compiled)) return true;
  return newestSource(sources) > statSync(compiled).mtimeMs;
}

let entry = compiled;
if (wantSources()) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch {
    // No tsx (dev dependencies not installed): use the compiled build if there is one.
  }
}
if (entry === compiled && !existsSync(compiled)) {
  process.stderr.write('lro: dist/lro/main.js is missing: run `npm run build` (or `npm install` in a clone)\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// A failing standard output (cli/io.ts) may already have set 1.
process.exitCode = code || process.exitCode || 0;
