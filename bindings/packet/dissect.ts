// A tiny frame parser for tests, the fuzzer and `lro inspect`: parseFrame → ParsedFrame | null, flowKey.
import { formatIp } from './address.js';
import { get16, get32 } from './bytes.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';
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
} from './constants.js';

export interface ParsedTcp {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** Flags byte, plus the data-offset byte's low nibble as bits 8-11 (0x100 AE, formerly NS; 0xe00 reserved). */
  flags: number;
  window: number;
  urgent: number;
  headerLength: number;
  options: Uint8Array;
  /** View into the frame: the bytes after the TCP header up to the IP length (padding excluded). */
  payload: Uint8Array;
  checksum: number;
}

export interface ParsedUdp {
  sport: number;
  dport: number;
  length: number;
  payload: Uint8Array;
  checksum: number;
}

export interface ParsedFrame {
  linkType: number;
  /** Offset of the IP (or ARP …) header in the frame. */
  l3Offset: number;
  /** Final protocol type of the link layer after VLAN tags (0x0800, 0x86dd, 0x0806 …). */
  etherType: number;
  ipVersion: 4 | 6 | 0;
  /** IPv4: IHL × 4. IPv6: 40 + all extension headers (i.e. the offset from l3Offset to L4). */
  ipHeaderLength: number;
  /** IPv4 total length, or IPv6 payload length. 0 for non-IP. */
  ipLength: number;
  /** Address text (formatIp); '' for non-IP. */
  src: string;
  dst: string;
  /** VLAN id (TCI & 0xfff) of the outermost tag, or null. */
  vlan: number | null;
  /** VLAN ids of all tags, outermost first. */
  vlans: number[];
  /** IPv4 protocol, or the IPv6 next header after the extension headers we walk (0, 43, 44, 51, 60). */
  protocol: number;
  /** TTL / hop limit. */
  ttl: number;
  /** TOS / traffic class. */
  tos: number;
  /** IPv4 identification (0 for IPv6). */
  ipId: number;
  /** IPv4 DF (false for IPv6). */
  df: boolean;
  /** IPv6 flow label (0 for IPv4). */
  flowLabel: number;
  /** IPv4 MF / offset, or the IPv6 fragment header's; null if neither (an IPv6 atomic fragment header gives {mf:false, offset:0}). */
  fragment: { mf: boolean; offset: number } | null;
  /** Offset of the L4 header in the frame (l3Offset + ipHeaderLength); -1 for non-IP. */
  l4Offset: number;
  /** Present when protocol is TCP, this is not a non-first fragment, and the TCP header fits. */
  tcp?: ParsedTcp;
  udp?: ParsedUdp;
  /** IPv4 header checksum verifies; true for IPv6 (no header checksum); false for non-IP. */
  ipChecksumOk: boolean;
  /** TCP checksum (pseudo-header + segment) verifies; false when there is no parsed TCP header. */
  tcpChecksumOk: boolean;
}

/**
 * Parse a frame. Returns null when the link header is truncated, the link type is unknown, or the
 * frame says IP but the IP header / IP length does not fit (truncated or malformed).
 * Non-IP frames (ARP …) give ipVersion 0.
 */
