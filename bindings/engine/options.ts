// Option defaults and validation (docs/CONTRACT.md "Options"). Out of range → RangeError naming the option.
import { LINK_ETHERNET, LINK_RAW, LINK_SLL, LINK_SLL2 } from '../abi.js';
import type { EngineOptions, ResolvedOptions } from './types.js';

/** Link types the engine parses itself. */
export const ENGINE_LINK_TYPES = [LINK_ETHERNET, LINK_RAW, LINK_SLL, LINK_SLL2];
/** Other names of raw IP (pcap LINKTYPE_IPV4 228, LINKTYPE_IPV6 229, DLT_RAW 12 and 14): taken as LINK_RAW. */
const RAW_ALIASES = [228, 229, 12, 14];

/**
 * The staging ring's default size (assembly/ring.ts): pending aggregates' segments stay there
 * until sent, so it bounds the traffic held at once. 16 MiB holds the 1 ms AgTimer's worth of
 * full-size frames at 100 Gbit/s (≈ 12.5 MB).
 */
export const DEFAULT_RING_BYTES = 16 * 2 ** 20;
/** The smallest ring: its account's margin (abi.ts RING_MARGIN) and room for a few of the largest staged frames. */
export const MIN_RING_BYTES = 2 ** 20;
/** The largest ring: offsets stay 31-bit (the core's u32 arithmetic never wraps). */
export const MAX_RING_BYTES = 2 ** 31;

const U32_LIMIT = 2 ** 32;
const MAX_FLOWS = 2 ** 24;

/** A value as a message shows it: a number as itself, a string quoted and named ('10' (a string)), an object by its kind. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `'${value}' (a string)`;
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    default:
      return String(value); // number, boolean, undefined
  }
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`option ${name} must be an integer in [${min}, ${max}], got ${describeValue(value)}`);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const got = typeof value === 'string' ? value : describeValue(value);
    throw new RangeError(`option ${name} must be one of ${allowed.join(', ')}, got ${got}`);
  }
  return value as T;
}

function flag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new RangeError(`option ${name} must be a boolean, got ${describeValue(value)}`);
  return value;
}

function linkTypeOption(value: unknown): number {
  if (RAW_ALIASES.includes(value as number)) return LINK_RAW;
  if (!ENGINE_LINK_TYPES.includes(value as number)) {
    throw new RangeError(
      `option linkType must be one of ${[...ENGINE_LINK_TYPES, ...RAW_ALIASES].join(', ')}, got ${describeValue(value)}`,
    );
  }
  return value as number;
}

/** maxFrame: 0 (no limit beyond maxAggregate) or an integer in [mtu, 2^32). */
function maxFrameOption(value: unknown, mtu: number): number {
  if (value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < mtu || value > U32_LIMIT - 1) {
    throw new RangeError(`option maxFrame must be 0 (no limit) or an integer in [${mtu}, ${U32_LIMIT - 1}], got ${describeValue(value)}`);
  }
  return value;
}

const KNOWN = new Set([
  'engine',
  'preset',
  'maxFlows',
  'maxPending',
  'maxAggregate',
  'ringBytes',
  'maxFrame',
  'mtu',
  'threshold',
  'aggregateTimeoutUs',
  'idleTimeoutMs',
  'verifyChecksums',
  'fixChecksums',
  'hashSeed',
  'linkType',
]);

/** Fill defaults and validate every option. Not an object (null, a number, an array) → TypeError. */
export function resolveOptions(options: EngineOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && (options as Record<string, unknown>)[key] !== undefined) {
      throw new RangeError(`unknown option ${key}`);
    }
  }
  const mtu = integerIn('mtu', options.mtu ?? 1500, 68, 65535);
  const maxAggregate = integerIn('maxAggregate', options.maxAggregate ?? 65535, mtu, 65535);
  const maxFlows = integerIn('maxFlows', options.maxFlows ?? 1024, 1, MAX_FLOWS);
  return {
    engine: oneOf('engine', options.engine ?? 'wasm', ['wasm', 'ts'] as const),
    preset: oneOf('preset', options.preset ?? 'gro', ['gro', 'seed', 'throughput'] as const),
    maxFlows,
    maxPending: integerIn('maxPending', options.maxPending ?? maxFlows, 1, maxFlows),
    maxAggregate,
    ringBytes: integerIn('ringBytes', options.ringBytes ?? DEFAULT_RING_BYTES, MIN_RING_BYTES, MAX_RING_BYTES),
    maxFrame: maxFrameOption(options.maxFrame ?? 0, mtu),
    mtu,
    threshold: integerIn('threshold', options.threshold ?? maxAggregate - mtu, 0, maxAggregate),
    aggregateTimeoutUs: integerIn('aggregateTimeoutUs', options.aggregateTimeoutUs ?? 1000, 1, U32_LIMIT - 1),
    idleTimeoutMs: integerIn('idleTimeoutMs', options.idleTimeoutMs ?? 10000, 1, U32_LIMIT - 1),
    verifyChecksums: flag('verifyChecksums', options.verifyChecksums ?? true),
    fixChecksums: flag('fixChecksums', options.fixChecksums ?? true),
    hashSeed: integerIn('hashSeed', options.hashSeed ?? Math.floor(Math.random() * U32_LIMIT), 0, U32_LIMIT - 1),
    linkType: linkTypeOption(options.linkType ?? LINK_ETHERNET),
  };
}

/**
 * The RangeError for an engine that does not fit in memory (`bytes` needed, `why` not). It names
 * the options that size it: the ring (ringBytes) and the flow table (maxFlows).
 */
export function tooLarge(o: ResolvedOptions, bytes: number, why: string): RangeError {
  const lower = o.ringBytes >= bytes / 2 ? 'lower ringBytes' : 'lower maxFlows or ringBytes';
  return new RangeError(
    `option ringBytes: a ring of ${o.ringBytes} bytes and maxFlows ${o.maxFlows} (maxPending ${o.maxPending}) ` +
      `need ${(bytes / 2 ** 30).toFixed(2)} GiB: ${why}; ${lower}`,
  );
}
