// Memory of both engines: per tracked flow, per connection buffer, the fixed part, and whether
// 100k flows fit. Rendered right after the scale table (under its heading).
import { createEngine } from '../../bindings/index.js';
import type { WasmEngine } from '../../bindings/engine/wasm.js';
import type { Engine, EngineOptions } from '../../bindings/engine/types.js';
import { Markdown, num } from '../report.js';
import type { BenchContext, Section } from './context.js';
import { BUFFER_BYTES, HUNDRED_K_BUFFERS } from './scale.js';

interface Memory {
  wasmPerFlow: number;
  wasmPerBuffer: number;
  wasmFixed: number;
  tsPerFlow: number;
  tsPerBuffer: number;
  /** "created: … MiB" or "rejected: …" */
  hundredK: string;
  hundredKDefault: string;
  wasmMaxPending: number;
  tsMaxPending: number;
}

export async function memorySection(ctx: BenchContext): Promise<Section> {
  ctx.log('memory per flow');
  return { markdown: render(await memoryPerFlow()) };
}

function bytesCell(b: number): string {
  return `${Math.round(b)} B (${(b / 1024).toFixed(1)} KiB)`;
}

function render(memory: Memory): Markdown {
  const md = new Markdown();
  md.table(
    ['memory', 'WASM engine', 'TS twin'],
    [
      ['per tracked flow (maxFlows 1024 → 16384, maxPending 1024)', bytesCell(memory.wasmPerFlow), bytesCell(memory.tsPerFlow)],
      [
        'per connection buffer (maxPending 1024 → 4096, maxAggregate 65535)',
        bytesCell(memory.wasmPerBuffer),
        bytesCell(memory.tsPerBuffer),
      ],
      ['fixed part', `${num(memory.wasmFixed / 2 ** 20, 2)} MiB`, '—'],
      [
        'largest maxPending at maxAggregate 65535',
        `${memory.wasmMaxPending} (a wasm32 memory holds 4 GiB)`,
        `${memory.tsMaxPending} (a typed array holds 4 GiB)`,
      ],
      [
        `100k flows, maxPending ${HUNDRED_K_BUFFERS}`,
        memory.hundredK,
        `≈ ${num((memory.tsPerFlow * 1e5 + memory.tsPerBuffer * HUNDRED_K_BUFFERS) / 2 ** 20, 0)} MiB`,
      ],
      [
        '100k flows, maxPending = maxFlows',
        memory.hundredKDefault,
        `needs ${num(((memory.tsPerFlow + memory.tsPerBuffer) * 1e5) / 2 ** 30, 1)} GiB`,
      ],
    ],
  );
  md.p(
    'A tracked flow costs its record, its table slots and its timer links; a connection buffer ' +
      '(maxAggregate + 128 bytes) is lent to a flow only while it has a pending aggregate. maxPending (default maxFlows, ' +
      'so the default never sends early) sets how many aggregates may be pending at once, and with it nearly all of ' +
      'the memory.',
  );
  return md;
}

async function memoryPerFlow(): Promise<Memory> {
  const wasmAt = async (maxFlows: number, maxPending: number) => {
    const e = (await createEngine({ maxFlows, maxPending })) as WasmEngine;
    const bytes = e.memoryBytes();
    e.close();
    return bytes;
  };
  const tsAt = async (maxFlows: number, maxPending: number) => {
    const e: Engine = await createEngine({ engine: 'ts', maxFlows, maxPending });
    const bytes = reachableBufferBytes(e);
    e.close();
    return bytes;
  };
  const base = await wasmAt(1024, 1024);
  const wasmPerFlow = ((await wasmAt(16384, 1024)) - base) / (16384 - 1024);
  const wasmPerBuffer = ((await wasmAt(4096, 4096)) - (await wasmAt(4096, 1024))) / (4096 - 1024);
  const wasmFixed = base - 1024 * (wasmPerFlow + wasmPerBuffer);
  const tsBase = await tsAt(1024, 1024);
  const tsPerFlow = ((await tsAt(16384, 1024)) - tsBase) / (16384 - 1024);
  const tsPerBuffer = ((await tsAt(4096, 4096)) - (await tsAt(4096, 1024))) / (4096 - 1024);
  const tryCreate = async (options: EngineOptions) => {
    try {
      const e = (await createEngine(options)) as WasmEngine;
      const bytes = e.memoryBytes();
      e.close();
      return `created: ${num(bytes / 2 ** 20, 0)} MiB`;
    } catch (err) {
      return `rejected: ${(err as Error).message}`;
    }
  };
  return {
    wasmPerFlow,
    wasmPerBuffer,
    wasmFixed,
    tsPerFlow,
    tsPerBuffer,
    hundredK: await tryCreate({ maxFlows: 100_000, maxPending: HUNDRED_K_BUFFERS }),
    hundredKDefault: await tryCreate({ maxFlows: 100_000 }),
    wasmMaxPending: Math.floor((2 ** 32 - wasmFixed - 1024 * wasmPerFlow) / wasmPerBuffer),
    tsMaxPending: Math.floor(2 ** 32 / BUFFER_BYTES),
  };
}

/** Bytes of every ArrayBuffer reachable from `root` through object properties (the TS twin's tables). */
function reachableBufferBytes(root: unknown): number {
  const seen = new Set<object>();
  const buffers = new Set<ArrayBufferLike>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) buffers.add(v.buffer);
    else if (v instanceof ArrayBuffer) buffers.add(v);
    else stack.push(...Object.values(v));
  }
  let bytes = 0;
  for (const b of buffers) bytes += b.byteLength;
  return bytes;
}
