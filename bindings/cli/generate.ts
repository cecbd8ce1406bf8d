// `lro generate -o FILE`: seeded synthetic traffic (bindings/generate.ts) written as pcap or
// pcapng. The capture writer copies headers from a reader, so this has its own few lines of
// header encoding and reuses the capture module's record encoders and atomic output file.

import { OutputFile, yieldToSignals } from '../capture/output.js';
import { writePcapRecord, pcapTime } from '../capture/pcap.js';
import { writePacketBlock } from '../capture/pcapng-encode.js';
import { BT_EPB } from '../capture/pcapng.js';
import { TsClock } from '../capture/timestamp.js';
import { GENERATE_DEFAULTS, generateTraffic, resolveGenerateOptions, type GenerateOptions } from '../generate.js';
import type { LinkType } from '../frames.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';

export const GENERATE_FLAGS: FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', arg: 'FILE', help: 'capture file to write (required)' },
  { name: 'format', type: 'string', arg: 'pcap|pcapng', help: 'file format (default: pcapng if FILE ends in .pcapng, else pcap)' },
  { name: 'packets', type: 'number', arg: 'N', help: `frames to write, exactly (default ${GENERATE_DEFAULTS.packets})` },
  { name: 'flows', type: 'number', arg: 'N', help: `concurrent bulk TCP flows (default ${GENERATE_DEFAULTS.flows})` },
  { name: 'seed', type: 'number', arg: 'N', help: `PRNG seed: same seed, same bytes (default ${GENERATE_DEFAULTS.seed})` },
  { name: 'mss', type: 'number', arg: 'BYTES', help: `payload of a full IPv4 segment (default ${GENERATE_DEFAULTS.mss}; IPv6: mss − 20)` },
  { name: 'line-rate', type: 'number', arg: 'GBPS', help: `wire rate that spaces the timestamps (default ${GENERATE_DEFAULTS.lineRateGbps})` },
  { name: 'interleave', type: 'string', arg: 'random|round-robin', help: 'how flows share the wire (default random)' },
  { name: 'ack-every', type: 'number', arg: 'N', help: `receiver's pure ACK every N data segments (default ${GENERATE_DEFAULTS.ackEvery}; 0 = none)` },
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
  { name: 'link-type', type: 'number', arg: 'N', help: '1 Ethernet (default), 113 Linux SLL, 276 Linux SLL2,\n101 (or 12, 14) raw IP, 228 raw IPv4 (no IPv6), 229 raw IPv6 (--ipv6 1)' },
  { name: 'resolution', type: 'string', arg: 'us|ns', help: 'timestamp resolution (default us)' },
  { name: 'big-endian', type: 'boolean', help: 'write a big-endian file (default little-endian)' },
  { name: 'snaplen', type: 'number', arg: 'BYTES', help: 'snap length in the header (default 262144)' },
  { name: 'packet-comments', type: 'boolean', help: 'pcapng: an opt_comment on every packet block (to test option pass-through)' },
  { name: 'json', type: 'boolean', help: 'print one JSON object instead of a line' },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing on success' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

export interface WriteOptions {
  format: 'pcap' | 'pcapng';
  /** Link type written in the header (raw 228/229/12/14 are generated as 101). */
  linkType: number;
  ns: boolean;
  bigEndian: boolean;
  snaplen: number;
  packetComments: boolean;
}

export interface GenerateResult {
  output: string;
  packets: number;
  bytes: number;
  format: 'pcap' | 'pcapng';
  linkType: number;
}

const FLAG_OF: Record<string, string> = {
  seed: '--seed', packets: '--packets', flows: '--flows', mss: '--mss', lineRateGbps: '--line-rate',
  interleave: '--interleave', ackEvery: '--ack-every', loss: '--loss', reorder: '--reorder',
  duplicate: '--duplicate', pshEvery: '--psh-every', ipv6: '--ipv6', vlan: '--vlan', noise: '--noise',
  'smallSegments[0]': '--small-segments', 'smallSegments[1]': '--small-segments', linkType: '--link-type',
  startTimeUs: '--start-time-us', seqStart: '--seq-start', flowSegments: '--flow-segments',
};

