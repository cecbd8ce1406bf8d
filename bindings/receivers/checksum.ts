// TCP/IP checksum pieces the receivers share (RFC 1071 arithmetic from the twin's checksum.ts).
import { fold, sum16 } from '../twin/checksum.js';
import { IPV4_DST, IPV4_SRC, IPV6_DST, IPV6_SRC, PROTO_TCP } from '../twin/headers.js';

/** Folded, uncomplemented sum of the TCP pseudo-header of the IP header at l3 (RFC 793 / RFC 8200 §8.1). */
export function pseudoHeaderSum(data: Uint8Array, l3: number, ipVersion: number, tcpLength: number): number {
  const addresses = ipVersion === 4 ? sum16(data, l3 + IPV4_SRC, l3 + IPV4_DST + 4) : sum16(data, l3 + IPV6_SRC, l3 + IPV6_DST + 16);
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, three zero bytes, next header.
  return fold(addresses + PROTO_TCP + (tcpLength >>> 16) + (tcpLength & 0xffff));
}
