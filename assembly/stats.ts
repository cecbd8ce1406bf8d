// Counters (twin: counted in bindings/twin/engine.ts). One f64 slot each at `statsBase`, read by
// bindings/engine/stats.ts.
// Each slot must equal the same name in bindings/abi.ts, which the bindings and the twin use
// (AssemblyScript cannot import TypeScript); test/abi.test.ts checks, both ways.
import { CAUSE_COUNT, REASON_COUNT } from './reason';

export const STAT_PACKETS_IN: i32 = 0;
export const STAT_PACKETS_OUT: i32 = 1;
export const STAT_AGGREGATES: i32 = 2;
export const STAT_SEGMENTS_AGGREGATED: i32 = 3;
export const STAT_PASSED_THROUGH: i32 = 4;
export const STAT_BYTES_IN: i32 = 5;
export const STAT_BYTES_OUT: i32 = 6;
export const STAT_FLOWS_CREATED: i32 = 7;
export const STAT_FLOWS_DELETED: i32 = 8;
export const STAT_TABLE_FULL: i32 = 9;
export const STAT_CLOCK_CLAMPED: i32 = 10;
export const STAT_REASONS: i32 = 11; //  packets sent per reason code
export const STAT_CAUSES: i32 = STAT_REASONS + REASON_COUNT; // pass-throughs per cause code
export const STAT_COUNT: i32 = STAT_CAUSES + CAUSE_COUNT;

export let statsBase: usize = 0;

@inline export function count(stat: i32, by: f64 = 1): void {
  const at = statsBase + (<usize>stat << 3);
  store<f64>(at, load<f64>(at) + by);
}
