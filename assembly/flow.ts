// The context-database entry (FIG. 6, 608-620): one fixed record per flow index, FLOW_SIZE bytes
// at flowsBase + index * FLOW_SIZE. Twin: the typed arrays of bindings/twin/{flow-table,timers,aggregate,pending}.ts.
//
// ┌─────┬──────────────────────────────────────────────────────────────────────────────┐
// │   0 │ key[40]        flow key (parse.ts layout)                                    │
// │  40 │ hash u32       seeded hash of the key                                        │
// │  44 │ segments u32   segments in the pending aggregate; 0 = none (742)             │
// │  48 │ agAt f64       AgTimer deadline (616), valid while segments > 0              │
// │  56 │ delAt f64      DelTimer deadline (614), valid while the entry lives          │
// │  64 │ agPrev i32     AgTimer list links (timers.ts), NONE at the ends              │
// │  68 │ agNext i32                                                                   │
// │  72 │ delPrev i32    DelTimer list links                                           │
// │  76 │ delNext i32                                                                  │
// │  80 │ nextSeq u32    740: sequence number the next segment must carry              │
// │  84 │ frameLen u32   bytes of the pending frame once gathered (620)                │
// │  88 │ ipSize u32     IP length field as it would be written                        │
// │  92 │ mss u32        first segment's payload length                                │
// │  96 │ paySum u32     folded sum of all payload bytes, as placed in the aggregate   │
// │ 100 │ payLen u32     payload bytes in the aggregate                                │
// │ 104 │ frame u32      where the pending aggregate's frame lies: its build area, or  │
// │     │                its first segment in the ring (an address in linear memory)   │
// │ 108 │ l3 u8 │ pad u8 │ tcpHdrLen u8 │ ipVersion u8                                 │
// │ 112 │ seenFlags u8 │ fixedId u8 │ lastWindow u16   seenFlags: every segment's flags │
// │     │ ORed (PSH, FIN carried); lastWindow: the last segment's; fixedId: 1 while     │
// │     │ every IPv4 ID equals the first's                                             │
// │ 116 │ pending i32    pending-aggregate descriptor held while segments > 0 (pending.ts) │
// │ 120 │ l4 u16         TCP header offset (IPv6 extension headers may put it past 255) │
// │ 122 │ pad[2]                                                                       │
// │ 124 │ ipLimit u32    largest ipSize of the aggregate: maxAggregate, or less where    │
// │     │ maxFrame, less this connection's link and IP headers, is smaller             │
// └─────┴──────────────────────────────────────────────────────────────────────────────┘
// 128 bytes, a power of two: flowPtr is a shift (144-byte records measured 1 % slower in bulk).
// Where a pending aggregate's segments lie in the ring and what it says about its start (first
// inputIndex and time) is kept in its descriptor (pending.ts), not here. fixedId is what a packet says (fixedIpId) and, in
// gro, the IPv4 ID mode the second segment fixed (aggregate.ts sameIpFields).
export const FLOW_SIZE: usize = 128;
export const F_HASH: usize = 40;
export const F_SEGMENTS: usize = 44;
// The DelTimer fields sit 8 bytes after the AgTimer's (delAt, delPrev, delNext): timers.ts
// addresses list l's fields as F_AG_* + l * 8.
export const F_AG_AT: usize = 48;
export const F_AG_PREV: usize = 64;
export const F_AG_NEXT: usize = 68;
export const F_NEXT_SEQ: usize = 80;
export const F_FRAME_LEN: usize = 84;
export const F_IP_SIZE: usize = 88;
export const F_MSS: usize = 92;
export const F_PAY_SUM: usize = 96;
export const F_PAY_LEN: usize = 100;
export const F_FRAME: usize = 104;
export const F_L3: usize = 108;
export const F_TCP_HDR_LEN: usize = 110;
export const F_IP_VERSION: usize = 111;
export const F_SEEN_FLAGS: usize = 112;
export const F_FIXED_ID: usize = 113;
export const F_LAST_WINDOW: usize = 114;
export const F_PENDING: usize = 116;
export const F_L4: usize = 120;
export const F_IP_LIMIT: usize = 124;

export const NONE: i32 = -1;

export let flowsBase: usize = 0;

@inline export function flowPtr(f: i32): usize {
  return flowsBase + <usize>f * FLOW_SIZE;
}
