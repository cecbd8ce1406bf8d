// What both engines share on the JS side: the packet queue, close(), argument checks (CONTRACT §7
// "Calls"). A refused call throws before anything reaches the core: nothing counted, nothing changed.
import { MAX_BATCH, REASON_CLOSE, REASON_FLUSH, RING_FRAME_SLACK, STAGE_FRAME_MAX, ringCost } from '../abi.js';
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

/** A frame: a Uint8Array of a live buffer (only an empty view can be detached, so only those are looked at). `index` ≥ 0: frame `index` of a batch. */
function checkFrame(call: string, index: number, frame: unknown): void {
  if (frame instanceof Uint8Array && (frame.length !== 0 || !isDetached(frame.buffer))) return;
  const where = index < 0 ? call : `${call}: frame ${index}`;
  if (!(frame instanceof Uint8Array)) throw new TypeError(`${where} must be a Uint8Array, got ${describeValue(frame)}`);
  throw new TypeError(`${where} is a view of a detached ArrayBuffer (its bytes were transferred away)`);
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

/** A copy of the caller's bytes in a new buffer: not view.slice(), which for a Node Buffer is a view of the same memory. */
function copyOf(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

const NO_FRAMES: readonly Uint8Array[] = [];
const EMPTY_VIEW = new Uint8Array(0);
const NO_NUMBERS: ArrayLike<number> = [];
/** pushFrom: frames this close after the previous one's end are copied with it in one set(), gap included (within a frame's ring account slack). */
const RUN_GAP = RING_FRAME_SLACK - 8;

/**
 * Staging (CONTRACT §7 "Frames are read when pushed"). push, pushBatch, pushFrom and pushStaged
 * copy each frame into the core's ring (at most STAGE_FRAME_MAX bytes of it; a longer frame, never
 * an aggregation candidate, is also kept whole as a snapshot), chunk by chunk: a chunk is up to
 * MAX_BATCH frames that fit both the room on the ring's account (makeRoom(), which fires the
 * deadlines up to the chunk's first frame's time, as its push would first, then sends the oldest
 * held aggregate, reason `capacity`, while that frame would not fit: a decision that depends only
 * on the frames pushed, so every way of pushing them gives the same packets) and the window the core then hands out at the ring's head (reserve()), and the core
 * processes it from there; a frame that joins an aggregate stays where it was staged until the
 * aggregate is sent (assembly/ring.ts). pushStaged's frames are copied
 * from the staging area (stagingArea()), pushFrom's from the caller's view. Before any sink runs,
 * the frames of the call not yet staged (and its numbers) are copied too, so a sink that changes
 * them changes nothing; frames that live in the ring's own buffer are copied out before staging
 * starts. Both engines stage the same chunks, so both cores see the same windows.
 */
export abstract class EngineBase implements Engine {
  protected readonly queue = new PacketQueue();
  private closed = false;
  /** A call is in the core (a sink runs inside it): the engine is not re-entrant. */
  private busy = false;

  // The call in progress: frames [next, count) are not staged yet. Either a list of frames or
  // (pushFrom, pushStaged) a view with offsets and lengths.
  private srcFrames: readonly Uint8Array[] | null = null;
  private srcView: Uint8Array = EMPTY_VIEW;
  private srcOffsets: ArrayLike<number> = NO_NUMBERS;
  private srcLengths: ArrayLike<number> = NO_NUMBERS;
  private srcTimes: ArrayLike<number> = NO_NUMBERS;
  private srcCount = 0;
  private srcNext = 0;
  private snapshotted = false;
  /**
   * stagingArea() was handed out, so a frame may be a view into the engine's own buffer (which
   * holds the ring on the WASM engine). Until then no frame is looked at for it: reading a typed
   * array's .buffer costs ~20 ns a frame.
   */
  protected areaExposed = false;
  /** Whole copies of the chunk's frames longer than STAGE_FRAME_MAX, by index in the chunk. */
  protected readonly oversize: Uint8Array[] = [];

  /** push()'s frame until it is staged: a sink that runs first (making room) gets it replaced by a copy. */
  private single: Uint8Array = EMPTY_VIEW;

  constructor(readonly options: ResolvedOptions) {
    this.queue.beforeSink = () => {
      if (this.single !== EMPTY_VIEW) this.single = copyOf(this.single);
      else this.snapshotFrom(this.srcNext);
    };
  }

  abstract stagingArea(): Uint8Array;
  /** Write chunk descriptor i: a frame of `length` bytes, `staged` of them at `offset` in the staging area. */
  protected abstract describe(i: number, offset: number, staged: number, length: number, timeUs: number): void;
  /** Process the `count` frames just described, in order. */
  protected abstract runChunk(count: number): void;
  /** The staging area (stagingArea()'s bytes), one view kept. */
  protected abstract get area(): Uint8Array;
  /** The core's ring (assembly/ring.ts): frames are staged into it at the offsets reserve() gives. */
  protected abstract get ring(): Uint8Array;
  /** Room on the ring's account for the next frames, the first of account cost `cost` and time `timeUs`, whose deadlines fire first (the core's ringMakeRoom). */
  protected abstract makeRoom(cost: number, timeUs: number): number;
  /** A window of at least `need` bytes at the ring's head, after makeRoom: its start (the core's ringReserve). */
  protected abstract reserve(need: number): number;
  /** The end of the window reserve() handed out last. */
  protected abstract windowEnd(): number;
  protected abstract advanceClock(timeUs: number): void;
  protected abstract flushWith(reason: number): void;
  abstract stats(): Stats;
  /** The core's next deadline (nextDeadline() once closed: Infinity). */
  protected abstract coreDeadline(): number;
  abstract firstPendingIndex(): number;

  push(frame: Uint8Array, timeUs: number): void {
    this.checkOpen('push');
    checkFrame('push(frame, timeUs): frame', -1, frame);
    if (!(typeof timeUs === 'number' && timeUs >= 0 && timeUs < TIME_LIMIT)) throw badTime('push(frame, timeUs): timeUs', timeUs);
    this.busy = true;
    try {
      this.pushOne(frame, timeUs);
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
    for (let i = 0; i < frames.length; i++) checkFrame('pushBatch', i, frames[i]);
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
    checkRegions('pushStaged', offsets, lengths, this.area.length, 'the staging area');
    checkTimes('pushStaged', timesUs, offsets.length);
    this.busy = true;
    try {
      this.pushStagedFrames(offsets, lengths, timesUs);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  pushFrom(view: Uint8Array, offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void {
    this.checkOpen('pushFrom');
    checkFrame('pushFrom: view', -1, view);
    checkList('pushFrom', 'offsets', offsets);
    checkList('pushFrom', 'lengths', lengths);
    checkList('pushFrom', 'timesUs', timesUs);
    if (offsets.length !== lengths.length || offsets.length !== timesUs.length) {
      throw new RangeError('pushFrom: offsets, lengths and timesUs differ in length');
    }
    checkRegions('pushFrom', offsets, lengths, view.length, 'the view');
    checkTimes('pushFrom', timesUs, offsets.length);
    this.busy = true;
    try {
      this.pushFromView(view, offsets, lengths, timesUs);
    } finally {
      this.busy = false;
    }
    this.queue.rethrowSinkError();
  }

  // ------------------------------------------------------------------ staging (see the class comment)

  /**
   * push after its checks: a chunk of one frame. Its bytes are read only once the room is made,
   * since making room may send held aggregates to a sink that changes them (it gets a copy first).
   */
  private pushOne(frame: Uint8Array, timeUs: number): void {
    const length = frame.length;
    const staged = Math.min(length, STAGE_FRAME_MAX);
    this.single = frame;
    this.queue.unstaged = true;
    try {
      this.makeRoom(ringCost(staged), timeUs);
      const at = this.reserve(staged);
      frame = this.single;
      this.single = EMPTY_VIEW;
      this.queue.unstaged = false;
      if (staged === length) this.ring.set(frame, at);
      else {
        this.oversize[0] = copyOf(frame);
        this.ring.set(frame.subarray(0, staged), at);
      }
      this.describe(0, at, staged, length, timeUs);
      this.runChunk(1);
    } finally {
      this.single = EMPTY_VIEW;
      this.queue.unstaged = false;
      if (this.oversize.length !== 0) this.oversize.length = 0;
    }
  }

  /** pushBatch after its checks. */
  protected pushFrames(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void {
    this.begin(timesUs, frames.length);
    this.srcFrames = frames;
    if (this.areaExposed) {
      const own = this.ring.buffer;
      let alias = ArrayBuffer.isView(timesUs) && timesUs.buffer === own;
      for (let i = 0; i < frames.length && !alias; i++) alias = frames[i].buffer === own;
      if (alias) this.snapshotFrom(0);
    }
    this.stageAll();
  }

  /** pushFrom after its checks. */
  protected pushFromView(view: Uint8Array, offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void {
    this.begin(timesUs, offsets.length);
    this.srcView = view;
    this.srcOffsets = offsets;
    this.srcLengths = lengths;
    const own = this.ring.buffer;
    if (view.buffer === own || (ArrayBuffer.isView(timesUs) && timesUs.buffer === own)) this.snapshotFrom(0);
    this.stageAll();
  }

  /** pushStaged after its checks: the frames are in the staging area (copied from it like pushFrom's from its view). */
  protected pushStagedFrames(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void {
    this.begin(timesUs, offsets.length);
    this.srcView = this.area;
    this.srcOffsets = offsets;
    this.srcLengths = lengths;
    this.stageAll();
  }

  private begin(timesUs: ArrayLike<number>, count: number): void {
    this.srcFrames = null;
    this.srcTimes = timesUs;
    this.srcCount = count;
    this.srcNext = 0;
    this.snapshotted = false;
    this.queue.unstaged = count > 0;
  }

  private stageAll(): void {
    try {
      while (this.srcNext < this.srcCount) {
        const start = this.srcNext;
        // The window first: making room may send held aggregates (its first frame's deadlines
        // fire, then early sends for room), and a sink that runs first
        // snapshots the frames not staged yet (snapshotFrom), so they are read only after.
        const list = this.srcFrames;
        const first = Math.min(list !== null ? list[start].length : this.srcLengths[start], STAGE_FRAME_MAX);
        const room = this.makeRoom(ringCost(first), this.srcTimes[start]);
        const head = this.reserve(first);
        const limit = this.windowEnd();
        const n = this.srcFrames !== null ? this.stageList(start, room, head, limit) : this.stageView(start, room, head, limit);
        this.srcNext = start + n;
        this.queue.unstaged = this.srcNext < this.srcCount && !this.snapshotted;
        this.runChunk(n);
        if (this.oversize.length !== 0) this.oversize.length = 0;
      }
    } finally {
      // Keep no reference to the caller's frames.
      this.srcFrames = null;
      this.srcView = EMPTY_VIEW;
      this.srcOffsets = this.srcLengths = this.srcTimes = NO_NUMBERS;
      this.srcCount = this.srcNext = 0;
      this.oversize.length = 0;
      this.queue.unstaged = false;
    }
  }

  /**
   * Copy frames from the list into the ring's window [head, limit), from `start`: as many as fit
   * there and in `room` on the ring's account.
   */
  private stageList(start: number, room: number, head: number, limit: number): number {
    const frames = this.srcFrames ?? NO_FRAMES;
    const times = this.srcTimes;
    const ring = this.ring;
    const end = Math.min(this.srcCount, start + MAX_BATCH);
    let used = head;
    let spent = 0;
    let n = 0;
    for (let i = start; i < end; i++, n++) {
      const frame = frames[i];
      const length = frame.length;
      const staged = Math.min(length, STAGE_FRAME_MAX);
      spent += ringCost(staged);
      if (spent > room || used + staged > limit) break;
      if (staged === length) ring.set(frame, used);
      else {
        this.oversize[n] = copyOf(frame);
        ring.set(frame.subarray(0, staged), used);
      }
      this.describe(n, used, staged, length, times[i]);
      used += (staged + 7) & ~7;
    }
    return n;
  }

  /** stageList's work for frames in a view: one set() per run of frames that follow each other. */
  private stageView(start: number, room: number, head: number, limit: number): number {
    const view = this.srcView;
    const offsets = this.srcOffsets;
    const lengths = this.srcLengths;
    const times = this.srcTimes;
    const ring = this.ring;
    const end = Math.min(this.srcCount, start + MAX_BATCH);
    let used = head;
    let spent = 0;
    let runFrom = 0; // the run being gathered: view[runFrom, runTo) goes to ring[runAt, …)
    let runTo = -1;
    let runAt = 0;
    let n = 0;
    for (let i = start; i < end; i++, n++) {
      const at = offsets[i];
      const length = lengths[i];
      const staged = Math.min(length, STAGE_FRAME_MAX);
      const extend = runTo >= 0 && at >= runTo && at - runTo <= RUN_GAP;
      const dst = extend ? runAt + (at - runFrom) : used;
      spent += ringCost(staged);
      if (spent > room || dst + staged > limit) break;
      if (!extend) {
        if (runTo >= 0) ring.set(view.subarray(runFrom, runTo), runAt);
        runFrom = at;
        runAt = dst;
      }
      runTo = at + staged;
      if (staged !== length) this.oversize[n] = copyOf(view.subarray(at, at + length));
      this.describe(n, dst, staged, length, times[i]);
      used = ((dst + staged + 7) & ~7) >>> 0; // a ring offset: up to 2^31
    }
    if (runTo >= 0) ring.set(view.subarray(runFrom, runTo), runAt);
    return n;
  }

  /** Copy the call's numbers, and frames [from, count) into one new buffer (before a sink runs: once per call). */
  private snapshotFrom(from: number): void {
    this.snapshotted = true;
    this.queue.unstaged = false;
    this.srcTimes = Float64Array.from(this.srcTimes);
    const count = this.srcCount;
    const list = this.srcFrames;
    let total = 0;
    for (let i = from; i < count; i++) total += list !== null ? list[i].length : this.srcLengths[i];
    const copy = new Uint8Array(total);
    const frames: Uint8Array[] = new Array(count);
    for (let i = from, at = 0; i < count; i++) {
      const frame = list !== null ? list[i] : this.srcView.subarray(this.srcOffsets[i], this.srcOffsets[i] + this.srcLengths[i]);
      copy.set(frame, at);
      frames[i] = copy.subarray(at, at + frame.length);
      at += frame.length;
    }
    this.srcFrames = frames;
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

  drainViews(): Packet[] {
    return this.queue.drainViews();
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
