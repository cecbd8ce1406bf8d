// AssemblyScript (not TypeScript): the machine's bound for the benchmark, compiled by bench/run.ts
// with `asc bench/kernels.ts --enable simd --runtime stub -O3` to build/bench-kernels.wasm.
//
// The unavoidable work per frame, and nothing else: the JS side stages the frame into linear
// memory (Uint8Array.set), then `bound` verifies its IPv4 header and TCP checksums with the
// engine's own SIMD kernel and appends its payload to a connection buffer with memory.copy.
// No parsing beyond the offsets, no flow lookup, no timers, no output. Mode 3 appends each
// payload to its own flow's buffer instead (flow index given by JS): the same work with the
// per-flow state any aggregator must keep, for the scale rows.
//
// ┌──── 0 ─┬──── CONN ─┬─────── DESC ─┬──── STAGE ─┬─── FLOWS ─────────────┬──────────────────────┐
// │ static │ buffer    │ 12 B × 1024: │ staged     │ flow buffers          │ fill u32 × flows     │
// │ data   │ 64 KiB    │ offset,      │ frames     │ FLOW_CAP × flows      │ (bytes in each)      │
// │        │           │ length, flow │ 1 MiB      │ (memory grown by JS)  │                      │
// └────────┴───────────┴──────────────┴────────────┴───────────────────────┴──────────────────────┘
import { fold, sum16 } from '../assembly/checksum';

const CONN: usize = 65536;
const DESC: usize = 2 * 65536;
const STAGE: usize = 3 * 65536;
const STAGE_BYTES: i32 = 1 << 20; // must equal bindings/abi.ts STAGE_BYTES; test/abi.test.ts checks
const FLOWS: usize = STAGE + (<usize>STAGE_BYTES);
// The engine's connection buffer at maxAggregate 65535: must equal bindings/abi.ts
// bufferCapacity(65535); test/abi.test.ts checks.
const FLOW_CAP: usize = 65664;
const MAX_BATCH: i32 = 1024; // must equal bindings/abi.ts MAX_BATCH; test/abi.test.ts checks
const THRESHOLD: usize = 64035;

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

/** Bytes of memory mode 3 needs for `flows` flows (JS grows the memory to this first). */
export function flowsEnd(flows: i32): usize {
  return FLOWS + <usize>flows * (FLOW_CAP + 4);
}

let flowCount: i32 = 0;

/** Mode 3 over `flows` flows from now on, every flow buffer empty. */
export function flowsUse(flows: i32): void {
  flowCount = flows;
  memory.fill(FLOWS + <usize>flows * FLOW_CAP, 0, <usize>flows << 2);
}

/**
 * Frames described at DESC, `count` of them. mode 0: nothing (staging and the call only);
 * 1: + checksums; 2: + payload copy; 3: + payload copy into the frame's flow's buffer.
 * Returns the number of frames whose checksums fail.
 */
export function bound(count: i32, mode: i32): i32 {
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const d = DESC + <usize>i * 12;
    const b = STAGE + <usize>load<u32>(d);
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
    if (mode == 3) {
      const flow = <usize>load<u32>(d, 8);
      const fill = FLOWS + <usize>flowCount * FLOW_CAP + (flow << 2);
      let used = <usize>load<u32>(fill);
      if (used + n > THRESHOLD) used = 0;
      memory.copy(FLOWS + flow * FLOW_CAP + used, tcp + hdr, n);
      store<u32>(fill, <u32>(used + n));
      continue;
    }
    if (connUsed + n > THRESHOLD) connUsed = 0;
    memory.copy(CONN + connUsed, tcp + hdr, n);
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
