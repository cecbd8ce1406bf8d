// Byte comparisons whose failures point at the byte: the first differing offset, the header field
// it falls in (walking the expected frame's headers), and a ±16-byte hex window — never two
// 64 KiB hex strings.
//
// The field walker is deliberately simple and independent of the engine (and of the frame kit's
// parser, which refuses truncated frames): it reads the expected frame's own length and type
// fields one at a time and names what sits at each offset. Nothing here depends on vitest, so the
// fuzz oracle (run outside vitest too) can use it.
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  IPPROTO_TCP,
  IPPROTO_UDP,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
} from '../../bindings/packet/index.js';
import type { Packet } from '../../bindings/engine/types.js';

export interface ByteDifference {
  /** First offset where the two differ; the shorter length when one is a prefix of the other. */
  offset: number;
  /** The header field at `offset` ("TCP checksum", "TCP payload byte 1447", …). */
  field: string;
  /** The bytes at `offset`; undefined past the end of that side. */
  actual: number | undefined;
  expected: number | undefined;
  lengths: { actual: number; expected: number };
}

/** What a failed byte comparison throws. Its message is the whole report (no diff is attached). */
export class BytesAssertionError extends Error {
  override name = 'AssertionError';

  /** `caller`: the helper that throws; its frames are left off the stack, so the report shows the test's line. */
  constructor(message: string, caller: (...args: never[]) => unknown) {
    super(message);
    Error.captureStackTrace?.(this, caller);
  }
}

// ---------------------------------------------------------------------------------------------
// The field walker

interface Field {
  start: number;
  end: number;
  name: string;
  /** Name the byte within the field too: "TCP payload byte 17". */
  counted?: boolean;
}

const TAG_TPIDS = new Set([ETHERTYPE_VLAN, ETHERTYPE_QINQ, 0x9100]);
const IPV6_EXT_NAMES: Record<number, string> = { 0: 'hop-by-hop', 43: 'routing', 44: 'fragment', 51: 'AH', 60: 'destination options' };
const TCP_OPTION_NAMES: Record<number, string> = { 2: 'MSS', 3: 'window scale', 4: 'SACK permitted', 5: 'SACK', 8: 'timestamp' };

const u16 = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);

