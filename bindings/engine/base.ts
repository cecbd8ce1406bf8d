// What both engines share on the JS side: the packet queue, close(), argument checks (CONTRACT §7
// "Calls"). A refused call throws before anything reaches the core: nothing counted, nothing changed.
import { REASON_CLOSE, REASON_FLUSH } from '../abi.js';
import { describeValue } from './options.js';
import { PacketQueue } from './queue.js';
import type { Engine, Packet, PacketSink, ResolvedOptions, Stats } from './types.js';

/** Times are finite numbers in [0, TIME_LIMIT) µs (CONTRACT §1). */
const TIME_LIMIT = 2 ** 53;

/** The error for a time that is not a number in [0, 2^53): a TypeError for a non-number, else a RangeError. */
function badTime(where: string, value: unknown): Error {
  if (typeof value !== 'number') return new TypeError(`${where} must be a number, got ${describeValue(value)}`);
  return new RangeError(`${where} must be a finite number in [0, 2^53), got ${value}`);
}

/** Every time of a batch, in one tight loop (a Float64Array of times costs a compare each). */
function checkTimes(call: string, timesUs: ArrayLike<number>, count: number): void {
  for (let i = 0; i < count; i++) {
    const t = timesUs[i];
    if (!(typeof t === 'number' && t >= 0 && t < TIME_LIMIT)) throw badTime(`${call}: timeUs of frame ${i} (timesUs[${i}])`, t);
  }
}

/** An array or typed array (anything with a numeric length), else a TypeError naming it. */
function checkList(call: string, name: string, list: unknown): void {
  if (typeof list !== 'object' || list === null || typeof (list as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${call}: ${name} must be an array or a typed array, got ${describeValue(list)}`);
  }
}

/** A buffer whose bytes were transferred away (structuredClone / postMessage with transfer). */
function isDetached(buffer: ArrayBufferLike): boolean {
  const flag = (buffer as { detached?: unknown }).detached; // Node ≥ 22, current browsers
  if (typeof flag === 'boolean') return flag;
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** A frame: a Uint8Array of a live buffer. (Only an empty view can be detached, so only those are looked at.) */
function checkFrame(where: string, frame: unknown): void {
  if (!(frame instanceof Uint8Array)) throw new TypeError(`${where} must be a Uint8Array, got ${describeValue(frame)}`);
  if (frame.length === 0 && isDetached(frame.buffer)) {
    throw new TypeError(`${where} is a view of a detached ArrayBuffer (its bytes were transferred away)`);
  }
}

/** offsets[i], lengths[i]: integers with [offset, offset + length) inside [0, size). */
function checkRegions(call: string, offsets: ArrayLike<number>, lengths: ArrayLike<number>, size: number, inside: string): void {
  for (let i = 0; i < offsets.length; i++) {
    const start = offsets[i];
    const length = lengths[i];
    if (typeof start !== 'number') throw new TypeError(`${call}: the offset of frame ${i} must be a number, got ${describeValue(start)}`);
    if (typeof length !== 'number') throw new TypeError(`${call}: the length of frame ${i} must be a number, got ${describeValue(length)}`);
    const end = start + length;
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || end > size) {
      throw new RangeError(`${call}: frame ${i} [${start}, ${start} + ${length}) is outside ${inside} (${size} bytes)`);
    }
  }
}

/** A mutating call from inside a sink: refused, since the core is half-way through the call that invoked the sink. */
function busyError(call: string): Error {
  return new Error(
    `engine is busy: ${call}() was called from inside a sink, during another call; the engine is not re-entrant ` +
      '(stats(), nextDeadline(), firstPendingIndex() and stagingArea() are; make the call after the one that invoked the sink returns)',
  );
}

export abstract class EngineBase implements Engine {
  protected readonly queue = new PacketQueue();
  private closed = false;
  /** A call is in the core (a sink runs inside it): the engine is not re-entrant. */
  private busy = false;

  constructor(readonly options: ResolvedOptions) {}

  protected abstract pushFrame(frame: Uint8Array, timeUs: number): void;
  protected abstract pushFrames(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void;
  protected abstract pushStagedFrames(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void;
  abstract stagingArea(): Uint8Array;
  protected abstract advanceClock(timeUs: number): void;
  protected abstract flushWith(reason: number): void;
  abstract stats(): Stats;
  /** The core's next deadline (nextDeadline() once closed: Infinity). */
  protected abstract coreDeadline(): number;
  abstract firstPendingIndex(): number;

  push(frame: Uint8Array, timeUs: number): void {
    this.checkOpen('push');
    checkFrame('push(frame, timeUs): frame', frame);
    if (!(typeof timeUs === 'number' && timeUs >= 0 && timeUs < TIME_LIMIT)) throw badTime('push(frame, timeUs): timeUs', timeUs);
    this.busy = true;
    try {
      this.pushFrame(frame, timeUs);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  pushBatch(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void {
    this.checkOpen('pushBatch');
    if (!Array.isArray(frames)) throw new TypeError(`pushBatch: frames must be an array of Uint8Array, got ${describeValue(frames)}`);
    checkList('pushBatch', 'timesUs', timesUs);
    if (frames.length !== timesUs.length) throw new RangeError('pushBatch: frames and timesUs differ in length');
    for (let i = 0; i < frames.length; i++) checkFrame(`pushBatch: frame ${i}`, frames[i]);
    checkTimes('pushBatch', timesUs, frames.length);
    this.busy = true;
    try {
      this.pushFrames(frames, timesUs);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  pushStaged(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void {
    this.checkOpen('pushStaged');
    checkList('pushStaged', 'offsets', offsets);
    checkList('pushStaged', 'lengths', lengths);
    checkList('pushStaged', 'timesUs', timesUs);
    if (offsets.length !== lengths.length || offsets.length !== timesUs.length) {
      throw new RangeError('pushStaged: offsets, lengths and timesUs differ in length');
    }
    checkRegions('pushStaged', offsets, lengths, this.stagingArea().length, 'the staging area');
    checkTimes('pushStaged', timesUs, offsets.length);
    this.busy = true;
    try {
      this.pushStagedFrames(offsets, lengths, timesUs);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  advance(timeUs: number): void {
    this.checkOpen('advance');
    if (!(typeof timeUs === 'number' && timeUs >= 0 && timeUs < TIME_LIMIT)) throw badTime('advance(timeUs): timeUs', timeUs);
    this.busy = true;
    try {
      this.advanceClock(timeUs);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  flush(): void {
    this.checkOpen('flush');
    this.busy = true;
    try {
      this.flushWith(REASON_FLUSH);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  drain(): Packet[] {
    return this.queue.drain();
  }

  setSink(sink: PacketSink | null): void {
    if (sink !== null && typeof sink !== 'function') {
      throw new TypeError(`setSink(sink): sink must be a function or null, got ${describeValue(sink)}`);
    }
    this.queue.sink = sink;
  }

  nextDeadline(): number {
    return this.closed ? Infinity : this.coreDeadline();
  }

  /** Send everything pending (reason 'close'); later mutating calls throw. A second close() does nothing. */
  close(): void {
    if (this.closed) return;
    if (this.busy) throw busyError('close');
    this.busy = true;
    try {
      this.flushWith(REASON_CLOSE);
    } finally {
      this.busy = false;
      this.closed = true;
    }
    this.queue.rethrowSinkError();
  }

  /** A mutating call may start: the engine is open and not inside another call (a sink calling back in). */
  private checkOpen(call: string): void {
    if (this.closed) throw new Error('engine is closed');
    if (this.busy) throw busyError(call);
  }
}
