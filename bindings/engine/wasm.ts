// The WebAssembly engine: the AssemblyScript core (assembly/) behind the Engine interface.
// One compiled module per process, one instance and one fixed-size memory per engine.
import { instantiateSync } from '@assemblyscript/loader';
import { compileWasm } from '#load-wasm';
import {
  DESC_LENGTH,
  DESC_OFFSET,
  DESC_SIZE,
  DESC_STAGED,
  DESC_TIME,
  MAX_BATCH,
  PRESET_GRO,
  PRESET_SEED,
  PRESET_THROUGHPUT,
  STAGE_BYTES,
  STAT_COUNT,
  frameLimit,
} from '../abi.js';
import { EngineBase } from './base.js';
import { tooLarge } from './options.js';
import { statsFromCounters } from './stats.js';
import type { ResolvedOptions, Stats } from './types.js';

/** Numeric export surface of build/lro.wasm (assembly/index.ts). */
interface CoreExports {
  memoryNeeded(flows: number, pending: number, maxAggregate: number, ringBytes: number): number;
  init(
    flows: number,
    pending: number,
    maxAggregate: number,
    ringBytes: number,
    maxFrame: number,
    threshold: number,
    agPeriodUs: number,
    delPeriodUs: number,
    preset: number,
    verify: number,
    fix: number,
    seed: number,
    linkType: number,
  ): number;
  stageDataPtr(): number;
  ringPtr(): number;
  ringMakeRoom(cost: number, timeUs: number): number;
  ringReserve(need: number): number;
  ringWindowEnd(): number;
  stageDescPtr(): number;
  stageBytes(): number;
  maxBatch(): number;
  statsPtr(): number;
  flowsActive(): number;
  pushBatch(count: number): void;
  advance(timeUs: number): void;
  flush(reason: number): void;
  nextDeadline(): number;
  outDescPtr(): number;
  firstPendingIndex(): number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

let compiled: Promise<WebAssembly.Module> | null = null;

/**
 * build/lro.wasm, two folders up from this module: from bindings/engine/ (sources), dist/engine/
 * (the build) and dist/browser/ (the browser bundle) alike. Loaded by '#load-wasm' (package.json
 * "imports"): load-wasm.node.ts reads the file in Node; load-wasm.browser.ts fetches it
 * (compileStreaming when served as application/wasm), with no Node built-in for bundlers.
 */
function wasmUrl(): URL {
  return new URL('../../build/lro.wasm', import.meta.url);
}

function compileOnce(): Promise<WebAssembly.Module> {
  compiled ??= compileWasm(wasmUrl());
  // A failed load (missing file, network) is not cached: the next createEngine tries again.
  compiled.catch(() => {
    compiled = null;
  });
  return compiled;
}

function noImports() {
  return { env: { memory: new WebAssembly.Memory({ initial: 1 }), emitAggregate() {}, emitInput() {} } };
}

export async function createWasmEngine(options: ResolvedOptions): Promise<WasmEngine> {
  return createWasmEngineFrom(await compileOnce(), options);
}

/**
 * An engine on a given compiled core (createWasmEngine: build/lro.wasm). Not part of the public
 * API (bindings/index.ts does not export it): test:debug runs the engine tests on
 * build/lro.debug.wasm through it (test/helpers/debug-wasm.ts).
 */
export function createWasmEngineFrom(module: WebAssembly.Module, options: ResolvedOptions): WasmEngine {
  // Ask the core how much memory its layout needs, in a throwaway instance.
  const probe = instantiateSync<Record<string, unknown>>(module, noImports()).exports as unknown as CoreExports;
  const bytes = probe.memoryNeeded(options.maxFlows, options.maxPending, options.maxAggregate, options.ringBytes);
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) {
    throw tooLarge(options, bytes, 'more than a WebAssembly memory holds (4 GiB)');
  }
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    throw tooLarge(options, bytes, 'this WebAssembly memory cannot be allocated here');
  }
  return new WasmEngine(options, module, memory);
}

export class WasmEngine extends EngineBase {
  private readonly core: CoreExports;
  private readonly memory: WebAssembly.Memory;
  private readonly heap: Uint8Array; //  the memory never grows, so this view stays valid
  private readonly counters: Float64Array;
  private readonly descF64: Float64Array;
  private readonly descU32: Uint32Array;
  private readonly stageData: number;
  private readonly stageDesc: number;
  private readonly staging: Uint8Array; // stagingArea(), one view kept
  private readonly ringView: Uint8Array; // the ring (assembly/ring.ts), one view kept
  private readonly ringAt: number;

