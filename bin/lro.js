#!/usr/bin/env node
// `lro` command: runs the bundled dist/lro/main.js (plain Node, nothing loaded but the command's
// own modules), or for `lro coalesce` dist/lro/coalesce.js (the same main with that command built
// in, one module: scripts/build-cli.mjs). In a clone whose TypeScript sources are newer than the
// bundle (or that has none yet), it rebuilds the bundle first (esbuild, well under a second), so a
// developer never runs a stale build and never waits for tsx; LRO_TSX=1 runs the sources through
// tsx instead.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';

const sources = new URL('../bindings/', import.meta.url);
const source = new URL('../bindings/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/lro/main.js', import.meta.url);
const coalesceModule = new URL('../dist/lro/coalesce.js', import.meta.url);
/** Held while one `lro` rebuilds the bundle; others wait for it (tests start many at once). */
const lock = new URL('../dist/.lro-build-lock', import.meta.url);

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

function isClone() {
  return existsSync(source); // an installed package has dist/ only
}

function stale() {
  return !existsSync(compiled) || newestSource(sources) > statSync(compiled).mtimeMs;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rebuild dist/lro/ under the lock; false if esbuild is missing (dev dependencies not installed). */
async function rebuild() {
  for (let waited = 0; ; waited += 50) {
    try {
      mkdirSync(lock, { recursive: false });
      break;
    } catch (err) {
      if (err.code === 'ENOENT') mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
      else if (err.code !== 'EEXIST') throw err;
      else if (waited > 30_000)
        rmSync(lock, { recursive: true, force: true }); // left by a killed run
      else await sleep(50);
      if (!stale()) return true; // another run rebuilt it meanwhile
    }
  }
  try {
    if (!stale()) return true;
    const { buildCli } = await import('../scripts/build-cli.mjs');
    const result = await buildCli();
    return result.errors.length === 0;
  } catch {
    return false;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

let entry = compiled;
if (isClone()) {
  let tsx = process.env.LRO_TSX === '1';
  if (!tsx && stale()) tsx = !(await rebuild());
  if (tsx) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      entry = source;
    } catch {
      // No tsx either: use the bundle if there is one.
    }
  }
}
if (entry === compiled && !existsSync(compiled)) {
  process.stderr.write('lro: dist/lro/main.js is missing: run `npm run build`\n');
  process.exit(1);
}
if (entry === compiled && process.argv[2] === 'coalesce' && existsSync(coalesceModule)) entry = coalesceModule;
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// A failing standard output (cli/io.ts) may already have set 1.
process.exitCode = code || process.exitCode || 0;