/** The fields of `frame`, in order, as its own headers describe them (best effort on bad frames). */
function walk(frame: Uint8Array, linkType: number): Field[] {
  const fields: Field[] = [];
  const add = (start: number, length: number, name: string, counted = false) => fields.push({ start, end: start + length, name, counted });
  const len = frame.length;

  // Link layer: the fields before the protocol type, then the type itself (a TPID when tagged).
  let typeAt: number;
  let off: number;
  let typeName: string;
  if (linkType === LINKTYPE_ETHERNET) {
    add(0, 6, 'Ethernet destination');
    add(6, 6, 'Ethernet source');
    [typeAt, off, typeName] = [12, 14, 'Ethernet type'];
  } else if (linkType === LINKTYPE_LINUX_SLL) {
    add(0, 2, 'SLL packet type');
    add(2, 2, 'SLL ARPHRD type');
    add(4, 2, 'SLL address length');
    add(6, 8, 'SLL address');
    [typeAt, off, typeName] = [14, 16, 'SLL protocol'];
  } else if (linkType === LINKTYPE_LINUX_SLL2) {
    add(2, 2, 'SLL2 reserved');
    add(4, 4, 'SLL2 interface index');
    add(8, 2, 'SLL2 ARPHRD type');
    add(10, 1, 'SLL2 packet type');
    add(11, 1, 'SLL2 address length');
    add(12, 8, 'SLL2 address');
    [typeAt, off, typeName] = [0, 20, 'SLL2 protocol'];
  } else if (linkType === LINKTYPE_RAW) {
    [typeAt, off, typeName] = [-1, 0, ''];
  } else {
    add(0, len, `link type ${linkType} (unknown)`, true);
    return fields;
  }

  let etherType: number;
  if (typeAt < 0) {
    const v = (frame[0] ?? 0) >> 4;
    etherType = v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : -1;
  } else {
    etherType = u16(frame, typeAt);
    let tags = 0;
    while (TAG_TPIDS.has(etherType) && off + 4 <= len) {
      tags++;
      etherType = u16(frame, off + 2);
      off += 4;
    }
    // Name the type fields now that the number of tags is known.
    const tag = (k: number) => (tags > 1 ? `802.1Q tag ${k}` : '802.1Q tag');
    add(typeAt, 2, tags > 0 ? `${tag(1)} TPID (${typeName})` : typeName);
    for (let k = 1; k <= tags; k++) {
      const at = off - 4 * (tags - k + 1);
      add(at, 2, `${tag(k)} TCI`);
      add(at + 2, 2, k < tags ? `${tag(k + 1)} TPID` : 'EtherType after the 802.1Q tags');
    }
  }

  // Network layer.
  let l4: number;
  let ipEnd: number;
  let protocol: number;
  const ip = off;
  if (etherType === ETHERTYPE_IPV4) {
    const ihl = Math.max(20, ((frame[ip] ?? 0x45) & 0x0f) * 4);
    add(ip, 1, 'IPv4 version/IHL');
    add(ip + 1, 1, 'IPv4 TOS');
    add(ip + 2, 2, 'IPv4 total length');
    add(ip + 4, 2, 'IPv4 ID');
    add(ip + 6, 2, 'IPv4 flags/fragment offset');
    add(ip + 8, 1, 'IPv4 TTL');
    add(ip + 9, 1, 'IPv4 protocol');
    add(ip + 10, 2, 'IPv4 header checksum');
    add(ip + 12, 4, 'IPv4 source');
    add(ip + 16, 4, 'IPv4 destination');
    if (ihl > 20) add(ip + 20, ihl - 20, 'IPv4 options', true);
    l4 = ip + ihl;
    ipEnd = ip + Math.max(ihl, u16(frame, ip + 2));
    // A non-first fragment carries no L4 header.
    protocol = (u16(frame, ip + 6) & 0x1fff) === 0 ? (frame[ip + 9] ?? -1) : -1;
  } else if (etherType === ETHERTYPE_IPV6) {
    add(ip, 4, 'IPv6 version/class/flow label');
    add(ip + 4, 2, 'IPv6 payload length');
    add(ip + 6, 1, 'IPv6 next header');
    add(ip + 7, 1, 'IPv6 hop limit');
    add(ip + 8, 16, 'IPv6 source');
    add(ip + 24, 16, 'IPv6 destination');
    ipEnd = ip + 40 + u16(frame, ip + 4);
    protocol = frame[ip + 6] ?? -1;
    let p = ip + 40;
    for (let k = 1; protocol in IPV6_EXT_NAMES && p + 8 <= len; k++) {
      const size = protocol === 44 ? 8 : protocol === 51 ? (frame[p + 1] + 2) * 4 : (frame[p + 1] + 1) * 8;
      add(p, size, `IPv6 extension header ${k} (${IPV6_EXT_NAMES[protocol]})`, true);
      if (protocol === 44 && u16(frame, p + 2) >> 3 !== 0)
        protocol = -1; // non-first fragment
      else protocol = frame[p];
      p += size;
    }
    l4 = p;
  } else {
    const what = etherType < 0 ? 'not IP' : `EtherType 0x${etherType.toString(16).padStart(4, '0')}`;
    add(off, len - off, `network layer (${what})`, true);
    return fields;
  }

  // Transport layer, then the rest of the IP packet, then padding.
  let dataAt = l4;
  if (protocol === IPPROTO_TCP) {
    const doff = Math.max(20, ((frame[l4 + 12] ?? 0x50) >> 4) * 4);
    add(l4, 2, 'TCP source port');
    add(l4 + 2, 2, 'TCP destination port');
    add(l4 + 4, 4, 'TCP sequence number');
    add(l4 + 8, 4, 'TCP ACK number');
    add(l4 + 12, 1, 'TCP data offset');
    add(l4 + 13, 1, 'TCP flags');
    add(l4 + 14, 2, 'TCP window');
    add(l4 + 16, 2, 'TCP checksum');
    add(l4 + 18, 2, 'TCP urgent pointer');
    for (let o = l4 + 20; o < l4 + doff; ) {
      const kind = frame[o] ?? 0;
      const size = kind === 0 ? l4 + doff - o : kind === 1 ? 1 : Math.max(2, frame[o + 1] ?? 2);
      const name =
        kind === 0
          ? 'TCP options (end-of-list padding)'
          : kind === 1
            ? 'TCP option NOP'
            : `TCP option ${TCP_OPTION_NAMES[kind] ?? 'kind'} (${kind})`;
      add(o, Math.min(size, l4 + doff - o), name, size > 1);
      o += size;
    }
    dataAt = l4 + doff;
    add(dataAt, ipEnd - dataAt, 'TCP payload', true);
  } else if (protocol === IPPROTO_UDP) {
    add(l4, 2, 'UDP source port');
    add(l4 + 2, 2, 'UDP destination port');
    add(l4 + 4, 2, 'UDP length');
    add(l4 + 6, 2, 'UDP checksum');
    dataAt = l4 + 8;
    add(dataAt, ipEnd - dataAt, 'UDP payload', true);
  } else {
    add(l4, ipEnd - l4, `IP payload (protocol ${protocol < 0 ? 'fragment' : protocol})`, true);
  }
  add(ipEnd, len - ipEnd, 'padding after the IP packet,', true);
  return fields;
}

