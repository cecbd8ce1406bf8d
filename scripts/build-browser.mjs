// `npm run build`'s last step: the package's browser entry, dist/browser/large-receive.js — one
// ES module bundled by esbuild from bindings/index.ts with the package's one dependency
// (@assemblyscript/loader) inside, so a page imports it with no import map and no bundler.
// package.json "exports" gives it to bundlers and browsers under the "browser" condition. It
// fetches build/lro.wasm two folders up from itself, as dist/engine/wasm.js does.
//
// Also exported for the demo's build (demo/build.mjs) and the tests: `browserAliases`, the esbuild
// plugin that picks the browser side of the package's "#load-wasm" import when bundling from the
// TypeScript sources (the root tsconfig.json maps it to the Node loader, for tsx).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** esbuild plugin: '#load-wasm' → bindings/engine/load-wasm.browser.ts. */
export const browserAliases = {
  name: 'large-receive-browser',
  setup(b) {
    b.onResolve({ filter: /^#load-wasm$/ }, () => ({ path: `${root}bindings/engine/load-wasm.browser.ts` }));
  },
};

/** Bundle bindings/index.ts into dist/browser/large-receive.js; resolves to esbuild's result. */
export function buildBrowserEntry() {
  return build({
    absWorkingDir: root,
    entryPoints: ['bindings/index.ts'],
    outfile: 'dist/browser/large-receive.js',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [browserAliases],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await buildBrowserEntry();
  if (result.errors.length + result.warnings.length > 0) process.exitCode = 1;
  else console.log('dist/browser/large-receive.js built');
}
