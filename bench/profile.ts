// One profiled scenario, run by bench/run.ts in a child `node --cpu-prof` process:
//   profile.ts <wasm|ts> <bulk|small|scale-N (scale-10k = 10000 flows)> <seconds> <profile-wasm-path>
// The WASM engine is built from build/lro.profile.wasm (release optimisation, names kept), so
// the profile names the core's functions. Prints {"frames": n, "ns": elapsed} on stdout.
import { instantiateSync } from '@assemblyscript/loader';
import { readFile } from 'node:fs/promises';
import { WasmEngine } from '../bindings/engine/wasm.js';
import { resolveOptions } from '../bindings/engine/options.js';
import { TsEngine } from '../bindings/engine/ts.js';
import type { Engine } from '../bindings/engine/types.js';
import { bulkWorkload, smallWorkload, scaleWorkload, type Workload } from './workloads.js';

async function profiledWasmEngine(path: string, maxFlows: number): Promise<Engine> {
  const options = resolveOptions({ maxFlows, hashSeed: 1 });
  const module = await WebAssembly.compile(await readFile(path));
  const imports = { env: { memory: new WebAssembly.Memory({ initial: 1 }), emitAggregate() {}, emitInput() {} } };
  const probe = instantiateSync<Record<string, unknown>>(module, imports).exports as unknown as {
    memoryNeeded(flows: number, pending: number, maxAggregate: number, ringBytes: number): number;
  };
  const pages = Math.ceil(probe.memoryNeeded(maxFlows, options.maxPending, options.maxAggregate, options.ringBytes) / 65536);
  return new WasmEngine(options, module, new WebAssembly.Memory({ initial: pages, maximum: pages }));
}

async function main(): Promise<void> {
  const [kind, name, seconds, wasmPath] = process.argv.slice(2);
  const w: Workload = name.startsWith('scale-')
    ? scaleWorkload(name === 'scale-10k' ? 10_000 : Number(name.slice(6)), 'quick')
    : name === 'small'
      ? smallWorkload('full')
      : bulkWorkload('full');
  const engine =
    kind === 'wasm'
      ? await profiledWasmEngine(wasmPath, w.maxFlows)
      : new TsEngine(resolveOptions({ maxFlows: w.maxFlows, hashSeed: 1, engine: 'ts' }));
  engine.setSink(() => {});
  const batches: { frames: Uint8Array[]; times: Float64Array }[] = [];
  for (let i = 0; i < w.frames.length; i += 256) {
    batches.push({ frames: w.frames.slice(i, i + 256), times: new Float64Array(Math.min(256, w.frames.length - i)) });
  }
  const t0 = process.hrtime.bigint();
  const frames = hotLoop(engine, w, batches, t0 + BigInt(Math.round(Number(seconds) * 1e9)));
  const ns = Number(process.hrtime.bigint() - t0);
  process.stdout.write(`${JSON.stringify({ frames, ns })}\n`);
}

/** The profiled part (run.ts keeps only samples under this function). */
function hotLoop(engine: Engine, w: Workload, batches: { frames: Uint8Array[]; times: Float64Array }[], until: bigint): number {
  let base = 1_000_000;
  let frames = 0;
  while (process.hrtime.bigint() < until) {
    let i = 0;
    for (const b of batches) {
      for (let j = 0; j < b.times.length; j++) b.times[j] = base + w.rel[i++];
      engine.pushBatch(b.frames, b.times);
    }
    engine.flush();
    base += w.spanUs + 1000;
    frames += w.frames.length;
  }
  return frames;
}

await main();
