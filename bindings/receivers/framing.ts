// Length-prefixed frame streams (docs/CONTRACT.md §10): how QEMU's socket / stream netdev and
// gvisor-tap-vsock (u32 big-endian), and other VMM links (u16 / u32 little-endian) carry Ethernet
// frames over a byte stream; and a SharedArrayBuffer byte ring of u32be-prefixed frames as
// container2wasm passes them between workers.
import type { Packet } from '../engine/types.js';

export type LengthPrefix = 'u32be' | 'u16le' | 'u32le';

export interface FramingOptions {
  /** Length prefix in front of each frame (default 'u32be', QEMU -netdev stream / socket, gvisor-tap-vsock). */
  prefix?: LengthPrefix;
  /** Largest frame accepted, in bytes (default 131072 = 128 KiB); a longer length is an error. */
  maxLength?: number;
}

export const DEFAULT_MAX_FRAME = 128 * 1024;

function resolve(options: FramingOptions): { prefix: LengthPrefix; bytes: 2 | 4; maxLength: number } {
  const prefix = options.prefix ?? 'u32be';
  const maxLength = options.maxLength ?? DEFAULT_MAX_FRAME;
  if (prefix !== 'u32be' && prefix !== 'u16le' && prefix !== 'u32le') {
    throw new RangeError(`framing: prefix must be 'u32be', 'u16le' or 'u32le', got ${String(prefix)}`);
  }
  if (!Number.isInteger(maxLength) || maxLength < 0 || maxLength > 0xffffffff) {
    throw new RangeError(`framing: maxLength must be an integer in [0, 2^32), got ${String(maxLength)}`);
  }
  return { prefix, bytes: prefix === 'u16le' ? 2 : 4, maxLength };
}

function readPrefix(prefix: LengthPrefix, b: Uint8Array, at: number): number {
  if (prefix === 'u16le') return b[at] | (b[at + 1] << 8);
  if (prefix === 'u32le') return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function writePrefix(prefix: LengthPrefix, b: Uint8Array, at: number, n: number): void {
  if (prefix === 'u32be') {
    b[at] = n >>> 24;
    b[at + 1] = (n >>> 16) & 0xff;
    b[at + 2] = (n >>> 8) & 0xff;
    b[at + 3] = n & 0xff;
    return;
  }
  b[at] = n & 0xff;
  b[at + 1] = (n >>> 8) & 0xff;
  if (prefix === 'u32le') {
    b[at + 2] = (n >>> 16) & 0xff;
    b[at + 3] = n >>> 24;
  }
}

/**
 * One frame with its length prefix in front, as a new array. Throws a RangeError when the frame is
 * longer than `maxLength` or than the prefix can say (65535 for 'u16le').
 */
export function encodeFrame(frame: Uint8Array, options: FramingOptions = {}): Uint8Array {
  const { prefix, bytes, maxLength } = resolve(options);
  checkLength(frame.length, prefix, maxLength, 'frame');
  const out = new Uint8Array(bytes + frame.length);
  writePrefix(prefix, out, 0, frame.length);
  out.set(frame, bytes);
  return out;
}

function checkLength(n: number, prefix: LengthPrefix, maxLength: number, what: string): void {
  const limit = Math.min(maxLength, prefix === 'u16le' ? 0xffff : 0xffffffff);
  if (n > limit) throw new RangeError(`framing (${prefix}): ${what} of ${n} bytes is over the limit of ${limit} bytes`);
}

/**
 * A TransformStream from a byte stream to the frames in it. Prefixes and frames may be split
 * across chunks anyhow; each frame comes out as its own array (a zero-length frame as an empty
 * one). A length over `maxLength` errors the stream (RangeError naming the length, the limit and
 * the stream offset of the prefix), and so does an end of stream inside a prefix or a frame.
 */
export function createDeframer(options: FramingOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const { prefix, bytes, maxLength } = resolve(options);
  const head = new Uint8Array(bytes);
  let headFill = 0;
  let frame: Uint8Array | null = null;
  let frameFill = 0;
  let offset = 0; // stream offset of the next byte

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('deframer: chunks must be Uint8Array');
      let i = 0;
      while (i < chunk.length) {
        if (frame === null) {
          const take = Math.min(bytes - headFill, chunk.length - i);
          head.set(chunk.subarray(i, i + take), headFill);
          headFill += take;
          i += take;
          if (headFill < bytes) break;
          const n = readPrefix(prefix, head, 0);
          if (n > maxLength) {
            throw new RangeError(
              `deframer (${prefix}): frame length ${n} at stream offset ${offset + i - bytes} is over the limit of ${maxLength} bytes`,
            );
          }
          headFill = 0;
          frame = new Uint8Array(n);
          frameFill = 0;
        }
        const take = Math.min(frame.length - frameFill, chunk.length - i);
        frame.set(chunk.subarray(i, i + take), frameFill);
        frameFill += take;
        i += take;
        if (frameFill === frame.length) {
          controller.enqueue(frame);
          frame = null;
        }
      }
      offset += chunk.length;
    },
    flush() {
      if (frame !== null)
        throw new RangeError(`deframer (${prefix}): the stream ended inside a frame (${frameFill} of ${frame.length} bytes)`);
      if (headFill > 0)
        throw new RangeError(`deframer (${prefix}): the stream ended inside a length prefix (${headFill} of ${bytes} bytes)`);
    },
  });
}

/**
 * A TransformStream from frames (or engine Packets: their `data`) to length-prefixed frames, one
 * output chunk per frame. A frame over `maxLength` (or 65535 for 'u16le') errors the stream.
 */
