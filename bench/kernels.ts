// AssemblyScript (not TypeScript): the machine's bound for the benchmark, compiled by bench/run.ts
// with `asc bench/kernels.ts --enable simd --runtime stub -O3` to build/bench-kernels.wasm.
//
// The unavoidable work per frame, and nothing else: the JS side stages the frame into linear
// memory (Uint8Array.set), then `bound` verifies its IPv4 header and TCP checksums with the
// engine's own SIMD kernel and appends its payload to a connection buffer with memory.copy.
// No parsing beyond the offsets, no flow lookup, no timers, no output. Mode 4 is the same work
// with segments held where they were staged, for the scale rows: JS stages each frame at the head
// of a ring as large as the engine's default (RING_BYTES), and the payload copied out is the one
// staged when the frame's flow had its previous segment (an offset JS gives): the memory traffic
// any aggregator pays that keeps pending segments in place and gathers them at send. Mode 5 adds
// the least per-flow state: the frame's flow's record (FLOW_BYTES, the engine's record size; its
// index JS gives) read and written, both of its cache lines, as any lookup of a flow's state does.
// Mode 6 adds the least a per-packet JS sink costs: at each frame where one of the engine's
// output packets starts (a flag JS gives, from the engine's own output on the same frames), a
// call out to JS, which hands a new view of the frame to a sink that does nothing.
//
// ┌──── 0 ─┬──── CONN ─┬─────── DESC ─┬──── STAGE ─┬─── RING ──────────────────────┬─── FLOWS ─────────────┐
// │ static │ buffer    │ 16 B × 1024: │ staged     │ frames staged in turn,        │ FLOW_BYTES per flow,  │
// │ data   │ 64 KiB    │ offset, len, │ frames     │ modes 4, 5: RING_BYTES        │ mode 5                │
// │        │           │ src, flow    │ 1 MiB      │ (memory grown by JS)          │ (memory grown by JS)  │
// └────────┴───────────┴──────────────┴────────────┴───────────────────────────────┴───────────────────────┘
import { fold, sum16 } from '../assembly/checksum';

const CONN: usize = 65536;
const DESC: usize = 2 * 65536;
const STAGE: usize = 3 * 65536;
const STAGE_BYTES: i32 = 1 << 20; // must equal bindings/abi.ts STAGE_BYTES; test/abi.test.ts checks
const RING: usize = STAGE + (<usize>STAGE_BYTES);
// The engine's default staging ring: must equal bindings/engine/options.ts DEFAULT_RING_BYTES;
// test/abi.test.ts checks.
const RING_BYTES: usize = 16777216;
const MAX_BATCH: i32 = 1024; // must equal bindings/abi.ts MAX_BATCH; test/abi.test.ts checks
const THRESHOLD: usize = 64035;
/** A flow record: the engine's (assembly/flow.ts FLOW_SIZE). */
const FLOW_BYTES: usize = 128;
const FLOWS: usize = RING + RING_BYTES;
const DESC_SIZE: usize = 16;

let connUsed: usize = 0;

export function stagePtr(): usize {
  return STAGE;
}

export function descPtr(): usize {
  return DESC;
}

export function stageBytes(): i32 {
  return STAGE_BYTES;
}

export function maxBatch(): i32 {
  return MAX_BATCH;
}

export function connPtr(): usize {
  return CONN;
}

/** The ring's offset, and the bytes of memory mode 4 needs (JS grows the memory to this first). */
export function ringPtr(): usize {
  return RING;
}

export function ringEnd(): usize {
  return RING + RING_BYTES;
}

/** The bytes of memory mode 5 needs for `flows` flow records. */
export function flowsEnd(flows: i32): usize {
  return FLOWS + <usize>flows * FLOW_BYTES;
}

/** Mode 6: a packet of `length` bytes at `ptr` goes out to JS (bench/harness.ts loadKernels). */
@external("env", "emitPacket")
declare function emitPacket(ptr: usize, length: i32): void;
/** Bit 31 of a frame's flow word (mode 6): an output packet starts at this frame. */
const PACKET_STARTS: u32 = 0x80000000;

/**
 * Frames described at DESC, `count` of them. mode 0: nothing (staging and the call only);
 * 1: + checksums; 2: + payload copy; 4: frames in the ring, + the payload copied from the ring
 * offset JS gives (where the flow's previous segment was staged); 5: 4, + the frame's flow record
 * read and written; 6: 5, + a call out to JS where an output packet starts. Returns the number
 * of frames whose checksums fail.
 */
export function bound(count: i32, mode: i32): i32 {
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const d = DESC + <usize>i * DESC_SIZE;
    const b = (mode >= 4 ? RING : STAGE) + <usize>load<u32>(d);
    if (mode == 6 && (load<u32>(d, 12) & PACKET_STARTS) != 0) emitPacket(b, <i32>load<u32>(d, 4));
    let l3: usize = 14;
    let type = <u32>bswap<u16>(load<u16>(b, 12));
    if (type == 0x8100) {
      l3 = 18;
      type = <u32>bswap<u16>(load<u16>(b, 16));
    }
    const ip = b + l3;
    if (type != 0x0800 || load<u8>(ip, 9) != 6 || mode == 0) continue;
    const ihl = <usize>(load<u8>(ip) & 15) << 2;
    const tcpLen = <i32>bswap<u16>(load<u16>(ip, 2)) - <i32>ihl;
    const tcp = ip + ihl;
    const pseudo = sum16(ip + 12, 8) + 6 + <u32>tcpLen;
    if (sum16(ip, <i32>ihl) != 0xffff || fold(pseudo + sum16(tcp, tcpLen)) != 0xffff) bad++;
    if (mode == 1) continue;
    const hdr = <usize>(load<u8>(tcp, 12) >> 4) << 2;
    const n = <usize>tcpLen - hdr;
    let src = tcp + hdr;
    if (mode >= 4) {
      // The same place in the frame staged earlier, kept inside the ring.
      src = RING + min(<usize>load<u32>(d, 8) + (src - b), RING_BYTES - n);
    }
    if (mode >= 5) {
      const r = FLOWS + <usize>(load<u32>(d, 12) & ~PACKET_STARTS) * FLOW_BYTES;
      store<u32>(r, load<u32>(r) + 1);
      store<u32>(r, load<u32>(r, 64) + <u32>n, 64);
    }
    if (connUsed + n > THRESHOLD) connUsed = 0;
    memory.copy(CONN + connUsed, src, n);
    connUsed += n;
  }
  return bad;
}

/** The SIMD checksum alone, `reps` times over [ptr, ptr+len) (for the ns-scale kernel table). */
export function sumLoop(ptr: usize, len: i32, reps: i32): u32 {
  let x: u32 = 0;
  for (let r = 0; r < reps; r++) x += sum16(ptr + <usize>(r & 1), len);
  return x;
}

/** memory.copy alone, `reps` times. */
export function copyLoop(dst: usize, src: usize, len: i32, reps: i32): void {
  for (let r = 0; r < reps; r++) memory.copy(dst + <usize>(r & 7), src, <usize>len);
}
