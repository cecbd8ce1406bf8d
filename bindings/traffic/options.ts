// The generator's options and defaults, apart from the generator: `lro --help` quotes the
// defaults without loading the frame kit.
import type { LinkType } from '../packet/constants.js';

export interface GenerateOptions {
  /** Default 1. */
  seed?: number;
  /** Total frames to emit, default 100_000. */
  packets?: number;
  /** Concurrent bulk TCP flows, default 8. */
  flows?: number;
  /** Payload bytes per full segment (IPv6 flows: mss − 20), default 1448. */
  mss?: number;
  /** Each frame takes bytes × 8 / rate on the wire, default 10. */
  lineRateGbps?: number;
  /** How flows share the wire, default 'random' (seeded). */
  interleave?: 'round-robin' | 'random';
  /** Reverse-direction pure ACK every N received data segments per flow, default 2 (0 = none). */
  ackEvery?: number;
  /** Per data segment probabilities, default 0. loss < 1. */
  loss?: number;
  reorder?: number;
  duplicate?: number;
  /** PSH on every N-th data segment (0 = never, default 0). */
  pshEvery?: number;
  /** TCP timestamp option on every segment, default true. */
  timestamps?: boolean;
  /** Share of flows that are IPv6, default 0. */
  ipv6?: number;
  /** VLAN id on every frame, default null. */
  vlan?: number | null;
  /** Share of frames that are noise (see the header comment), default 0. */
  noise?: number;
  /** Payload length range [lo, hi] (1 ≤ lo ≤ hi) instead of mss, default null. */
  smallSegments?: [number, number] | null;
  /** SYN / SYN-ACK / ACK at the start and FIN at the end of each flow, default true. */
  handshake?: boolean;
  /** Time of the first frame in µs, default 1_700_000_000_000_000. */
  startTimeUs?: number;
  /** Default 1 (Ethernet). */
  linkType?: LinkType;
  /** Sequence number of each flow's first data byte (u32), default null = seeded random per flow. */
  seqStart?: number | null;
  /** About this many data segments per flow before it closes and is replaced; 0 (default) = whole run. */
  flowSegments?: number;
}

export const GENERATE_DEFAULTS: Readonly<Required<GenerateOptions>> = Object.freeze({
  seed: 1,
  packets: 100_000,
  flows: 8,
  mss: 1448,
  lineRateGbps: 10,
  interleave: 'random',
  ackEvery: 2,
  loss: 0,
  reorder: 0,
  duplicate: 0,
  pshEvery: 0,
  timestamps: true,
  ipv6: 0,
  vlan: null,
  noise: 0,
  smallSegments: null,
  handshake: true,
  startTimeUs: 1_700_000_000_000_000,
  linkType: 1,
  seqStart: null,
  flowSegments: 0,
});
