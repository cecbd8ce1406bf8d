// The pure-TypeScript engine: bindings/twin/ behind the Engine interface.
import { STAGE_BYTES, bufferCapacity } from '../abi.js';
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

  protected pushFrame(frame: Uint8Array, timeUs: number): void {
    this.current = frame;
    this.core.push(frame, timeUs);
  }

  protected pushFrames(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void {
    for (let i = 0; i < frames.length; i++) this.pushFrame(frames[i], +timesUs[i]);
  }

  private staging: Uint8Array | null = null;

  stagingArea(): Uint8Array {
    this.staging ??= new Uint8Array(STAGE_BYTES);
    return this.staging;
  }

  protected pushStagedFrames(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void {
    const area = this.stagingArea();
    for (let i = 0; i < offsets.length; i++) {
      this.pushFrame(area.subarray(offsets[i], offsets[i] + lengths[i]), +timesUs[i]);
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
