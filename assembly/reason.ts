// Why a packet was sent (names: REASONS in bindings/abi.ts, indexed by these codes).
// Each code must equal the same name in bindings/abi.ts, which the bindings and the twin use
// (AssemblyScript cannot import TypeScript); test/abi.test.ts checks, both ways.
export const REASON_PASS_THROUGH: i32 = 0;
export const REASON_THRESHOLD: i32 = 1;
export const REASON_CAPACITY: i32 = 2;
export const REASON_AG_TIMER: i32 = 3;
export const REASON_DEL_TIMER: i32 = 4;
export const REASON_FIN: i32 = 5;
export const REASON_RST: i32 = 6;
export const REASON_PSH: i32 = 7;
export const REASON_SHORT: i32 = 8;
export const REASON_MISMATCH_FLAGS: i32 = 9; // 736: TCP flags
export const REASON_MISMATCH_ACK: i32 = 10; // 738: ACK number
export const REASON_MISMATCH_SEQ: i32 = 11; // 740: sequence number
export const REASON_MISMATCH_OPTIONS: i32 = 12; // 741: TCP options
export const REASON_MISMATCH_WINDOW: i32 = 13;
export const REASON_MISMATCH_IP: i32 = 14;
export const REASON_MISMATCH_MSS: i32 = 15;
export const REASON_NON_CANDIDATE: i32 = 16;
export const REASON_FLUSH: i32 = 17;
export const REASON_CLOSE: i32 = 18;
export const REASON_COUNT: i32 = 19;

// Why a frame passed through (names: PASS_THROUGH_CAUSES in bindings/abi.ts, indexed by these
// codes; CONTRACT §2). Counted per pass-through in stats.ts STAT_CAUSES; checked like the above.
export const CAUSE_BAD_TCP_CHECKSUM: i32 = 0; // 714
export const CAUSE_BAD_IP_CHECKSUM: i32 = 1; //  714
export const CAUSE_TRUNCATED: i32 = 2;
export const CAUSE_NOT_TCP: i32 = 3;
export const CAUSE_IP_OPTIONS: i32 = 4; //       714: IPv4 options, fragments, IPv6 extension headers not taken
export const CAUSE_NO_PAYLOAD: i32 = 5;
export const CAUSE_FLAGS: i32 = 6; //            732: SYN / RST / URG / CWR, TTL 0
export const CAUSE_TABLE_FULL: i32 = 7; //       726
export const CAUSE_TOO_LARGE: i32 = 8;
export const CAUSE_TCP_OPTIONS: i32 = 9; //      741, seed
export const CAUSE_COUNT: i32 = 10;
/** ownFieldsForbid: nothing forbids aggregation. */
export const NO_CAUSE: i32 = -1;
