// The staging ring (twin: bindings/twin/ring.ts): where frames are staged and where a pending
// aggregate's segments stay until it is sent, as Linux keeps a fragment list and gathers at the
// end. The bindings copy each chunk of frames into the free window at the head (engine.ts
// ringReserve hands it out); a frame that starts or joins an aggregate is held where it lies and
// the head moves past it; a frame that is not held is overwritten by the next window. At send the
// aggregate is gathered once (aggregate.ts aggFinish): the first segment's frame up to its IP
// end, then each later segment's payload.
//
// Frames are staged in push order at rising offsets (wrapping to 0), so held bytes run, in ring
// order, from the oldest held aggregate's first segment (every later segment of every pending
// aggregate was staged after it) to the head. So no free list: the AgTimer list is in start
// order, and its head's first segment is the ring's tail. The window is [head, ringSize) or,
// once the head has wrapped to 0 under held bytes, [head, tail).
//
// When an aggregate must go early to make room is decided on an account that depends only on the
// frames pushed, not on how they were handed over (CONTRACT §6.4: push, pushBatch and pushFrom
// give the same packets): every frame adds ringCost(staged bytes) to ringUsed, and before a frame
// is staged the oldest held aggregate is sent (reason `capacity`) while ringUsed + its cost would
// pass that aggregate's ringUsed at arrival + ringSize − RING_MARGIN (engine.ts ringMakeRoom). A
// frame's cost bounds what staging it takes in the ring (a run copy's gap included), and the
// margin covers the end of the ring skipped at a wrap and the next frame, so a window for the next
// frame is then always free where the bindings stage.
//
// A segment that joins an aggregate (not its first) keeps a node in its own frame's first bytes,
// which nothing reads once it has joined (its header is checked and dropped; at least 40 bytes
// lie before its payload):
//          ┌───┬──────────────────────────────────────────────────────────────┐
//          │ 0 │ next u32     ring offset of the next segment's node, or NONE │
//          │ 4 │ payload u32  ring offset of this segment's payload           │
//          │ 8 │ length u32   payload bytes                                   │
//          └───┴──────────────────────────────────────────────────────────────┘
export const NODE_NEXT: usize = 0;
export const NODE_PAYLOAD: usize = 4;
export const NODE_LENGTH: usize = 8;
/** A ring offset that is none (u32). */
export const RING_NONE: u32 = 0xffffffff;
/** Added to every frame's cost: the most a run copy puts before it (a gap of up to 64 bytes) and rounding (equal to bindings/abi.ts). */
export const RING_FRAME_SLACK: u32 = 72;
/**
 * Ring bytes the account keeps free: 3 × the largest staged frame's cost (STAGE_FRAME_MAX,
 * 131072, + 72): the end of the ring skipped at a wrap, and a window for the next frame (equal to
 * bindings/abi.ts).
 */
export const RING_MARGIN: u32 = 393432;

export let ringBase: usize = 0;
/** Bytes of the ring (a multiple of 8). */
export let ringSize: u32 = 0;
/** Where the next window starts: past every byte held since the last window was handed out. */
export let head: u32 = 0;
/** End of the last window handed out (ringWindowEnd). */
export let windowEnd: u32 = 0;
/** The account: the cost of every frame pushed so far (exact in f64 to 2^53). */
export let ringUsed: f64 = 0;

export function ringInit(size: u32): void {
  ringSize = size;
  head = 0;
  windowEnd = 0;
  ringUsed = 0;
}

/** What a frame of `staged` bytes costs on the account. */
@inline export function ringCost(staged: u32): u32 {
  return ((staged + 7) & ~7) + RING_FRAME_SLACK;
}

/** A frame of `staged` bytes arrives: its place on the account (ringUsed before it). */
@inline export function ringCharge(staged: u32): f64 {
  const at = ringUsed;
  ringUsed = at + <f64>ringCost(staged);
  return at;
}

/** The frame at ring offset `at`, `len` bytes, is held by an aggregate: the head moves past it. */
@inline export function ringHold(at: u32, len: u32): void {
  const end = (at + len + 7) & ~7;
  if (end > head) head = end;
}

/** Hand out the window [start, end): later frames are staged there. */
@inline export function ringOpen(start: u32, end: u32): void {
  head = start;
  windowEnd = end;
}
