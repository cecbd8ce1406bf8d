// `npm run build`'s CLI step: `lro` as a few ES modules in dist/lro/, bundled by esbuild from
// bindings/cli/main.ts with the package's dependency inside. Node then reads a handful of files
// at start-up instead of resolving and compiling ~40 modules (~12 ms of an `lro` run's start).
// Each command stays its own chunk, loaded only when that command runs (cli/commands.ts `load`).
// The main job, `lro coalesce`, also gets a module of its own, dist/lro/coalesce.js
// (cli/coalesce-main.ts, no chunks: bin/lro.js runs it for that command), since even a handful of
// chunks costs it ~7 ms; every other command's module is left out of it.
// The modules sit two folders below the package root like dist/engine/*.js, so the relative
// paths the code uses (../../build/lro.wasm, ../../package.json) hold.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const common = {
  absWorkingDir: root,
  outdir: 'dist/lro',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
};

/** The command modules cli/commands.ts loads; in dist/lro/coalesce.js all but coalesce are a stub. */
const OTHER_COMMANDS = /^\.\/(generate|inspect|compare|bench|demo)\.js$/;

/** Leaves the other commands out of the coalesce module (bin/lro.js never runs them from it). */
const coalesceOnly = {
  name: 'coalesce-only',
  setup(b) {
    b.onResolve({ filter: OTHER_COMMANDS }, (args) =>
      args.importer.endsWith('commands.ts') ? { path: args.path, namespace: 'other-command' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'other-command' }, () => ({
      contents:
        "export function run() { throw new Error('dist/lro/coalesce.js runs lro coalesce only (bin/lro.js runs main.js for the rest)'); }",
      loader: 'js',
    }));
  },
};

/** Bundle the CLI into dist/lro/ (main.js + chunks, and coalesce.js); resolves to esbuild's results, merged. */
export async function buildCli() {
  rmSync(`${root}dist/lro`, { recursive: true, force: true });
  const results = await Promise.all([
    build({ ...common, entryPoints: ['bindings/cli/main.ts'], chunkNames: '[name]-[hash]', splitting: true }),
    build({ ...common, entryPoints: { coalesce: 'bindings/cli/coalesce-main.ts' }, plugins: [coalesceOnly] }),
  ]);
  return { errors: results.flatMap((r) => r.errors), warnings: results.flatMap((r) => r.warnings) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await buildCli();
  if (result.errors.length + result.warnings.length > 0) process.exitCode = 1;
  else console.log('dist/lro/ built');
}