/** Generator options and file options from parsed flags (UsageError on bad values). */
export function generateOptionsFromFlags(parsed: Parsed): { gen: GenerateOptions; file: WriteOptions; output: string } {
  const f = parsed.flags;
  const output = f.get('output') as string | undefined;
  if (!output) throw new UsageError('lro generate: -o FILE is required (see lro generate --help)');
  if (output === '-') throw new UsageError('lro generate: standard output is not supported: name a file');
  if (parsed.positionals.length) throw new UsageError(`lro generate: unexpected argument '${parsed.positionals[0]}'`);
  const num = (k: string) => f.get(k) as number | undefined;
  const fileLink = num('link-type') ?? 1;
  if (![1, 113, 276, 101, 228, 229, 12, 14].includes(fileLink)) {
    throw new UsageError(`lro generate: --link-type must be one of 1, 113, 276, 101, 228, 229, 12, 14, got ${fileLink}`);
  }
  const genLink = (fileLink === 1 || fileLink === 113 || fileLink === 276 ? fileLink : 101) as LinkType;
  let small: [number, number] | undefined;
  const ss = f.get('small-segments') as string | undefined;
  if (ss !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(ss.trim());
    if (!m) throw new UsageError(`lro generate: --small-segments must be A-B (payload bytes), got '${ss}'`);
    small = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  const interleave = f.get('interleave') as string | undefined;
  if (interleave !== undefined && interleave !== 'random' && interleave !== 'round-robin') {
    throw new UsageError(`lro generate: --interleave must be random or round-robin, got '${interleave}'`);
  }
  const gen: GenerateOptions = {
    seed: num('seed'),
    packets: num('packets'),
    flows: num('flows'),
    mss: num('mss'),
    lineRateGbps: num('line-rate'),
    interleave: interleave as GenerateOptions['interleave'],
    ackEvery: num('ack-every'),
    loss: num('loss'),
    reorder: num('reorder'),
    duplicate: num('duplicate'),
    pshEvery: num('psh-every'),
    timestamps: f.get('no-timestamps') ? false : undefined,
    ipv6: num('ipv6'),
    vlan: num('vlan'),
    noise: num('noise'),
    smallSegments: small,
    handshake: f.get('no-handshake') ? false : undefined,
    flowSegments: num('flow-segments'),
    seqStart: num('seq-start'),
    startTimeUs: num('start-time-us'),
    linkType: genLink,
  };
  for (const k of Object.keys(gen) as (keyof GenerateOptions)[]) if (gen[k] === undefined) delete gen[k];
  let resolved: Required<GenerateOptions>;
  try {
    resolved = resolveGenerateOptions(gen);
  } catch (err) {
    if (err instanceof RangeError) {
      let msg = err.message.replace(/^generateTraffic: /, '');
      msg = msg.replace(/^(bad )?([\w[\]]+)/, (all, bad: string | undefined, name: string) => (FLAG_OF[name] ? `${bad ?? ''}${FLAG_OF[name]}` : all));
      if (/raw IP .* VLAN/.test(msg)) msg = '--vlan needs an Ethernet --link-type';
      throw new UsageError(`lro generate: ${msg}`);
    }
    throw err;
  }
  if (fileLink === 228 && resolved.ipv6 !== 0) throw new UsageError('lro generate: --link-type 228 (raw IPv4) cannot carry IPv6 (--ipv6 must be 0)');
  if (fileLink === 229 && resolved.ipv6 !== 1) throw new UsageError('lro generate: --link-type 229 (raw IPv6) needs --ipv6 1');
  const formatFlag = f.get('format') as string | undefined;
  if (formatFlag !== undefined && formatFlag !== 'pcap' && formatFlag !== 'pcapng') {
    throw new UsageError(`lro generate: --format must be pcap or pcapng, got '${formatFlag}'`);
  }
  const format = (formatFlag ?? (/\.pcapng$/i.test(output) ? 'pcapng' : 'pcap')) as 'pcap' | 'pcapng';
  const res = f.get('resolution') as string | undefined;
  if (res !== undefined && res !== 'us' && res !== 'ns') throw new UsageError(`lro generate: --resolution must be us or ns, got '${res}'`);
  const snaplen = num('snaplen') ?? 262144;
  if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0xffffffff) throw new UsageError(`lro generate: --snaplen must be an integer in [0, 4294967295], got ${snaplen}`);
  if (f.get('packet-comments') && format !== 'pcapng') throw new UsageError('lro generate: --packet-comments needs --format pcapng');
  return {
    gen,
    output,
    file: { format, linkType: fileLink, ns: res === 'ns', bigEndian: f.get('big-endian') === true, snaplen, packetComments: f.get('packet-comments') === true },
  };
}