export function parseFrame(frame: Uint8Array, linkType: number = LINKTYPE_ETHERNET): ParsedFrame | null {
  const len = frame.length;
  let off: number;
  let etherType: number;
  const vlans: number[] = [];
  if (linkType === LINKTYPE_RAW) {
    if (len < 1) return null;
    const v = frame[0] >> 4;
    if (v === 4) etherType = ETHERTYPE_IPV4;
    else if (v === 6) etherType = ETHERTYPE_IPV6;
    else return null;
    off = 0;
  } else {
    if (linkType === LINKTYPE_ETHERNET) {
      if (len < 14) return null;
      etherType = get16(frame, 12);
      off = 14;
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      if (len < 16) return null;
      etherType = get16(frame, 14);
      off = 16;
    } else if (linkType === LINKTYPE_LINUX_SLL2) {
      if (len < 20) return null;
      etherType = get16(frame, 0);
      off = 20;
    } else {
      return null;
    }
    while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === 0x9100) {
      if (len < off + 4) return null;
      vlans.push(get16(frame, off) & 0x0fff);
      etherType = get16(frame, off + 2);
      off += 4;
    }
  }

  const result: ParsedFrame = {
    linkType,
    l3Offset: off,
    etherType,
    ipVersion: 0,
    ipHeaderLength: 0,
    ipLength: 0,
    src: '',
    dst: '',
    vlan: vlans.length > 0 ? vlans[0] : null,
    vlans,
    protocol: 0,
    ttl: 0,
    tos: 0,
    ipId: 0,
    df: false,
    flowLabel: 0,
    fragment: null,
    l4Offset: -1,
    ipChecksumOk: false,
    tcpChecksumOk: false,
  };

  let l4: number; // L4 start
  let end: number; // end of the IP packet
  let src: Uint8Array;
  let dst: Uint8Array;
  let firstFragment = true;

  if (etherType === ETHERTYPE_IPV4) {
    if (len < off + 20) return null;
    if (frame[off] >> 4 !== 4) return null;
    const ihl = (frame[off] & 0x0f) * 4;
    if (ihl < 20 || len < off + ihl) return null;
    const totalLength = get16(frame, off + 2);
    if (totalLength < ihl || len < off + totalLength) return null;
    const flagsFrag = get16(frame, off + 6);
    const mf = (flagsFrag & 0x2000) !== 0;
    const fragOffset = flagsFrag & 0x1fff;
    src = frame.slice(off + 12, off + 16);
    dst = frame.slice(off + 16, off + 20);
    result.ipVersion = 4;
    result.ipHeaderLength = ihl;
    result.ipLength = totalLength;
    result.tos = frame[off + 1];
    result.ipId = get16(frame, off + 4);
    result.df = (flagsFrag & 0x4000) !== 0;
    result.fragment = mf || fragOffset !== 0 ? { mf, offset: fragOffset } : null;
    result.ttl = frame[off + 8];
    result.protocol = frame[off + 9];
    result.ipChecksumOk = internetChecksum(frame, off, off + ihl) === 0xffff;
    firstFragment = fragOffset === 0;
    l4 = off + ihl;
    end = off + totalLength;
  } else if (etherType === ETHERTYPE_IPV6) {
    if (len < off + 40) return null;
    if (frame[off] >> 4 !== 6) return null;
    const payloadLength = get16(frame, off + 4);
    end = off + 40 + payloadLength;
    if (len < end) return null;
    src = frame.slice(off + 8, off + 24);
    dst = frame.slice(off + 24, off + 40);
    result.ipVersion = 6;
    result.ipLength = payloadLength;
    result.tos = (get16(frame, off) >> 4) & 0xff;
    result.flowLabel = get32(frame, off) & 0xfffff;
    result.ttl = frame[off + 7];
    result.ipChecksumOk = true;
    let next = frame[off + 6];
    let p = off + 40;
    while (next === 0 || next === 43 || next === 44 || next === 51 || next === 60) {
      if (p + 8 > end) return null;
      let hdrLen: number;
      if (next === 44) {
        hdrLen = 8;
        const fo = get16(frame, p + 2);
        result.fragment = { mf: (fo & 1) !== 0, offset: fo >> 3 };
        if (fo >> 3 !== 0) firstFragment = false;
      } else if (next === 51) {
        hdrLen = (frame[p + 1] + 2) * 4;
      } else {
        hdrLen = (frame[p + 1] + 1) * 8;
      }
      if (p + hdrLen > end) return null;
      next = frame[p];
      p += hdrLen;
    }
    result.protocol = next;
    result.ipHeaderLength = p - off;
    l4 = p;
  } else {
    return result; // not IP
  }

  result.src = formatIp(src);
  result.dst = formatIp(dst);
  result.l4Offset = l4;
  const l4Length = end - l4;

  if (result.protocol === IPPROTO_TCP && firstFragment && l4Length >= 20) {
    const headerLength = (frame[l4 + 12] >> 4) * 4;
    if (headerLength >= 20 && headerLength <= l4Length) {
      result.tcp = {
        sport: get16(frame, l4),
        dport: get16(frame, l4 + 2),
        seq: get32(frame, l4 + 4),
        ack: get32(frame, l4 + 8),
        flags: ((frame[l4 + 12] & 0x0f) << 8) | frame[l4 + 13],
        window: get16(frame, l4 + 14),
        checksum: get16(frame, l4 + 16),
        urgent: get16(frame, l4 + 18),
        headerLength,
        options: frame.subarray(l4 + 20, l4 + headerLength),
        payload: frame.subarray(l4 + headerLength, end),
      };
      const ph = pseudoHeaderSum(src, dst, IPPROTO_TCP, l4Length);
      result.tcpChecksumOk = internetChecksum(frame, l4, end, ph) === 0xffff;
    }
  } else if (result.protocol === IPPROTO_UDP && firstFragment && l4Length >= 8) {
    const udpLength = get16(frame, l4 + 4);
    result.udp = {
      sport: get16(frame, l4),
      dport: get16(frame, l4 + 2),
      length: udpLength,
      checksum: get16(frame, l4 + 6),
      payload: frame.subarray(l4 + 8, l4 + Math.max(8, Math.min(udpLength, l4Length))),
    };
  }
  return result;
}

/**
 * Direction-sensitive connection key of a parsed frame:
 * "ipVersion|src|sport|dst|dport|vlans", vlans = VLAN ids joined with '.', or '-' when untagged.
 * Ports come from TCP (or UDP); 0 when neither was parsed.
 */
export function flowKey(p: ParsedFrame): string {
  const sport = p.tcp ? p.tcp.sport : p.udp ? p.udp.sport : 0;
  const dport = p.tcp ? p.tcp.dport : p.udp ? p.udp.dport : 0;
  const vlan = p.vlans.length > 0 ? p.vlans.join('.') : '-';
  return `${p.ipVersion}|${p.src}|${sport}|${p.dst}|${dport}|${vlan}`;
}
