// large-receive: TCP Large Receive (the patent's LR algorithm) for Node and browsers.
import { createWasmEngine } from './engine-wasm.js';
import { TsEngine } from './engine-ts.js';
import { resolveOptions } from './options.js';
import type { Engine, EngineOptions } from './types.js';

export * from './types.js';
export { resolveOptions } from './options.js';

/** Create an engine (SPEC §7). Rejects with a RangeError naming an invalid option. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const resolved = resolveOptions(options);
  return resolved.engine === 'ts' ? new TsEngine(resolved) : createWasmEngine(resolved);
}
export { createStream, type StreamOptions, type TimedFrame } from './stream.js';