/** The header field of `frame` that holds byte `offset`. */
export function fieldAt(frame: Uint8Array, offset: number, linkType: number | null = LINKTYPE_ETHERNET): string {
  if (linkType === null) return `byte ${offset}`;
  // The first field that covers it: a header field, where a bad IP length makes it padding too.
  const hit = walk(frame, linkType).find((f) => f.start <= offset && offset < f.end);
  if (!hit) return `byte ${offset}`;
  return hit.counted ? `${hit.name} byte ${offset - hit.start}` : hit.name;
}

// ---------------------------------------------------------------------------------------------
// Finding and reporting a difference

/**
 * The first byte where `actual` differs from `expected`, or where one ends, or null when they are
 * the same bytes. `field` walks the expected frame (the actual one when the offset is past the
 * expected frame's end). `linkType` null: not a frame, no field names.
 */
export function firstDifference(
  actual: Uint8Array,
  expected: Uint8Array,
  linkType: number | null = LINKTYPE_ETHERNET,
): ByteDifference | null {
  const n = Math.min(actual.length, expected.length);
  let offset = 0;
  while (offset < n && actual[offset] === expected[offset]) offset++;
  if (offset === n && actual.length === expected.length) return null;
  const field =
    offset < expected.length ? fieldAt(expected, offset, linkType) : `${fieldAt(actual, offset, linkType)}, past the expected end`;
  return {
    offset,
    field,
    actual: actual[offset],
    expected: expected[offset],
    lengths: { actual: actual.length, expected: expected.length },
  };
}

const byte = (v: number | undefined) => (v === undefined ? 'none (past its end)' : `0x${v.toString(16).padStart(2, '0')}`);

function window(b: Uint8Array, offset: number): string {
  const from = Math.max(0, offset - 16);
  const to = Math.min(b.length, offset + 17);
  const cells: string[] = [];
  for (let i = from; i < to; i++) {
    const h = b[i].toString(16).padStart(2, '0');
    cells.push(i === offset ? `[${h}]` : h);
  }
  if (offset >= b.length) cells.push('[]');
  return `@${from}: ${cells.join(' ')}`;
}

const differenceHead = (d: ByteDifference) =>
  `first difference at byte ${d.offset} of ${d.lengths.expected}${d.field === `byte ${d.offset}` ? '' : ` (${d.field})`}: ` +
  `actual ${byte(d.actual)}, expected ${byte(d.expected)}`;
const lengthsDiffer = (d: ByteDifference) =>
  d.lengths.actual !== d.lengths.expected ? `lengths differ: actual ${d.lengths.actual} bytes, expected ${d.lengths.expected}` : '';

/** The difference in one line, without the hex window (for messages that must stay one line). */
export function differenceLine(d: ByteDifference): string {
  const lengths = lengthsDiffer(d);
  return `${differenceHead(d)}${lengths ? `; ${lengths}` : ''}`;
}

/** One or two lines naming the difference, then the hex window of both sides. */
export function describeDifference(d: ByteDifference, actual: Uint8Array, expected: Uint8Array, what?: string): string {
  const lengths = lengthsDiffer(d);
  return (
    `${what ? `${what}: ` : ''}${differenceHead(d)}${lengths ? `\n${lengths}` : ''}` +
    `\n  actual   ${window(actual, d.offset)}\n  expected ${window(expected, d.offset)}`
  );
}

