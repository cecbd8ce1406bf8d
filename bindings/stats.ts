// Counter slots (laid out by assembly/stats.ts and bindings/twin/stats.ts) → the public Stats object.
import * as S from './twin/stats.js';
import { REASONS, type Reason, type Stats } from './types.js';

export function statsFromCounters(c: Float64Array, flowsActive: number): Stats {
  const reasons = {} as Record<Reason, number>;
  REASONS.forEach((name, i) => { reasons[name] = c[S.STAT_REASONS + i]; });
  return {
    packetsIn: c[S.STAT_PACKETS_IN],
    packetsOut: c[S.STAT_PACKETS_OUT],
    aggregates: c[S.STAT_AGGREGATES],
    segmentsAggregated: c[S.STAT_SEGMENTS_AGGREGATED],
    passedThrough: c[S.STAT_PASSED_THROUGH],
    bytesIn: c[S.STAT_BYTES_IN],
    bytesOut: c[S.STAT_BYTES_OUT],
    flowsCreated: c[S.STAT_FLOWS_CREATED],
    flowsDeleted: c[S.STAT_FLOWS_DELETED],
    flowsActive,
    tableFull: c[S.STAT_TABLE_FULL],
    clockClamped: c[S.STAT_CLOCK_CLAMPED],
    reasons,
  };
}
