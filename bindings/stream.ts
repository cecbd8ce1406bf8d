// createStream (docs/CONTRACT.md §11 "Streams"): a WHATWG TransformStream of frames → Packets,
// owned frames or virtio-framed bytes, driven by real timers. Works in Node ≥ 20 and browsers;
// Node stream interop is in node.ts.
//
// Speed (issue 14): frames written in one turn of the event loop reach the engine in one pushFrom
// (copied into one input buffer as they are written), packets come out through a sink into one
// shared output buffer (a view each, no ArrayBuffer per packet), and the timer is re-armed only
// when the next deadline moves earlier.
import { createEngine } from './engine/create.js';
import { blankPacketInfo } from './engine/queue.js';
import type { Engine, EngineOptions, Packet } from './engine/types.js';
import { toPartialChecksum, type VirtioNetHeaderOptions, writeVirtioNetHeader } from './receivers/virtio.js';

/** What the readable side yields (option `output`). */
export type StreamOutput = 'packets' | 'frames' | 'virtio';

/** The chunk type of each output mode. */
export interface StreamChunks {
  /** Packet objects: the frame in `data` plus its metadata. */
  packets: Packet;
  /** The frame alone (what a tap without a vnet header, tcpip.js or v86 takes). */
  frames: Uint8Array;
  /** virtio_net_hdr (10 or 12 bytes) then the frame, in one array: one write() to a tap opened with IFF_VNET_HDR. */
  virtio: Uint8Array;
}

export interface StreamOptions<O extends StreamOutput = StreamOutput> extends EngineOptions {
  /**
   * What the readable side yields (default 'packets'): 'packets' → Packet; 'frames' → Uint8Array,
   * the frame; 'virtio' → Uint8Array, the virtio-net header and the frame (CONTRACT §8). Each
   * chunk's bytes are the consumer's: a view into an output buffer shared with other chunks,
   * never written again by the stream.
   */
  output?: O;
  /** The header of 'virtio' output (default { size: 12, csum: 'data-valid' }); with 'needs-csum' the stream puts the partial sum in place. */
  virtio?: VirtioNetHeaderOptions;
  /** NAPI behaviour: send everything pending as soon as no more input is queued (default false). */
  flushWhenIdle?: boolean;
  /** Engine clock in µs for frames written without a time (default performance.now() × 1000). */
  clockUs?: () => number;
}

/** A frame with its own time on the engine clock. */
export interface TimedFrame {
  data: Uint8Array;
  timeUs: number;
}

/**
 * Several frames in one chunk (the fast way in: a stream chunk costs about a microsecond in the
 * streams machinery, several times what the engine spends on a frame). `timesUs` (one per frame,
 * on the stream clock) is optional: without it every frame is timed on arrival.
 */
export interface FrameBatch {
  frames: readonly Uint8Array[];
  timesUs?: ArrayLike<number>;
}

export type StreamInput = Uint8Array | TimedFrame | FrameBatch;

/** Longest delay setTimeout takes (2^31 − 1 ms): Node clamps a longer one to 1 ms, with a warning. A longer wait is armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Frames queued before a writer waits, and chunks queued before the engine stops taking frames. */
const WRITE_QUEUE = 256;
const READ_QUEUE = 1024;

/** Frames written one by one wait in this input buffer until the end of the turn (or until it is full). */
const INPUT_BYTES = 256 * 1024;
const INPUT_FRAMES = 256;
/** Output chunks are cut from buffers of this size (a larger packet gets its own). */
const OUTPUT_BYTES = 256 * 1024;
/** Times are finite numbers in [0, 2^53) µs (CONTRACT §1). */
const TIME_LIMIT = 2 ** 53;

/** Run `task` once the current turn of the event loop is over (after its microtasks). */
function afterTurn(task: () => void): void {
  if (typeof setImmediate === 'function') setImmediate(task);
  else if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      task();
    };
    channel.port2.postMessage(0);
  } else setTimeout(task, 0);
}

function checkTime(where: string, t: unknown): number {
  if (typeof t !== 'number') throw new TypeError(`createStream: ${where} must be a number, got ${typeof t}`);
  if (!(t >= 0 && t < TIME_LIMIT)) throw new RangeError(`createStream: ${where} must be a finite number in [0, 2^53), got ${t}`);
  return t;
}