export function createFramer(options: FramingOptions = {}): TransformStream<Uint8Array | Pick<Packet, 'data'>, Uint8Array> {
  const resolved = resolve(options);
  return new TransformStream<Uint8Array | Pick<Packet, 'data'>, Uint8Array>({
    transform(chunk, controller) {
      const data = chunk instanceof Uint8Array ? chunk : chunk?.data;
      if (!(data instanceof Uint8Array)) throw new TypeError('framer: chunks must be Uint8Array or { data: Uint8Array }');
      controller.enqueue(encodeFrame(data, resolved));
    },
  });
}

// ── SharedArrayBuffer byte ring ────────────────────────────────────────────────────────────────
//
// ┌────────────┬────────────┬──────────────┬──────────────────────────────────────────────┐
// │ 0 head i32 │ 4 tail i32 │ 8 capacity   │ 16 data[capacity]: [u32be length][frame]…     │
// └────────────┴────────────┴──────────────┴──────────────────────────────────────────────┘
// head: next byte the writer writes; tail: next byte the reader reads; both in [0, capacity),
// changed only with Atomics (the writer owns head, the reader tail). One byte always stays free, so
// head == tail means empty. A prefix or frame that reaches the end continues at data[0].

export const RING_HEAD = 0;
export const RING_TAIL = 1;
const RING_CAPACITY = 2;
export const RING_DATA = 16;

export interface FrameRing {
  /** Int32 view of the control words: [RING_HEAD], [RING_TAIL] (use these with Atomics.wait). */
  control: Int32Array;
  data: Uint8Array;
  capacity: number;
}

/** A new ring of `capacity` data bytes in a SharedArrayBuffer (hand the buffer to the other side). */
export function createFrameRing(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 8 || capacity > 0x7fffffff - RING_DATA) {
    throw new RangeError(`frame ring: capacity must be an integer in [8, 2^31 − 17], got ${capacity}`);
  }
  const sab = new SharedArrayBuffer(RING_DATA + capacity);
  new Int32Array(sab, 0, 4)[RING_CAPACITY] = capacity;
  return sab;
}

/** Views of a ring made by createFrameRing (in this or another thread). */
export function openFrameRing(buffer: SharedArrayBuffer): FrameRing {
  const control = new Int32Array(buffer, 0, 4);
  const capacity = control[RING_CAPACITY];
  if (capacity < 8 || buffer.byteLength !== RING_DATA + capacity) throw new RangeError('frame ring: not a buffer made by createFrameRing');
  return { control, data: new Uint8Array(buffer, RING_DATA, capacity), capacity };
}

function copyIn(ring: FrameRing, at: number, src: Uint8Array): number {
  const first = Math.min(src.length, ring.capacity - at);
  ring.data.set(src.subarray(0, first), at);
  if (first < src.length) ring.data.set(src.subarray(first), 0);
  return (at + src.length) % ring.capacity;
}

function copyOut(ring: FrameRing, at: number, dst: Uint8Array): number {
  const first = Math.min(dst.length, ring.capacity - at);
  dst.set(ring.data.subarray(at, at + first), 0);
  if (first < dst.length) dst.set(ring.data.subarray(0, dst.length - first), first);
  return (at + dst.length) % ring.capacity;
}

/**
 * Writer side: append one frame (u32be prefix, then the bytes, both wrapping at the end) and
 * publish it. Returns false, writing nothing, when the ring has no room now; wait for
 * control[RING_TAIL] to change (Atomics.wait, in a worker) and try again. A frame that could never
 * fit (over capacity − 5 bytes) throws.
 */
export function ringWrite(ring: FrameRing, frame: Uint8Array): boolean {
  const need = 4 + frame.length;
  if (need > ring.capacity - 1) throw new RangeError(`frame ring: a ${frame.length}-byte frame can never fit a ${ring.capacity}-byte ring`);
  const head = Atomics.load(ring.control, RING_HEAD);
  const tail = Atomics.load(ring.control, RING_TAIL);
  const used = (head - tail + ring.capacity) % ring.capacity;
  if (need > ring.capacity - 1 - used) return false;
  const n = frame.length;
  for (let k = 0; k < 4; k++) ring.data[(head + k) % ring.capacity] = (n >>> (24 - 8 * k)) & 0xff;
  const next = copyIn(ring, (head + 4) % ring.capacity, frame);
  Atomics.store(ring.control, RING_HEAD, next);
  Atomics.notify(ring.control, RING_HEAD);
  return true;
}

/**
 * Reader side: take the next frame out of the ring (a new array), or null when it is empty; wait
 * for control[RING_HEAD] to change and try again.
 */
export function ringRead(ring: FrameRing): Uint8Array | null {
  const head = Atomics.load(ring.control, RING_HEAD);
  const tail = Atomics.load(ring.control, RING_TAIL);
  if (head === tail) return null;
  let n = 0;
  for (let k = 0; k < 4; k++) n = n * 256 + ring.data[(tail + k) % ring.capacity];
  let at = (tail + 4) % ring.capacity;
  const used = (head - tail + ring.capacity) % ring.capacity;
  if (4 + n > used) throw new RangeError(`frame ring: a ${n}-byte frame announced with only ${used - 4} bytes published (corrupt ring)`);
  const frame = new Uint8Array(n);
  at = copyOut(ring, at, frame);
  Atomics.store(ring.control, RING_TAIL, at);
  Atomics.notify(ring.control, RING_TAIL);
  return frame;
}
