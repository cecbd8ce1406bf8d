// The numeric contract between the WASM core and the JS side, defined once for TypeScript.
// Both engines (engine/wasm.ts, engine/ts.ts) and the twin (twin/) import it; the core
// (assembly/) types the same numbers in AssemblyScript, and test/abi.test.ts reads them out of
// assembly/ and fails on any drift. A leaf: it imports nothing.

/** Why a packet was sent (docs/CONTRACT.md "Reasons"). A packet's numeric code is its index. */
export const REASONS = [
  'pass-through', // 0  not a candidate / could not join: the frame itself, unchanged (730, 766)
  'threshold', //    1  size > THRESHOLD after appending (754-756)
  'capacity', //     2  the next segment would exceed maxAggregate / maxFrame, or it was the oldest pending when the ring or the descriptors (maxPending) ran out
  'ag-timer', //     3  AgTimer popped (780-784)
  'del-timer', //    4  DelTimer popped: connection deleted (790-794)
  'fin', //          5  FIN ended the aggregate / deleted the connection (752, 758)
  'rst', //          6  RST deleted the connection (758)
  'psh', //          7  gro: PSH ends the aggregate
  'short', //        8  gro: payload shorter than the MSS ends the aggregate
  'mismatch-flags', // 9   TCP flags differ (736)
  'mismatch-ack', //  10  ACK number differs (738)
  'mismatch-seq', //  11  sequence number is not the next expected one (740)
  'mismatch-options', // 12 TCP options differ (741)
  'mismatch-window', // 13 gro: window differs
  'mismatch-ip', //  14 gro: TTL / TOS / DF / flow label differ
  'mismatch-mss', // 15 gro: payload longer than the first segment's
  'non-candidate', // 16 a frame of the connection that could not join
  'flush', //        17 flush()
  'close', //        18 close() / end of input
] as const;

// Reason codes (assembly/reason.ts).
export const REASON_PASS_THROUGH = 0;
export const REASON_THRESHOLD = 1;
export const REASON_CAPACITY = 2;
export const REASON_AG_TIMER = 3;
export const REASON_DEL_TIMER = 4;
export const REASON_FIN = 5;
export const REASON_RST = 6;
export const REASON_PSH = 7;
export const REASON_SHORT = 8;
export const REASON_MISMATCH_FLAGS = 9;
export const REASON_MISMATCH_ACK = 10;
export const REASON_MISMATCH_SEQ = 11;
export const REASON_MISMATCH_OPTIONS = 12;
export const REASON_MISMATCH_WINDOW = 13;
export const REASON_MISMATCH_IP = 14;
export const REASON_MISMATCH_MSS = 15;
export const REASON_NON_CANDIDATE = 16;
export const REASON_FLUSH = 17;
export const REASON_CLOSE = 18;
export const REASON_COUNT = 19;

/**
 * Why a frame went out unchanged with reason 'pass-through' (docs/CONTRACT.md §2 "Pass-through
 * causes"): exactly one cause per such frame, the first check it failed in the order the engine
 * makes them. A cause's numeric code is its index; stats() counts them in passThroughCauses.
 */
export const PASS_THROUGH_CAUSES = [
  'bad-tcp-checksum', // 0 714: the TCP checksum is wrong (verifyChecksums on)
  'bad-ip-checksum', //  1 714: the IPv4 header checksum is wrong
  'truncated', //        2 a length field inconsistent with the bytes present (IP / TCP lengths, a frame cut short)
  'not-tcp', //          3 not IP, not TCP (ARP, UDP, ICMP …), two or more VLAN tags
  'ip-options', //       4 714: IPv4 options, a fragment, the IPv4 reserved bit, an IPv6 extension header the engine does not take
  'no-payload', //       5 a TCP segment without payload (pure ACK, bare SYN / FIN / RST)
  'flags', //            6 732: SYN, RST, URG or CWR set, or TTL / hop limit 0 (the own-field rule)
  'table-full', //       7 726: a new connection and maxFlows connections tracked
  'too-large', //        8 a size no aggregate may have (maxAggregate, maxFrame, the output area)
  'tcp-options', //      9 741, seed preset: TCP options present
] as const;

// Pass-through cause codes (assembly/reason.ts).
export const CAUSE_BAD_TCP_CHECKSUM = 0;
export const CAUSE_BAD_IP_CHECKSUM = 1;
export const CAUSE_TRUNCATED = 2;
export const CAUSE_NOT_TCP = 3;
export const CAUSE_IP_OPTIONS = 4;
export const CAUSE_NO_PAYLOAD = 5;
export const CAUSE_FLAGS = 6;
export const CAUSE_TABLE_FULL = 7;
export const CAUSE_TOO_LARGE = 8;
export const CAUSE_TCP_OPTIONS = 9;
export const CAUSE_COUNT = 10;
/** No cause: the segment's own fields allow aggregation (ownFieldsForbid). Never counted. */
export const NO_CAUSE = -1;

