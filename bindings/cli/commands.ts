// Every `lro` command: its synopsis, help text and flags. The code that runs a command lives in
// its own module (cli/coalesce.ts …), loaded only when that command runs.

import { SUPPORTED_LINK_TYPES } from '../pipeline/link-types.js';
import { GENERATE_DEFAULTS } from '../traffic/options.js';
import type { FlagSpec, Parsed } from './args.js';
import { ENGINE_FLAGS } from './engine-flags.js';
import type { CliIo } from './io.js';

export interface Command {
  synopsis: string;
  about: string;
  flags: FlagSpec[];
  notes?: string;
  /** The module that runs it: `run(parsed, io)` resolves to the exit status. */
  load(): Promise<{ run(parsed: Parsed, io: CliIo): Promise<number> | number }>;
  /**
   * It writes capture files: Ctrl-C removes the unfinished ones (cli/interrupt.ts). The others keep
   * the signals' default action, which ends them at once, even in a read of a quiet pipe.
   */
  writesFiles?: boolean;
}

const COALESCE_FLAGS: FlagSpec[] = [
  {
    name: 'output',
    short: 'o',
    type: 'string',
    arg: 'OUT',
    help: "capture to write, in IN's format unless -F (required; written\natomically; '-' = standard output)",
  },
  {
    name: 'format',
    short: 'F',
    type: 'string',
    arg: 'pcap|pcapng',
    help: "output format (default: IN's; 'libpcap' = pcap). pcapng → pcap needs\none link type for every packet; what pcap cannot hold is dropped, counted",
  },
  { name: 'write', short: 'w', type: 'string', arg: 'OUT', help: 'the same as -o (as tcpdump and editcap spell it)' },
  { name: 'read', short: 'r', type: 'string', arg: 'IN', help: "the input, instead of the IN argument ('-' = standard input)" },
  ...ENGINE_FLAGS,
  {
    name: 'skip-bad',
    type: 'boolean',
    help: 'skip corrupt records where the reader can resynchronise (each is\nreported on stderr and counted) instead of stopping at the first',
  },
  { name: 'json', type: 'boolean', help: 'print one JSON object: the engine stats() names, elapsedMs, input, output, …' },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing on success (errors still go to stderr)' },
  { name: 'no-progress', type: 'boolean', help: 'no progress bar (it is drawn only when stderr is a terminal)' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

const GENERATE_FLAGS: FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', arg: 'FILE', help: 'capture file to write (required)' },
  { name: 'format', type: 'string', arg: 'pcap|pcapng', help: 'file format (default: pcapng if FILE ends in .pcapng, else pcap)' },
  { name: 'packets', type: 'number', arg: 'N', help: `frames to write, exactly (default ${GENERATE_DEFAULTS.packets})` },
  { name: 'flows', type: 'number', arg: 'N', help: `concurrent bulk TCP flows (default ${GENERATE_DEFAULTS.flows})` },
  { name: 'seed', type: 'number', arg: 'N', help: `PRNG seed: same seed, same bytes (default ${GENERATE_DEFAULTS.seed})` },
  { name: 'mss', type: 'number', arg: 'BYTES', help: `payload of a full IPv4 segment (default ${GENERATE_DEFAULTS.mss}; IPv6: mss − 20)` },
  {
    name: 'line-rate',
    type: 'number',
    arg: 'GBPS',
    help: `wire rate that spaces the timestamps (default ${GENERATE_DEFAULTS.lineRateGbps})`,
  },
  { name: 'interleave', type: 'string', arg: 'random|round-robin', help: 'how flows share the wire (default random)' },
  {
    name: 'ack-every',
    type: 'number',
    arg: 'N',
    help: `receiver's pure ACK every N data segments (default ${GENERATE_DEFAULTS.ackEvery}; 0 = none)`,
  },
  { name: 'loss', type: 'number', arg: 'P', help: 'probability a data segment is lost (default 0)' },
  { name: 'reorder', type: 'number', arg: 'P', help: "probability a data segment comes after the flow's next one (default 0)" },
  { name: 'duplicate', type: 'number', arg: 'P', help: 'probability a data segment is sent twice (default 0)' },
  { name: 'psh-every', type: 'number', arg: 'N', help: 'PSH on every N-th data segment (default 0 = never)' },
  { name: 'no-timestamps', type: 'boolean', help: 'no TCP timestamp option' },
  { name: 'ipv6', type: 'number', arg: 'SHARE', help: 'share of flows (and noise) that is IPv6, 0..1 (default 0)' },
  { name: 'vlan', type: 'number', arg: 'ID', help: '802.1Q tag on every frame (Ethernet only)' },
  { name: 'noise', type: 'number', arg: 'SHARE', help: 'share of deliberately broken / non-TCP frames, port 9 (default 0)' },
  { name: 'small-segments', type: 'string', arg: 'A-B', help: 'data segment payload uniform in [A, B] instead of mss' },
  { name: 'no-handshake', type: 'boolean', help: 'no SYN / FIN exchange around each flow' },
  { name: 'flow-segments', type: 'number', arg: 'N', help: 'each flow sends about N data segments, then a new flow replaces it' },
  { name: 'seq-start', type: 'number', arg: 'U32', help: "every flow's first sequence number (default seeded random)" },
  { name: 'start-time-us', type: 'number', arg: 'US', help: 'time of the first frame, µs since the epoch (default 1.7e15)' },
  {
    name: 'link-type',
    type: 'number',
    arg: 'N',
    help: '1 Ethernet (default), 113 Linux SLL, 276 Linux SLL2,\n101 (or 12, 14) raw IP, 228 raw IPv4 (no IPv6), 229 raw IPv6 (--ipv6 1)',
  },
  { name: 'resolution', type: 'string', arg: 'us|ns', help: 'timestamp resolution (default us)' },
  { name: 'big-endian', type: 'boolean', help: 'write a big-endian file (default little-endian)' },
  {
    name: 'snaplen',
    type: 'number',
    arg: 'BYTES',
    help: 'snap length: each record keeps at most BYTES of its frame (0: no limit; default 262144)',
  },
  { name: 'packet-comments', type: 'boolean', help: 'pcapng: an opt_comment on every packet block (to test option pass-through)' },
  { name: 'json', type: 'boolean', help: 'print one JSON object instead of a line' },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing on success' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

const INSPECT_FLAGS: FlagSpec[] = [
  { name: 'top', type: 'number', arg: 'N', help: 'rows in the table (default 20; 0 = all). --json lists all' },
  { name: 'sort', type: 'string', arg: 'packets|bytes', help: 'order of the rows: most packets (default) or most bytes first' },
  { name: 'json', type: 'boolean', help: 'print one JSON object' },
  { name: 'skip-bad', type: 'boolean', help: 'skip corrupt records (counted) instead of stopping' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

const COMPARE_FLAGS: FlagSpec[] = [
  { name: 'top', type: 'number', arg: 'N', help: 'connections shown, largest first (default 10; 0 = all). --json lists all' },
  {
    name: 'rerun',
    type: 'boolean',
    help: 'coalesce WIRE again in memory and show why each packet was sent, per\nconnection (OURS made by lro coalesce: give its engine flags too)',
  },
  { name: 'json', type: 'boolean', help: 'print one JSON object' },
  { name: 'skip-bad', type: 'boolean', help: 'skip corrupt records (counted) instead of stopping' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
  ...ENGINE_FLAGS,
];

const DEMO_FLAGS: FlagSpec[] = [
  { name: 'packets', type: 'number', arg: 'N', help: 'frames in the sample (default 100000)' },
  { name: 'dir', type: 'string', arg: 'DIR', help: 'where to write the files (default: <tmpdir>/large-receive-demo)' },
  ...ENGINE_FLAGS,
  { name: 'json', type: 'boolean', help: 'print the coalesce summary as one JSON object' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

/** Defaults of `lro bench` (the built-in measurement in cli/bench.ts). */
export const BENCH_DEFAULTS = Object.freeze({ packets: 4000, flows: 1, seconds: 2, batch: 256 });

const BENCH_FLAGS: FlagSpec[] = [
  {
    name: 'packets',
    type: 'number',
    arg: 'N',
    help: `frames per pass (default ${BENCH_DEFAULTS.packets}: ~6 MB, so that a pass stays\nin the cache, as in the suite's bulk workload)`,
  },
  { name: 'flows', type: 'number', arg: 'N', help: `interleaved bulk flows (default ${BENCH_DEFAULTS.flows})` },
  { name: 'seconds', type: 'number', arg: 'S', help: `measuring time, shared by the four runners (default ${BENCH_DEFAULTS.seconds})` },
  { name: 'batch', type: 'number', arg: 'N', help: `frames per pushBatch call (default ${BENCH_DEFAULTS.batch}; 0 = push() per frame)` },
  { name: 'json', type: 'boolean', help: 'print one JSON object: sink.wasm.mpps, sink.ts.mpps, sink.wasmOverTs, drain.…' },
  {
    name: 'suite',
    type: 'boolean',
    help: 'run the full benchmark suite instead (bench/run.ts: a clone of the repository\nwith its dev dependencies; writes bench/RESULTS.md); every argument\nafter lro bench goes to it unparsed, e.g. lro bench --suite --quick',
  },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

export const COMMANDS: Record<string, Command> = {
  coalesce: {
    synopsis: 'lro coalesce IN -o OUT [options]',
    about:
      'Aggregate the TCP segments of a pcap or pcapng capture (Large Receive, like Linux GRO) and\n' +
      'write the result in the same format (or the other, -F). Capture timestamps drive the engine clock.',
    flags: COALESCE_FLAGS,
    notes:
      `Link types: ${SUPPORTED_LINK_TYPES}. pcapng: one engine per interface;\n` +
      'pass-through packets (and one-segment aggregates) are written as their original records: same\n' +
      'timestamp at full resolution, same options; aggregates get the send time and no options.\n' +
      '-F pcapng: one interface, same resolution (if_tsresol 6 or 9), every record an EPB. -F pcap\n' +
      'from pcapng: µs, or ns when an interface is finer; other blocks, packet options dropped\n' +
      '(counted in the summary); a simple packet block takes the time of the packet before it.\n' +
      'Examples: lro coalesce in.pcap -o out.pcap --json      lro coalesce in.pcapng -F pcap -o out.pcap',
    load: () => import('./coalesce.js'),
    writesFiles: true,
  },
  generate: {
    synopsis: 'lro generate -o FILE [options]',
    about: 'Write seeded synthetic TCP traffic (bulk flows, ACKs, impairments, noise) as pcap or pcapng.\nSame options, same bytes.',
    flags: GENERATE_FLAGS,
    notes: 'Example: lro generate -o bulk.pcap --packets 1000000 --flows 16 --loss 0.001 --noise 0.01',
    load: () => import('./generate.js'),
    writesFiles: true,
  },
  inspect: {
    synopsis: 'lro inspect FILE [--top N] [--json]',
    about:
      'Per-connection table of a capture: packets, bytes, TCP payload bytes and segment sizes\n(min / mean / max payload of the segments carrying some), sorted by packets; plus totals.',
    flags: INSPECT_FLAGS,
    load: () => import('./inspect.js'),
  },
  compare: {
    synopsis: 'lro compare WIRE OURS [LINUX] [--top N] [--rerun] [--json]',
    about:
      'Where coalescings of the same traffic differ: WIRE is the capture before coalescing, OURS (and\n' +
      'LINUX, e.g. a capture after Linux GRO) after. Per connection (direction matters), side by side:\n' +
      'packets, data packets, WIRE segments per aggregate (mean and histogram, from sequence numbers),\n' +
      'payload sizes, and whether the payload byte streams are identical; largest first, then totals.',
    flags: COMPARE_FLAGS,
    notes:
      'Engine flags (--preset …) are for --rerun only: the options OURS was made with.\n' +
      'Example: lro coalesce wire.pcap -o ours.pcap && lro compare wire.pcap ours.pcap linux.pcap --rerun',
    load: () => import('./compare.js'),
  },
  bench: {
    synopsis: 'lro bench [options]   or   lro bench --suite [suite args]',
    about:
      'Time the WASM engine and the TS twin on the same generated bulk traffic (1448-byte segments),\n' +
      'taking turns in alternating rounds, packets delivered to a sink and through drain(): Mpps,\n' +
      'ns per frame and the WASM / TS ratio. Works from an installed package.\n' +
      'With --suite: the full benchmark suite of a clone instead (npm run bench; writes bench/RESULTS.md).',
    flags: BENCH_FLAGS,
    notes: 'Examples: lro bench --packets 100000 --seconds 5      lro bench --suite --quick',
    load: () => import('./bench.js'),
  },
  demo: {
    synopsis: 'lro demo [options]',
    about:
      'What `npm start` runs: generate a default sample (100,000 frames, 8 bulk flows with ACKs and\na little noise) in the temporary directory, coalesce it, print the summary and the file names.',
    flags: DEMO_FLAGS,
    load: () => import('./demo.js'),
    writesFiles: true,
  },
};
