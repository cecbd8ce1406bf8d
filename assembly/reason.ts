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