/** Throws a BytesAssertionError pointing at the first difference unless the bytes are identical (types aside). */
export function expectSameBytes(
  actual: Uint8Array,
  expected: Uint8Array,
  what?: string,
  linkType: number | null = LINKTYPE_ETHERNET,
): void {
  const d = firstDifference(actual, expected, linkType);
  if (d) throw new BytesAssertionError(describeDifference(d, actual, expected, what), expectSameBytes);
}

/** Counts first, then item by item: `what #i` names the first item whose bytes differ. */
export function expectSameByteLists(
  actual: Uint8Array[],
  expected: Uint8Array[],
  what = 'item',
  linkType: number | null = LINKTYPE_ETHERNET,
): void {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const d = firstDifference(actual[i], expected[i], linkType);
    if (!d) continue;
    const count = actual.length !== expected.length ? `${actual.length} ${what}s, expected ${expected.length}; ` : '';
    throw new BytesAssertionError(describeDifference(d, actual[i], expected[i], `${count}${what} #${i}`), expectSameByteLists);
  }
  if (actual.length !== expected.length) {
    throw new BytesAssertionError(
      `${actual.length} ${what}s, expected ${expected.length}; the first ${n} are the same bytes`,
      expectSameByteLists,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Engine output

const META = [
  'reason',
  'segments',
  'mss',
  'timeUs',
  'checksumsFixed',
  'inputIndex',
  'firstTimeUs',
  'ipVersion',
  'tcpOffset',
  'headerLength',
  'verified',
  'fixedIpId',
] as const;

function describePacket(p: Packet, i: number): string {
  return `packet ${i} (${p.segments > 1 ? `aggregate of ${p.segments} segments` : '1 segment'}, ${p.reason})`;
}

/** The first difference between two packets as a message, or null. Metadata compares like toEqual (Object.is). */
function packetDifference(a: Packet, e: Packet, i: number, linkType: number): string | null {
  const meta = META.filter((k) => !Object.is(a[k], e[k])).map((k) => `${k} ${String(a[k])} vs ${String(e[k])}`);
  const d = firstDifference(a.data, e.data, linkType);
  if (meta.length === 0 && !d) return null;
  const name = describePacket(e, i);
  if (meta.length === 0) return describeDifference(d!, a.data, e.data, name);
  const bytes = d ? `; bytes differ too, first at byte ${d.offset} (${d.field})` : '; same bytes';
  return `${name}: ${meta.join(', ')} (actual vs expected)${bytes}`;
}

/**
 * Engine output against expected packets: the count, then packet by packet the metadata (reason,
 * segments, mss, timeUs, checksumsFixed, inputIndex, firstTimeUs, ipVersion, tcpOffset,
 * headerLength, verified, fixedIpId) and the bytes. Throws a BytesAssertionError naming the
 * first packet that differs.
 */
export function expectSamePackets(actual: Packet[], expected: Packet[], linkType: number = LINKTYPE_ETHERNET, what?: string): void {
  const prefix = what ? `${what}: ` : '';
  const count = actual.length !== expected.length ? `${actual.length} packets, expected ${expected.length}; ` : '';
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const diff = packetDifference(actual[i], expected[i], i, linkType);
    if (diff) throw new BytesAssertionError(`${prefix}${count}${diff}`, expectSamePackets);
  }
  if (count) {
    const extra = actual.length > n ? actual[n] : expected[n];
    throw new BytesAssertionError(
      `${prefix}${count}the first ${n} agree; the first extra is ` +
        `${describePacket(extra, n)} (${actual.length > n ? 'actual' : 'expected'})`,
      expectSamePackets,
    );
  }
}

/**
 * The frames laid out in one view of `buffer` (from its byte 8), `gap(i)` bytes before frame i:
 * what pushFrom takes (the view, each frame's offset in it and its length).
 */
export function framesInBuffer(frames: Uint8Array[], buffer: ArrayBufferLike, gap: (i: number) => number) {
  const view = new Uint8Array(buffer, 8);
  const offsets: number[] = [];
  let at = 0;
  frames.forEach((f, i) => {
    at += gap(i);
    view.set(f, at);
    offsets.push(at);
    at += f.length;
  });
  return { view, offsets, lengths: frames.map((f) => f.length) };
}
