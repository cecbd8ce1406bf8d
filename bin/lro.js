#!/usr/bin/env node
// `lro` command. In a clone (tsx installed as a dev dependency) it runs the TypeScript sources
// directly, so they are never stale; in an installed package it runs the compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../bindings/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

let entry = compiled;
if (existsSync(source)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch {
    // No tsx: use the compiled build.
  }
}
if (entry === compiled && !existsSync(compiled)) {
  process.stderr.write('lro: dist/cli/main.js is missing: run `npm run build` (or `npm install` in a clone)\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