/** Write generated traffic to `path` (atomically). Throws CaptureError when not writable. */
/** Packets written between two chances for Ctrl-C to clean up (capture/output.ts). */
const YIELD_EVERY = 16384;

export async function writeGenerated(path: string, gen: GenerateOptions, file: WriteOptions): Promise<GenerateResult> {
  const out = new OutputFile(path);
  try {
    const le = !file.bigEndian;
    let packets = 0;
    let bytes = 0;
    if (file.format === 'pcap') {
      const h = new DataView(new ArrayBuffer(24));
      h.setUint32(0, file.ns ? 0xa1b23c4d : 0xa1b2c3d4, le);
      h.setUint16(4, 2, le);
      h.setUint16(6, 4, le);
      h.setUint32(16, file.snaplen, le);
      h.setUint32(20, file.linkType, le);
      out.put(new Uint8Array(h.buffer));
      for (const fr of generateTraffic(gen)) {
        const t = pcapTime(fr.timeUs, file.ns);
        writePcapRecord(out, le, t.sec, t.frac, fr.data.length, fr.data);
        packets++;
        bytes += fr.data.length;
        if (packets % YIELD_EVERY === 0) await yieldToSignals();
      }
    } else {
      out.put(shb(le));
      out.put(idb(le, file.linkType, file.snaplen, file.ns));
      const clock = new TsClock(file.ns ? 9 : 6, 0);
      const enc = new TextEncoder();
      for (const fr of generateTraffic(gen)) {
        clock.fromUs(fr.timeUs);
        const tail = file.packetComments ? commentTail(fr.data.length, enc.encode(`generated frame ${packets + 1}`), le) : null;
        writePacketBlock(out, le, BT_EPB, 0, 0, clock.hi, clock.lo, fr.data.length, fr.data, tail);
        packets++;
        bytes += fr.data.length;
        if (packets % YIELD_EVERY === 0) await yieldToSignals();
      }
    }
    out.commit();
    return { output: path, packets, bytes, format: file.format, linkType: file.linkType };
  } catch (err) {
    out.abort();
    throw err;
  }
}

function shb(le: boolean): Uint8Array {
  const v = new DataView(new ArrayBuffer(28));
  v.setUint32(0, 0x0a0d0d0a, le);
  v.setUint32(4, 28, le);
  v.setUint32(8, 0x1a2b3c4d, le);
  v.setUint16(12, 1, le);
  v.setUint16(14, 0, le);
  v.setInt32(16, -1, le);
  v.setInt32(20, -1, le);
  v.setUint32(24, 28, le);
  return new Uint8Array(v.buffer);
}

function idb(le: boolean, linkType: number, snaplen: number, ns: boolean): Uint8Array {
  const name = new TextEncoder().encode('lro-generate');
  const namePadded = (name.length + 3) & ~3;
  const opts = 4 + namePadded + (ns ? 8 : 0) + 4;
  const len = 16 + opts + 4;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, 1, le);
  v.setUint32(4, len, le);
  v.setUint16(8, linkType, le);
  v.setUint32(12, snaplen, le);
  let p = 16;
  v.setUint16(p, 2, le); // if_name
  v.setUint16(p + 2, name.length, le);
  b.set(name, p + 4);
  p += 4 + namePadded;
  if (ns) {
    v.setUint16(p, 9, le); // if_tsresol
    v.setUint16(p + 2, 1, le);
    b[p + 4] = 9;
    p += 8;
  }
  p += 4; // opt_endofopt
  v.setUint32(len - 4, len, le);
  return b;
}

/** EPB tail: padding of the packet data, one opt_comment, opt_endofopt. */
function commentTail(dataLen: number, text: Uint8Array, le: boolean): Uint8Array {
  const pad = (4 - (dataLen & 3)) & 3;
  const textPadded = (text.length + 3) & ~3;
  const b = new Uint8Array(pad + 4 + textPadded + 4);
  const v = new DataView(b.buffer);
  v.setUint16(pad, 1, le);
  v.setUint16(pad + 2, text.length, le);
  b.set(text, pad + 4);
  return b;
}
