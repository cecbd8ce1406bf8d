// The pure-TypeScript engine: bindings/twin/ behind the Engine interface.
import { MAX_BATCH, STAGE_BYTES, bufferCapacity } from '../abi.js';
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
    const bytes = options.maxPending * bufferCapacity(options.maxAggregate) + options.maxFlows * TABLE_BYTES_PER_FLOW;
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
      aggregate: (bytes, start, length) => queue.add(bytes.subarray(start, start + length)),
      input: () => queue.add(this.current),
    });
    queue.readFrom(this.core.out, 0);
  }

  /**
   * One frame. With a sink, caller code runs during the call: the twin reads a copy (in the staging
   * area), so the frame's bytes are those it had when pushed (CONTRACT §7). Without one, the frame itself.
   */
  protected pushFrame(frame: Uint8Array, timeUs: number): void {
    if (this.queue.sink !== null) {
      const length = frame.length;
      if (length <= STAGE_BYTES) {
        const area = this.area;
        area.set(frame, 0);
        frame = area.subarray(0, length);
      } else {
        frame = frame.slice();
      }
    }
    this.current = frame;
    this.core.push(frame, timeUs);
  }

  /** pushBatch: staged like the WASM engine's with a sink; without one, the caller's frames directly. */
  protected override pushFrames(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void {
    if (this.queue.sink !== null) return super.pushFrames(frames, timesUs);
    for (let i = 0; i < frames.length; i++) {
      this.current = frames[i];
      this.core.push(frames[i], timesUs[i]);
    }
  }

  /** pushFrom: staged with a sink; without one, subarrays of the view. */
  protected override pushFromView(
    view: Uint8Array,
    offsets: ArrayLike<number>,
    lengths: ArrayLike<number>,
    timesUs: ArrayLike<number>,
  ): void {
    if (this.queue.sink !== null) return super.pushFromView(view, offsets, lengths, timesUs);
    for (let i = 0; i < offsets.length; i++) {
      const frame = view.subarray(offsets[i], offsets[i] + lengths[i]);
      this.current = frame;
      this.core.push(frame, timesUs[i]);
    }
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
    const area = this.area;
    for (let i = 0; i < count; i++) {
      const at = this.chunkOffsets[i];
      const length = this.chunkLengths[i];
      const frame = this.inPlace || this.chunkStaged[i] === length ? area.subarray(at, at + length) : this.oversize[i];
      this.current = frame;
      this.core.push(frame, this.chunkTimes[i]);
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
