// Vitest setup file of `npm run test:debug` (vitest.config.ts adds it when LRO_WASM=debug): every
// WASM engine the tests create runs build/lro.debug.wasm, the core built with its assert()
// invariants (the release build has noAssert). A broken invariant aborts the core: the loader's
// env.abort throws "abort: <message> at assembly/<file>:<line>:<column>" out of the engine call.
import { readFileSync } from 'node:fs';
import { vi } from 'vitest';

vi.mock('../../bindings/engine/wasm.js', async (importOriginal) => {
  const wasm = await importOriginal<typeof import('../../bindings/engine/wasm.js')>();
  const file = new URL('../../build/lro.debug.wasm', import.meta.url);
  const module = await WebAssembly.compile(readFileSync(file));
  // A debug core imports env.abort for its assertions; one without is a stale or release build.
  if (!WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'abort')) {
    throw new Error(`${file.pathname} has no assertions (run npm run build:debug)`);
  }
  return {
    ...wasm,
    createWasmEngine: async (options: Parameters<typeof wasm.createWasmEngine>[0]) => wasm.createWasmEngineFrom(module, options),
  };
});
