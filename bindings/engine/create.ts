// createEngine: options resolved, then the WASM core or the TS twin behind the Engine interface.
// The TS twin is loaded only when asked for: a program that runs the WASM core (the CLI) never
// parses it.
import { resolveOptions } from './options.js';
import type { Engine, EngineOptions } from './types.js';
import { createWasmEngine } from './wasm.js';

/** Create an engine (docs/CONTRACT.md). Rejects with a RangeError naming an invalid option. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const resolved = resolveOptions(options);
  if (resolved.engine !== 'ts') return createWasmEngine(resolved);
  const { TsEngine } = await import('./ts.js');
  return new TsEngine(resolved);
}
