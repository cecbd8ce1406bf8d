// The wasm loader for Node (package.json "imports" → "#load-wasm", condition "node"): a file: URL
// is read from disk, anything else fetched. Its browser twin is load-wasm.browser.ts; both export
// the same function, and engine/wasm.ts imports it as '#load-wasm'.
import { readFileSync } from 'node:fs';
import { compileWasm as compileFetched } from './load-wasm.browser.js';

/** Compile the module at `url` (a file: URL in an installed package or a clone). */
export async function compileWasm(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol !== 'file:') return compileFetched(url);
  // Read synchronously: ~10 KB, and node:fs/promises would cost start-up a module and a round trip
  // through the thread pool.
  return WebAssembly.compile(readFileSync(url));
}
