// Engine options as command-line flags (docs/CONTRACT.md "Command line"), shared by `coalesce`
// and `demo`.

import { FileError } from '../capture/errors.js';
import { resolveOptions } from '../engine/options.js';
import type { Engine, EngineOptions } from '../engine/types.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';

export const ENGINE_FLAGS: FlagSpec[] = [
  {
    name: 'preset',
    type: 'string',
    arg: 'gro|throughput|seed',
    help:
      "checks to apply: 'gro' (default, Linux GRO's), 'throughput' (gro, but PSH joins and a\n" +
      "forward-moving ACK, window or TCP timestamp does not end an aggregate) or 'seed' (the patent's)",
  },
  { name: 'max-flows', type: 'number', arg: 'N', help: 'connections tracked at once per interface (default 1024, 1..16777216)' },
  {
    name: 'max-pending',
    type: 'number',
    arg: 'N',
    help: 'aggregates pending at once per interface (default max-flows, 1..max-flows;\nwhen all are pending the oldest is sent early)',
  },
  {
    name: 'ring-bytes',
    type: 'number',
    arg: 'BYTES',
    help: "the engine's staging ring, where pending segments wait (default 16 MiB,\n1 MiB..2 GiB; when full the oldest aggregate is sent early)",
  },
  { name: 'max-aggregate', type: 'number', arg: 'BYTES', help: 'largest IP length of an aggregate (default 65535, mtu..65535)' },
  {
    name: 'max-frame',
    type: 'number',
    arg: 'BYTES',
    help: 'largest record of an aggregate, link header and FCS included (default 0 = no limit;\nmtu..4294967295; e.g. 65535 for a 16-bit frame length, MTU + 14 for a VM NIC)',
  },
  { name: 'mtu', type: 'number', arg: 'BYTES', help: 'network MTU (default 1500, 68..65535)' },
  {
    name: 'threshold',
    type: 'number',
    arg: 'BYTES',
    help: 'send an aggregate once larger than this (default max-aggregate − mtu;\n0 = every segment alone: output = input)',
  },
  { name: 'aggregate-timeout-us', type: 'number', arg: 'US', help: 'AgTimer: longest an aggregate waits, capture time (default 1000)' },
  { name: 'idle-timeout-ms', type: 'number', arg: 'MS', help: 'DelTimer: idle time before a connection is forgotten (default 10000)' },
  { name: 'no-verify-checksums', type: 'boolean', help: 'aggregate segments without verifying their TCP checksums' },
  { name: 'no-fix-checksums', type: 'boolean', help: "copy the first segment's checksums into aggregates (host verifies)" },
  { name: 'engine', type: 'string', arg: 'wasm|ts', help: "'wasm' (default, the WebAssembly core) or 'ts' (the pure-TS twin)" },
  { name: 'hash-seed', type: 'number', arg: 'U32', help: 'flow-table hash seed (default random; never changes the output)' },
];

/** Option name → flag, to turn resolveOptions' RangeErrors into messages about flags. */
const FLAG_OF: Record<string, string> = {
  preset: '--preset',
  maxFlows: '--max-flows',
  maxPending: '--max-pending',
  ringBytes: '--ring-bytes',
  maxAggregate: '--max-aggregate',
  maxFrame: '--max-frame',
  mtu: '--mtu',
  threshold: '--threshold',
  aggregateTimeoutUs: '--aggregate-timeout-us',
  idleTimeoutMs: '--idle-timeout-ms',
  verifyChecksums: '--no-verify-checksums',
  fixChecksums: '--no-fix-checksums',
  engine: '--engine',
  hashSeed: '--hash-seed',
};

/** Engine options from parsed flags, validated now (a bad value is a UsageError naming the flag). */
export function engineOptionsFromFlags(cmd: string, parsed: Parsed): EngineOptions {
  const f = parsed.flags;
  const opts: EngineOptions = {};
  const num = (flag: string): number | undefined => f.get(flag) as number | undefined;
  if (f.has('preset')) opts.preset = f.get('preset') as EngineOptions['preset'];
  if (f.has('engine')) opts.engine = f.get('engine') as EngineOptions['engine'];
  opts.maxFlows = num('max-flows');
  opts.maxPending = num('max-pending');
  opts.ringBytes = num('ring-bytes');
  opts.maxAggregate = num('max-aggregate');
  opts.maxFrame = num('max-frame');
  opts.mtu = num('mtu');
  opts.threshold = num('threshold');
  opts.aggregateTimeoutUs = num('aggregate-timeout-us');
  opts.idleTimeoutMs = num('idle-timeout-ms');
  opts.hashSeed = num('hash-seed');
  if (f.get('no-verify-checksums')) opts.verifyChecksums = false;
  if (f.get('no-fix-checksums')) opts.fixChecksums = false;
  for (const k of Object.keys(opts) as (keyof EngineOptions)[]) if (opts[k] === undefined) delete opts[k];
  try {
    resolveOptions(opts);
  } catch (err) {
    if (err instanceof RangeError) throw flagError(cmd, err);
    throw err;
  }
  return opts;
}

/** An engine's RangeError about an option, as a usage error about its flag. */
export function flagError(cmd: string, err: RangeError): UsageError {
  const msg = err.message
    .replace(/option (\w+)/g, (all, name: string) => FLAG_OF[name] ?? all)
    .replace(/\b(maxFlows|maxPending|maxAggregate|ringBytes)\b/g, (name: string) => FLAG_OF[name]);
  return new UsageError(`lro ${cmd}: ${msg}`);
}

/**
 * createEngine for a command: options that cannot be met (memory) become a usage error naming
 * the flags, a missing core a one-line file error.
 */
export function engineFactory(command: string): (options: EngineOptions) => Promise<Engine> {
  return async (options) => {
    try {
      // Loaded here, not at start-up: `lro --help` and `lro inspect` need no engine.
      const { createEngine } = await import('../engine/create.js');
      return await createEngine(options);
    } catch (err) {
      if (err instanceof RangeError) throw flagError(command, err);
      const e = err as NodeJS.ErrnoException;
      if (e && e.code === 'ENOENT') {
        throw new FileError('cannot load the WebAssembly core build/lro.wasm (run `npm run build`, or use --engine ts)');
      }
      throw err;
    }
  };
}
