import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// LRO_WASM=debug (npm run test:debug): WASM engines run build/lro.debug.wasm, assertions included.
const debugWasm = process.env.LRO_WASM === 'debug';

export default defineConfig({
  // The package's "#load-wasm" import (package.json "imports") from the sources: the Node loader.
  resolve: { alias: { '#load-wasm': fileURLToPath(new URL('./bindings/engine/load-wasm.node.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: debugWasm ? ['test/helpers/debug-wasm.ts'] : [],
    testTimeout: 60_000,
    hookTimeout: 200_000,
  },
});
