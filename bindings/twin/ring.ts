// The staging ring (twin of assembly/ring.ts, which explains it): frames are staged into the
// window at its head; a frame that starts or joins an aggregate is held where it lies until the
// aggregate is sent, and gathered then. Held bytes run, in ring order, from the oldest pending
// aggregate's first segment to the head.
//
// A segment that joins an aggregate (not its first) keeps a node in its own frame's first bytes
// (little-endian u32s, as the core stores them): next node (RING_NONE at the end), payload
// offset, payload length. When an aggregate goes early to make room is decided on the account
// (ringCharge, engine.ts ringMakeRoom), which depends only on the frames pushed.
import { ringCost } from '../abi.js';
export const NODE_NEXT = 0;
export const NODE_PAYLOAD = 4;
export const NODE_LENGTH = 8;
/** A ring offset that is none (u32). */
export const RING_NONE = 0xffffffff;

export class Ring {
  readonly bytes: Uint8Array;
  private readonly words: DataView;
  /** Where the next window starts: past every byte held since the last window was handed out. */
  head = 0;
  /** End of the last window handed out. */
  windowEnd = 0;
  /** The account (the core's ring.ts): the cost of every frame pushed so far. */
  used = 0;

  /** ringInit: `size` bytes (a multiple of 8). */
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.words = new DataView(this.bytes.buffer);
  }

  /** A frame of `staged` bytes arrives: its place on the account (used before it). */
  ringCharge(staged: number): number {
    const at = this.used;
    this.used = at + ringCost(staged);
    return at;
  }

  /** The frame at ring offset `at`, `len` bytes, is held by an aggregate: the head moves past it. */
  ringHold(at: number, len: number): void {
    const end = ((at + len + 7) & ~7) >>> 0; // u32, as the core's: a ring may be 2^31 bytes
    if (end > this.head) this.head = end;
  }

  /** Hand out the window [start, end): later frames are staged there. */
  ringOpen(start: number, end: number): void {
    this.head = start;
    this.windowEnd = end;
  }

  load32(at: number): number {
    return this.words.getUint32(at, true);
  }

  store32(at: number, value: number): void {
    this.words.setUint32(at, value, true);
  }
}
