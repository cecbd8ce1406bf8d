// The frame kit (packet/): frame builder and tiny parser for tests, the fuzzer and the traffic generator.
//
// This file is deliberately plain: tests use it as a judge that is independent of the engine, so
// every field is written and read one at a time, in header order, with no shared tricks.
//
// Builders:  tcpFrame, udpFrame, arpFrame (+ tcpTimestampOption, ipv6FragmentHeader helpers).
// Parser:    parseFrame → ParsedFrame | null, flowKey.
// Checksums: internetChecksum (RFC 1071 ones-complement sum, NOT inverted).
// Payloads:  a numeric `payload` is filled with the stream pattern: the byte carried at TCP sequence
//            number s is payloadByte(s) (a fixed function of s mod 65536, so it is consistent across
//            the 2^32 wrap). payloadMatches / expectedPayload let a validator check any segment.
//
// Link layers (pcap LINKTYPE): 1 Ethernet (14-byte header), 113 Linux SLL (16), 276 Linux SLL2 (20),
// 101 raw IP (none). VLAN tags follow the link header's protocol field on Ethernet, SLL and SLL2
// alike: [TPID][TCI][TPID][TCI]…[ethertype]; raw IP cannot carry tags.

export * from './constants.js';
export * from './checksum.js';
export * from './payload.js';
export * from './address.js';
export * from './build.js';
export * from './dissect.js';
