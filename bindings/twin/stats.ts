// Counter slots (twin of assembly/stats.ts): one f64 each, exact up to 2^53.
import { REASON_COUNT } from './reason.js';

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
export const STAT_COUNT = STAT_REASONS + REASON_COUNT;
