// Counter slots (bindings/abi.ts, assembly/stats.ts) → the public Stats object.
import * as S from '../abi.js';
import { PASS_THROUGH_CAUSES, type PassThroughCause, REASONS, type Reason, type Stats } from './types.js';

export function statsFromCounters(c: Float64Array, flowsActive: number): Stats {
  const reasons = {} as Record<Reason, number>;
  REASONS.forEach((name, i) => {
    reasons[name] = c[S.STAT_REASONS + i];
  });
  const passThroughCauses = {} as Record<PassThroughCause, number>;
  PASS_THROUGH_CAUSES.forEach((name, i) => {
    passThroughCauses[name] = c[S.STAT_CAUSES + i];
  });
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
    passThroughCauses,
  };
}

/** All-zero stats (every reason and cause present). */
export function zeroStats(): Stats {
  const reasons = {} as Record<Reason, number>;
  for (const r of REASONS) reasons[r] = 0;
  const passThroughCauses = {} as Record<PassThroughCause, number>;
  for (const k of PASS_THROUGH_CAUSES) passThroughCauses[k] = 0;
  return {
    packetsIn: 0,
    packetsOut: 0,
    aggregates: 0,
    segmentsAggregated: 0,
    passedThrough: 0,
    bytesIn: 0,
    bytesOut: 0,
    flowsCreated: 0,
    flowsDeleted: 0,
    flowsActive: 0,
    tableFull: 0,
    clockClamped: 0,
    reasons,
    passThroughCauses,
  };
}

/** Add `s` into `into`, counter by counter (several engines' totals). */
export function addStats(into: Stats, s: Stats): void {
  for (const k of Object.keys(s) as (keyof Stats)[]) {
    if (k === 'reasons') for (const r of REASONS) into.reasons[r] += s.reasons[r];
    else if (k === 'passThroughCauses') for (const c of PASS_THROUGH_CAUSES) into.passThroughCauses[c] += s.passThroughCauses[c];
    else into[k] += s[k];
  }
}
