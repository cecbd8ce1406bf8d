// The pure-TypeScript engine: bindings/twin/ behind the Engine interface.
import { BUILD_AREAS, MAX_BATCH, STAGE_BYTES, bufferCapacity } from '../abi.js';
import { TwinCore, type Emitter } from '../twin/engine.js';
import { EngineBase } from './base.js';
import { tooLarge } from './options.js';
import { statsFromCounters } from './stats.js';
import type { ResolvedOptions, Stats } from './types.js';

/** The twin's tables, or a RangeError naming the options that size them when they cannot be allocated. */
function allocate(options: ResolvedOptions, emitter: Emitter): TwinCore {
  try {
    return new TwinCore(options, emitter);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const areas = Math.min(options.maxPending, BUILD_AREAS) + 1;
    const bytes = options.ringBytes + areas * bufferCapacity(options.maxAggregate) + options.maxFlows * TABLE_BYTES_PER_FLOW;
    throw tooLarge(options, bytes, `cannot allocate them (${error.message})`);
  }
}

/** About what a tracked flow costs the twin's tables, for the message above (bench/RESULTS.md measures it). */
const TABLE_BYTES_PER_FLOW = 140;

export class TsEngine extends EngineBase {
  private readonly core: TwinCore;
  private current: Uint8Array = new Uint8Array(0);

  constructor(options: ResolvedOptions) {
    super(options);
    const queue = this.queue;
    // The packet's metadata is in the twin's output descriptor (core.out).
    this.core = allocate(options, {
      aggregate: (bytes, start, length) => queue.add(new Uint8Array(bytes.buffer, bytes.byteOffset + start, length)),
      input: () => queue.add(this.current),
    });
    queue.readFrom(this.core.out, 0);
  }

  private staging: Uint8Array | null = null;

  stagingArea(): Uint8Array {
    this.areaExposed = true;
    return this.area;
  }

  protected get area(): Uint8Array {
    this.staging ??= new Uint8Array(STAGE_BYTES);
    return this.staging;
  }

  protected get ring(): Uint8Array {
    return this.core.ring.bytes;
  }

  protected makeRoom(cost: number, timeUs: number): number {
    return this.core.ringMakeRoom(cost, timeUs);
  }

  protected reserve(need: number): number {
    return this.core.ringReserve(need);
  }

  protected windowEnd(): number {
    return this.core.ring.windowEnd;
  }

  // The chunk being processed (the WASM engine's batch descriptors).
  private readonly chunkOffsets = new Float64Array(MAX_BATCH);
  private readonly chunkStaged = new Float64Array(MAX_BATCH);
  private readonly chunkLengths = new Float64Array(MAX_BATCH);
  private readonly chunkTimes = new Float64Array(MAX_BATCH);

  protected describe(i: number, offset: number, staged: number, length: number, timeUs: number): void {
    this.chunkOffsets[i] = offset;
    this.chunkStaged[i] = staged;
    this.chunkLengths[i] = length;
    this.chunkTimes[i] = timeUs;
  }

  protected runChunk(count: number): void {
    const ring = this.core.ring.bytes;
    for (let i = 0; i < count; i++) {
      const at = this.chunkOffsets[i];
      const length = this.chunkLengths[i];
      const whole = this.chunkStaged[i] === length;
      const frame = whole ? new Uint8Array(ring.buffer, ring.byteOffset + at, length) : this.oversize[i];
      this.current = frame;
      this.core.push(frame, this.chunkTimes[i], whole ? at : -1);
    }
  }

  protected advanceClock(timeUs: number): void {
    this.core.advance(timeUs);
  }

  protected flushWith(reason: number): void {
    this.core.flushAll(reason);
  }

  protected coreDeadline(): number {
    return this.core.nextDeadline();
  }

  firstPendingIndex(): number {
    return this.core.firstPendingIndex();
  }

  stats(): Stats {
    return statsFromCounters(this.core.counters, this.core.flowsActive());
  }
}
