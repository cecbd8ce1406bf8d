// `npm run build`'s CLI step: `lro` as a few ES modules in dist/lro/, bundled by esbuild from
// bindings/cli/main.ts with the package's dependency inside. Node then reads a handful of files
// at start-up instead of resolving and compiling ~40 modules (~12 ms of an `lro` run's start).
// Each command stays its own chunk, loaded only when that command runs (cli/commands.ts `load`).
// The chunks sit next to main.js, two folders below the package root like dist/engine/*.js, so
// the relative paths the code uses (../../build/lro.wasm, ../../package.json) hold.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundle bindings/cli/main.ts into dist/lro/ (main.js + chunks); resolves to esbuild's result. */
export function buildCli() {
  rmSync(`${root}dist/lro`, { recursive: true, force: true });
  return build({
    absWorkingDir: root,
    entryPoints: ['bindings/cli/main.ts'],
    outdir: 'dist/lro',
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await buildCli();
  if (result.errors.length + result.warnings.length > 0) process.exitCode = 1;
  else console.log('dist/lro/ built');
}
