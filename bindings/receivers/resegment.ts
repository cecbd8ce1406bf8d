// resegment (docs/CONTRACT.md §9): cut an aggregate back into the segments it was made of, the way
// Linux GSO cuts a TCP GSO packet (tcp_gso_segment, inet_gso_segment / ipv6_gso_segment).
import { checksumField, fold, sum16 } from '../twin/checksum.js';
import {
  FIN,
  IPV4_CHECKSUM,
  IPV4_ID,
  IPV4_TOTAL_LENGTH,
  IPV4_VERSION_IHL,
  IPV6_HEADER,
  IPV6_PAYLOAD_LENGTH,
  PSH,
  TCP_CHECKSUM,
  TCP_DATA_OFFSET,
  TCP_FLAGS,
  TCP_HEADER,
  TCP_SEQ,
} from '../twin/headers.js';
import { pseudoHeaderSum } from './checksum.js';
import { get16, get32, ipOffset, isTcpAggregate, put16, put32, type ReceiverPacket } from './packet.js';

export type ResegmentPacket = Pick<ReceiverPacket, 'data' | 'segments' | 'mss' | 'ipVersion' | 'tcpOffset' | 'headerLength' | 'fixedIpId'> &
  Partial<Pick<ReceiverPacket, 'checksumsFixed' | 'verified'>>;

/**
 * The segments of an aggregate, as Linux GSO would cut it: the payload in `mss`-byte pieces (the
 * last one shorter), each behind a copy of the aggregate's headers (link layer and VLAN tag
 * included) with the sequence number advanced, the IP length set, the IPv4 ID incremented per
 * segment (the same on every segment when `fixedIpId`), PSH and FIN only on the last segment, CWR
 * on every segment when the aggregate has it (its segments all had it, CONTRACT §4: Linux marks
 * such an aggregate SKB_GSO_TCP_ACCECN, and its GSO keeps CWR on each), IPv6 extension headers
 * copied, and full IPv4 header and TCP checksums. Every segment is a new array.
 *
 * An unverified aggregate (`verified` false: verification off) whose TCP checksum fails carries a
 * corrupted segment's error (CONTRACT §5) and is never laundered: which segment was corrupted
 * cannot be told, so each segment's TCP checksum gets the aggregate's error added and fails too.
 * A verified aggregate's field says nothing here (it may hold toPartialChecksum's partial sum),
 * nor does it with `checksumsFixed` false (the first segment's): full checksums.
 *
 * A packet of one segment (segments ≤ 1) or that is not TCP is returned as `[packet.data]`: the
 * same bytes, not a copy.
 */
export function resegment(packet: ResegmentPacket): Uint8Array[] {
  const { data, mss, ipVersion, tcpOffset, headerLength } = packet;
  if (!isTcpAggregate(packet)) return [data];
  if (!Number.isInteger(mss) || mss < 1) throw new RangeError(`resegment: an aggregate needs an mss ≥ 1, got ${mss}`);
  const l3 = ipOffset(data, ipVersion, tcpOffset);
  const v4 = ipVersion === 4;
  const ipEnd = v4 ? l3 + get16(data, l3 + IPV4_TOTAL_LENGTH) : l3 + IPV6_HEADER + get16(data, l3 + IPV6_PAYLOAD_LENGTH);
  const tcpEnd = tcpOffset + ((data[tcpOffset + TCP_DATA_OFFSET] >>> 4) << 2);
  if (headerLength !== tcpEnd || headerLength < tcpOffset + TCP_HEADER || ipEnd < headerLength || ipEnd > data.length) {
    throw new RangeError(
      `resegment: headerLength ${headerLength} is not where the TCP header ends, or the IP length does not fit the ${data.length}-byte packet`,
    );
  }
  const payload = ipEnd - headerLength;
  const count = Math.max(1, Math.ceil(payload / mss));
  const seq = get32(data, tcpOffset + TCP_SEQ);
  const flags = data[tcpOffset + TCP_FLAGS];
  const id = v4 ? get16(data, l3 + IPV4_ID) : 0;
  // An unverified aggregate's residual: 0xffff when its TCP checksum is right, else the error it carries.
  const residual =
    packet.verified === false && packet.checksumsFixed !== false
      ? fold(pseudoHeaderSum(data, l3, ipVersion, ipEnd - tcpOffset) + sum16(data, tcpOffset, ipEnd))
      : 0xffff;
  const carried = residual !== 0xffff && residual !== 0;
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const start = headerLength + k * mss;
    const end = Math.min(ipEnd, start + mss);
    const seg = new Uint8Array(headerLength + (end - start));
    seg.set(data.subarray(0, headerLength), 0);
    seg.set(data.subarray(start, end), headerLength);
    put32(seg, tcpOffset + TCP_SEQ, (seq + k * mss) >>> 0);
    let f = flags;
    if (k < count - 1) f &= ~(PSH | FIN);
    seg[tcpOffset + TCP_FLAGS] = f;
    if (v4) {
      put16(seg, l3 + IPV4_TOTAL_LENGTH, seg.length - l3);
      put16(seg, l3 + IPV4_ID, packet.fixedIpId ? id : (id + k) & 0xffff);
      put16(seg, l3 + IPV4_CHECKSUM, 0);
      const ihl = (seg[l3 + IPV4_VERSION_IHL] & 0x0f) << 2;
      put16(seg, l3 + IPV4_CHECKSUM, checksumField(sum16(seg, l3, l3 + ihl)));
    } else {
      put16(seg, l3 + IPV6_PAYLOAD_LENGTH, seg.length - l3 - IPV6_HEADER);
    }
    put16(seg, tcpOffset + TCP_CHECKSUM, 0);
    const tcpLength = seg.length - tcpOffset;
    const sum = fold(pseudoHeaderSum(seg, l3, ipVersion, tcpLength) + sum16(seg, tcpOffset, seg.length));
    put16(seg, tcpOffset + TCP_CHECKSUM, carried ? fold(checksumField(sum) + residual) : checksumField(sum));
    out.push(seg);
  }
  return out;
}