// Counter slots (assembly/stats.ts): one f64 each (exact up to 2^53), read by engine/stats.ts.
export const STAT_PACKETS_IN = 0;
export const STAT_PACKETS_OUT = 1;
export const STAT_AGGREGATES = 2;
export const STAT_SEGMENTS_AGGREGATED = 3;
export const STAT_PASSED_THROUGH = 4;
export const STAT_BYTES_IN = 5;
export const STAT_BYTES_OUT = 6;
export const STAT_FLOWS_CREATED = 7;
export const STAT_FLOWS_DELETED = 8;
export const STAT_TABLE_FULL = 9;
export const STAT_CLOCK_CLAMPED = 10;
/** Packets sent per reason code start here. */
export const STAT_REASONS = 11;
/** Pass-throughs per cause code start here (they sum to the pass-through reason's count). */
export const STAT_CAUSES = STAT_REASONS + REASON_COUNT;
export const STAT_COUNT = STAT_CAUSES + CAUSE_COUNT;

// Staging (assembly/index.ts, ring.ts): frames handed to the core are copied into the free window
// of its staging ring and described by 24-byte descriptors, MAX_BATCH per core call.
/** Bytes of the staging area (stagingArea(); pushStaged's frames are copied from there into the ring). */
export const STAGE_BYTES = 1 << 20;
/** Frames per pushBatch core call. */
export const MAX_BATCH = 1024;
/**
 * Frames are staged up to this many bytes: more than any IP packet plus headers needs. A JS-side
 * staging rule (engine/wasm.ts): the core only reads the staged length it is given, so assembly/
 * has no copy of this number.
 */
export const STAGE_FRAME_MAX = 131072;
/** The ring's account (assembly/ring.ts): added to every frame's staged bytes (rounded up to 8), the most a run copy puts before it. */
export const RING_FRAME_SLACK = 72;
/** The ring's account keeps this many bytes free: 3 × the largest staged frame's cost (assembly/ring.ts). */
export const RING_MARGIN = 3 * (STAGE_FRAME_MAX + RING_FRAME_SLACK);

/** A frame of `staged` bytes on the ring's account (assembly/ring.ts ringCost). */
export function ringCost(staged: number): number {
  return ((staged + 7) & ~7) + RING_FRAME_SLACK;
}
// Batch descriptor: offset u32 (from the ring's start) │ staged u32 │ length u32 │ pad │ time f64.
export const DESC_SIZE = 24;
export const DESC_OFFSET = 0;
export const DESC_STAGED = 4;
export const DESC_LENGTH = 8;
export const DESC_TIME = 16;

// Output descriptor (drawn in assembly/index.ts; engine.ts writes it): what the packet being
// emitted says about itself, read by engine/queue.ts during emitAggregate / emitInput. The twin
// writes the same record into an ArrayBuffer of its own. Byte offsets:
export const OUT_SIZE = 56;
export const OUT_INDEX = 0; //          f64 inputIndex
export const OUT_FIRST_TIME = 8; //     f64 firstTimeUs
export const OUT_TIME = 16; //          f64 timeUs
export const OUT_SEGMENTS = 24; //      u32
export const OUT_MSS = 28; //           u32
export const OUT_REASON = 32; //        u32 reason code
export const OUT_IP_VERSION = 36; //    u32 4, 6 or 0
export const OUT_TCP_OFFSET = 40; //    u32
export const OUT_HEADER_LENGTH = 44; // u32
export const OUT_FLAGS = 48; //         u32, bits:
export const OUT_CHECKSUMS_FIXED = 1;
export const OUT_VERIFIED = 2;
export const OUT_FIXED_IP_ID = 4;

// The build and gather areas an aggregate is built or gathered in (assembly/aggregate.ts).
/** Room for the link header and trailing padding around a maxAggregate-byte IP packet. */
export const BUFFER_SLACK = 128;

/** Build areas at most (assembly/aggregate.ts): up to this many aggregates, those started while one is free, are built in one as they grow. */
export const BUILD_AREAS = 64;

/** Bytes of a build area (and of the gather area): a maxAggregate-byte IP packet, its link header and padding. */
export function bufferCapacity(maxAggregate: number): number {
  return (maxAggregate + BUFFER_SLACK + 7) & ~7;
}

/** The core's frame limit when maxFrame is 0 (none): any frame a build area holds fits (assembly/aggregate.ts). */
export const FRAME_UNLIMITED = 0x7fffffff;

/** The frame limit the core is set up with for the option maxFrame (0: none). */
export function frameLimit(maxFrame: number): number {
  return maxFrame === 0 ? FRAME_UNLIMITED : Math.min(maxFrame, FRAME_UNLIMITED);
}

// Presets the core is set up with (assembly/aggregate.ts setPreset; docs/CONTRACT.md §4).
export const PRESET_SEED = 0;
export const PRESET_GRO = 1;
export const PRESET_THROUGHPUT = 2;

// Link types the engine parses itself (pcap LINKTYPE values; assembly/parse.ts).
export const LINK_ETHERNET = 1;
export const LINK_RAW = 101;
export const LINK_SLL = 113;
export const LINK_SLL2 = 276;

/** Largest time on the engine clock (µs); deadlines saturate here (assembly/engine.ts). */
export const MAX_TIME = 2 ** 53 - 1;