  constructor(options: ResolvedOptions, module: WebAssembly.Module, memory: WebAssembly.Memory) {
    super(options);
    this.memory = memory;
    const queue = this.queue;
    const buffer = memory.buffer; // the memory never grows: one buffer for the engine's life
    const imports = {
      env: {
        memory,
        // The packet's metadata is in the core's output descriptor (queue.readFrom below).
        // new Uint8Array(buffer, …) rather than subarray(): no species lookup, ~15 ns less per packet.
        emitAggregate: (ptr: number, length: number) => {
          queue.add(new Uint8Array(buffer, ptr >>> 0, length));
        },
        emitInput: (batchIndex: number) => {
          queue.add(this.inputFrame(batchIndex));
        },
      },
    };
    this.core = instantiateSync<Record<string, unknown>>(module, imports).exports as unknown as CoreExports;
    this.heap = new Uint8Array(memory.buffer);
    const o = options;
    const status = this.core.init(
      o.maxFlows,
      o.maxPending,
      o.maxAggregate,
      o.ringBytes,
      frameLimit(o.maxFrame),
      o.threshold,
      o.aggregateTimeoutUs,
      o.idleTimeoutMs * 1000,
      o.preset === 'seed' ? PRESET_SEED : o.preset === 'throughput' ? PRESET_THROUGHPUT : PRESET_GRO,
      o.verifyChecksums ? 1 : 0,
      o.fixChecksums ? 1 : 0,
      o.hashSeed >>> 0,
      o.linkType,
    );
    if (status !== 0) throw new RangeError('large-receive: WebAssembly memory smaller than the core layout');
    this.counters = new Float64Array(memory.buffer, this.core.statsPtr() >>> 0, STAT_COUNT);
    queue.readFrom(memory.buffer, this.core.outDescPtr() >>> 0);
    this.stageData = this.core.stageDataPtr() >>> 0;
    this.stageDesc = this.core.stageDescPtr() >>> 0;
    if (this.core.stageBytes() !== STAGE_BYTES || this.core.maxBatch() !== MAX_BATCH) {
      throw new Error('large-receive: build/lro.wasm does not match bindings/abi.ts (rebuild it: npm run build)');
    }
    this.descF64 = new Float64Array(memory.buffer, this.stageDesc, (MAX_BATCH * DESC_SIZE) / 8);
    this.descU32 = new Uint32Array(memory.buffer, this.stageDesc, (MAX_BATCH * DESC_SIZE) / 4);
    this.staging = this.heap.subarray(this.stageData, this.stageData + STAGE_BYTES);
    this.ringAt = this.core.ringPtr() >>> 0;
    this.ringView = this.heap.subarray(this.ringAt, this.ringAt + ((o.ringBytes & ~7) >>> 0)); // up to 2^31
  }

  /** Bytes of linear memory this engine owns (fixed at creation). */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  protected get area(): Uint8Array {
    return this.staging;
  }

  protected get ring(): Uint8Array {
    return this.ringView;
  }

  protected makeRoom(cost: number, timeUs: number): number {
    return this.core.ringMakeRoom(cost, timeUs);
  }

  protected reserve(need: number): number {
    return this.core.ringReserve(need) >>> 0;
  }

  protected windowEnd(): number {
    return this.core.ringWindowEnd() >>> 0;
  }

  stagingArea(): Uint8Array {
    this.areaExposed = true;
    return this.heap.subarray(this.stageData, this.stageData + STAGE_BYTES);
  }

  /** Batch descriptor i (layout in abi.ts): a frame at `offset` in the ring. */
  protected describe(i: number, offset: number, staged: number, length: number, timeUs: number): void {
    const d = i * DESC_SIZE;
    this.descU32[(d + DESC_OFFSET) >> 2] = offset;
    this.descU32[(d + DESC_STAGED) >> 2] = staged;
    this.descU32[(d + DESC_LENGTH) >> 2] = length;
    this.descF64[(d + DESC_TIME) >> 3] = timeUs;
  }

  protected runChunk(count: number): void {
    this.core.pushBatch(count);
  }

  /**
   * Pass-through frame i of the core call: the bytes the core read, in the ring (a frame staged
   * whole), else the whole copy taken when it was staged.
   */
  private inputFrame(i: number): Uint8Array {
    const d = i * DESC_SIZE;
    const length = this.descU32[(d + DESC_LENGTH) >> 2];
    if (this.descU32[(d + DESC_STAGED) >> 2] !== length) return this.oversize[i];
    return new Uint8Array(this.heap.buffer, this.ringAt + this.descU32[(d + DESC_OFFSET) >> 2], length);
  }

  protected advanceClock(timeUs: number): void {
    this.core.advance(timeUs);
  }

  protected flushWith(reason: number): void {
    this.core.flush(reason);
  }

  protected coreDeadline(): number {
    return this.core.nextDeadline();
  }

  firstPendingIndex(): number {
    return this.core.firstPendingIndex();
  }

  stats(): Stats {
    return statsFromCounters(this.counters, this.core.flowsActive());
  }
}