function checkFrame(where: string, f: unknown): Uint8Array {
  if (!(f instanceof Uint8Array)) throw new TypeError(`createStream: ${where} must be a Uint8Array`);
  return f;
}

/** Output bytes: views cut from one buffer until it is full, then from a new one. Nothing is ever written twice. */
class OutputBuffer {
  private buf = new Uint8Array(0);
  private used = 0;

  take(n: number): Uint8Array {
    if (this.used + n > this.buf.length) {
      this.buf = new Uint8Array(Math.max(OUTPUT_BYTES, n));
      this.used = 0;
    }
    const view = new Uint8Array(this.buf.buffer, this.used, n); // not subarray(): no species lookup
    this.used += n;
    return view;
  }
}

/** The stream; options.output picks what its readable side yields (StreamChunks). */
export function createStream<O extends StreamOutput = 'packets'>(
  options: StreamOptions<O> = {},
): TransformStream<StreamInput, StreamChunks[O]> {
  const {
    output = 'packets' as O,
    virtio = {},
    flushWhenIdle = false,
    clockUs = () => performance.now() * 1000,
    ...engineOptions
  } = options;
  if (output !== 'packets' && output !== 'frames' && output !== 'virtio') {
    throw new RangeError(`createStream: output must be 'packets', 'frames' or 'virtio', got ${String(output)}`);
  }
  if (virtio === null || typeof virtio !== 'object') {
    throw new TypeError(`createStream: virtio must be an object ({ size, csum }), got ${virtio === null ? 'null' : typeof virtio}`);
  }
  // Checks size and csum now (the header of an empty packet), not at the first packet.
  const headerSize = output === 'virtio' ? writeVirtioNetHeader(blankPacketInfo(), new Uint8Array(12), 0, virtio) : 0;
  const needsCsum = virtio.csum === 'needs-csum';

  let engine: Engine;
  let controller: TransformStreamDefaultController<StreamChunks[O]>;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let armedDeadline = Infinity;
  let lastTime = 0;
  let closed = false;
  let turnQueued = false;
  /** The engine took input since the last emit() and arm(). */
  let moved = false;

  // The input buffer: frames written one by one since the end of the last turn.
  const input = new Uint8Array(INPUT_BYTES);
  const offsets = new Uint32Array(INPUT_FRAMES);
  const lengths = new Uint32Array(INPUT_FRAMES);
  const times = new Float64Array(INPUT_FRAMES);
  let count = 0;
  let used = 0;

  // Chunks the sink made during an engine call, enqueued after it (the engine is not re-entrant).
  const ready: StreamChunks[O][] = [];
  const out = new OutputBuffer();
  const make = (data: Uint8Array, meta: Omit<Packet, 'data'>): StreamChunks[O] => {
    if (output === 'frames') {
      const frame = out.take(data.length);
      frame.set(data);
      return frame as StreamChunks[O];
    }
    if (output === 'virtio') {
      const bytes = out.take(headerSize + data.length);
      writeVirtioNetHeader(meta, bytes, 0, virtio);
      const frame = bytes.subarray(headerSize);
      frame.set(data);
      if (needsCsum) toPartialChecksum(meta, frame);
      return bytes as StreamChunks[O];
    }
    const copy = out.take(data.length);
    copy.set(data);
    return { data: copy, ...meta } as StreamChunks[O];
  };

  const stop = () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const pushInput = () => {
    if (count === 0) return;
    const n = count;
    count = 0;
    used = 0;
    moved = true;
    engine.pushFrom(input, offsets.subarray(0, n), lengths.subarray(0, n), times.subarray(0, n));
  };

  const emit = () => {
    for (let i = 0; i < ready.length; i++) controller.enqueue(ready[i]);
    ready.length = 0;
  };

  // Work outside any stream call (a timer, the end of a turn): if the stream was cancelled or
  // errored meanwhile (enqueue throws), stop quietly; anything else errors the stream instead of
  // the process.
  const later = (work: () => void) => {
    if (closed) return;
    try {
      pushInput();
      work();
      emit();
      arm();
    } catch (err) {
      stop();
      try {
        controller.error(err);
      } catch {
        /* the stream is already closed or errored */
      }
    }
  };

  // Wake up when the stream clock reaches the next AgTimer / DelTimer deadline. Measured from the
  // stream clock itself, not the engine's: a frame written with a time ahead of the stream clock
  // moves the engine clock there, and waiting from it would wake up again and again (every 1 ms)
  // until the stream clock caught up. A wait longer than setTimeout's range goes in steps. A timer
  // already set for an earlier (or the same) deadline stays: waking early costs one advance().
  const arm = () => {
    const deadline = engine.nextDeadline();
    if (closed || (timer !== undefined && armedDeadline <= deadline)) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    armedDeadline = deadline;
    if (deadline === Infinity) return;
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, (deadline - clockUs()) / 1000));
    timer = setTimeout(() => {
      timer = undefined;
      // The engine clock never runs ahead of the stream clock (a timer may fire a little early:
      // arm() then waits again), or frames written next would be clamped.
      later(() => {
        lastTime = Math.max(lastTime, clockUs());
        engine.advance(lastTime);
      });
    }, delayMs);
  };

  const endOfTurn = () => {
    turnQueued = false;
    later(() => {
      if (flushWhenIdle) engine.flush();
    });
  };

  /** One frame written alone: into the input buffer (copied: the writer may reuse its array once write() resolves). */
  const take = (frame: Uint8Array, time: number) => {
    if (count === INPUT_FRAMES || used + frame.length > INPUT_BYTES) pushInput();
    if (frame.length > INPUT_BYTES) {
      moved = true;
      engine.push(frame, time);
    } else {
      input.set(frame, used);
      offsets[count] = used;
      lengths[count] = frame.length;
      times[count] = time;
      count++;
      used += frame.length;
    }
    if (time > lastTime) lastTime = time;
  };

  /** A FrameBatch: after the frames written before it, in one pushBatch (the engine reads them during the call: no copy here). */
  let batchTimes = new Float64Array(0);
  const takeBatch = ({ frames, timesUs }: FrameBatch) => {
    if (!Array.isArray(frames)) throw new TypeError('createStream: a FrameBatch needs frames, an array of Uint8Array');
    let t: ArrayLike<number>;
    if (timesUs === undefined) {
      if (batchTimes.length < frames.length) batchTimes = new Float64Array(Math.max(frames.length, 2 * batchTimes.length));
      t = batchTimes.subarray(0, frames.length).fill(clockUs());
    } else {
      if (timesUs === null || typeof timesUs !== 'object' || timesUs.length !== frames.length) {
        throw new RangeError(`createStream: a FrameBatch's timesUs must be an array of ${frames.length} times, one per frame`);
      }
      t = timesUs;
    }
    pushInput();
    engine.pushBatch(frames, t); // checks every frame and time before taking any
    for (let i = 0; i < t.length; i++) if (t[i] > lastTime) lastTime = t[i];
    moved = true;
  };

  return new TransformStream<StreamInput, StreamChunks[O]>(
    {
      async start(c) {
        controller = c;
        engine = await createEngine(engineOptions);
        engine.setSink((data, meta) => {
          ready.push(make(data, meta));
        });
      },
      transform(chunk) {
        try {
          if (chunk instanceof Uint8Array) take(chunk, clockUs());
          else if (chunk !== null && typeof chunk === 'object' && 'frames' in chunk) takeBatch(chunk);
          else {
            const frame = checkFrame('a chunk (Uint8Array, { data, timeUs } or { frames, timesUs? })', (chunk as TimedFrame)?.data);
            take(frame, checkTime('timeUs', (chunk as TimedFrame).timeUs));
          }
          if (moved) {
            moved = false;
            emit();
            arm();
          }
        } catch (err) {
          stop();
          throw err; // errors the stream
        }
        if (!turnQueued) {
          turnQueued = true;
          afterTurn(endOfTurn);
        }
      },
      flush() {
        stop();
        pushInput();
        engine.close();
        emit();
      },
      // The readable side was cancelled (runtimes that support transformer.cancel): no more timers.
      cancel() {
        stop();
      },
    } as Transformer<StreamInput, StreamChunks[O]>,
    { highWaterMark: WRITE_QUEUE },
    { highWaterMark: READ_QUEUE },
  );
}
