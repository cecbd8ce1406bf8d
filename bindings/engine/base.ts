// What both engines share on the JS side: the packet queue, close(), argument checks.
import { REASON_CLOSE, REASON_FLUSH } from '../abi.js';
import { PacketQueue } from './queue.js';
import type { Engine, Packet, PacketSink, ResolvedOptions, Stats } from './types.js';

export abstract class EngineBase implements Engine {
  protected readonly queue = new PacketQueue();
  private closed = false;

  constructor(readonly options: ResolvedOptions) {}

  protected abstract pushFrame(frame: Uint8Array, timeUs: number): void;
  protected abstract pushFrames(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void;
  protected abstract pushStagedFrames(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void;
  abstract stagingArea(): Uint8Array;
  protected abstract advanceClock(timeUs: number): void;
  protected abstract flushWith(reason: number): void;
  abstract stats(): Stats;
  abstract nextDeadline(): number;
  abstract firstPendingIndex(): number;

  push(frame: Uint8Array, timeUs: number): void {
    this.checkOpen();
    if (!(frame instanceof Uint8Array)) throw new TypeError('push(frame, timeUs): frame must be a Uint8Array');
    this.pushFrame(frame, +timeUs);
    this.queue.rethrowSinkError();
  }

  pushBatch(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void {
    this.checkOpen();
    if (frames.length !== timesUs.length) throw new RangeError('pushBatch: frames and timesUs differ in length');
    for (const frame of frames) {
      if (!(frame instanceof Uint8Array)) throw new TypeError('pushBatch: every frame must be a Uint8Array');
    }
    this.pushFrames(frames, timesUs);
    this.queue.rethrowSinkError();
  }

  pushStaged(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void {
    this.checkOpen();
    if (offsets.length !== lengths.length || offsets.length !== timesUs.length) {
      throw new RangeError('pushStaged: offsets, lengths and timesUs differ in length');
    }
    const size = this.stagingArea().length;
    for (let i = 0; i < offsets.length; i++) {
      const start = offsets[i];
      const end = start + lengths[i];
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > size) {
        throw new RangeError(`pushStaged: frame ${i} [${start}, ${end}) is outside the staging area (${size} bytes)`);
      }
    }
    this.pushStagedFrames(offsets, lengths, timesUs);
    this.queue.rethrowSinkError();
  }

  advance(timeUs: number): void {
    this.checkOpen();
    this.advanceClock(+timeUs);
    this.queue.rethrowSinkError();
  }

  flush(): void {
    this.checkOpen();
    this.flushWith(REASON_FLUSH);
    this.queue.rethrowSinkError();
  }

  drain(): Packet[] {
    return this.queue.drain();
  }

  setSink(sink: PacketSink | null): void {
    this.queue.sink = sink;
  }

  close(): void {
    if (this.closed) return;
    this.flushWith(REASON_CLOSE);
    this.closed = true;
    this.queue.rethrowSinkError();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('engine is closed');
  }
}
