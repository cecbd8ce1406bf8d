// createEngine: options resolved, then the WASM core or the TS twin behind the Engine interface.
import { resolveOptions } from './options.js';
import { TsEngine } from './ts.js';
import type { Engine, EngineOptions } from './types.js';
import { createWasmEngine } from './wasm.js';

/** Create an engine (docs/CONTRACT.md). Rejects with a RangeError naming an invalid option. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const resolved = resolveOptions(options);
  return resolved.engine === 'ts' ? new TsEngine(resolved) : createWasmEngine(resolved);
}
