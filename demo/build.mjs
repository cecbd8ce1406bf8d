// `npm run demo:build`: the demo as static files in demo/dist/ (git-ignored) that any static host
// can serve — index.html, main.js (the page), worker.js (the work), bench.html + bench.js (the
// browser benchmark, npm run bench:browser) and lro.wasm next to them. Bundled by esbuild from
// the TypeScript sources:
//   - '#load-wasm' → the browser loader (fetch + compileStreaming), as in the package's browser entry;
//   - node:fs / node:path → demo/src/shims/ (an in-memory file system), so the worker runs the
//     CLI's own capture reader, `lro coalesce` job and writer unchanged;
//   - the engine's wasm URL (two folders up from the module, where the package keeps it) → ./lro.wasm.
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserAliases } from '../scripts/build-browser.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const demo = join(root, 'demo');
const WASM_URL = "new URL('../../build/lro.wasm', import.meta.url)";

/** The engine module fetches lro.wasm from next to the bundle. */
const wasmNextToBundle = {
  name: 'lro-wasm-url',
  setup(b) {
    b.onLoad({ filter: /bindings[\\/]engine[\\/]wasm\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(WASM_URL)) {
        return { errors: [{ text: `demo/build.mjs: ${WASM_URL} not found in bindings/engine/wasm.ts (update WASM_URL)` }] };
      }
      return { contents: text.replace(WASM_URL, "new URL('./lro.wasm', import.meta.url)"), loader: 'ts' };
    });
  },
};

/** Build into `outdir` (default demo/dist); resolves to { outdir, files: { name: bytes } }. */
export async function buildDemo({ outdir = join(demo, 'dist'), minify = true } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      main: 'demo/src/main.ts',
      worker: 'demo/src/worker.ts',
      bench: 'demo/src/bench-page.ts',
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: 'linked',
    logLevel: 'warning',
    alias: {
      'node:fs': './demo/src/shims/fs.ts',
      'node:path': './demo/src/shims/path.ts',
    },
    plugins: [browserAliases, wasmNextToBundle],
  });
  if (result.errors.length + result.warnings.length > 0) throw new Error('demo build: esbuild reported problems (above)');
  for (const page of ['index.html', 'bench.html']) copyFileSync(join(demo, page), join(outdir, page));
  copyFileSync(join(root, 'build', 'lro.wasm'), join(outdir, 'lro.wasm'));
  const files = {};
  for (const f of ['index.html', 'main.js', 'worker.js', 'bench.html', 'bench.js', 'lro.wasm']) files[f] = statSync(join(outdir, f)).size;
  return { outdir, files };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { outdir, files } = await buildDemo();
  const list = Object.entries(files)
    .map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KiB`)
    .join(', ');
  console.log(`demo built in ${outdir}: ${list}`);
}
