// Elapsed-time clock of the CLI: milliseconds on a monotonic clock. process.hrtime, not
// performance.now(): the `performance` global has Node load perf_hooks (ten modules) on first use.

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
