// Header fields of the frames the engine reads and writes (twin of assembly/headers.ts, the same
// names and values; test/headers-parity.test.ts compares them). Offsets are bytes from the start of
// their own header; 16- and 32-bit fields are big-endian.

// ── Link layer ────────────────────────────────────────────────────────────────────────────────
//
// Ethernet II, untagged (14 bytes) or with one 802.1Q / 802.1ad tag (18 bytes):
// ┌──────────┬──────────┬──────────┐       ┌──────────┬──────────┬──────────┬──────────┬──────────┐
// │ 0 dst[6] │ 6 src[6] │ 12 type  │       │ 0 dst[6] │ 6 src[6] │ 12 tag   │ 14 TCI   │ 16 type  │
// └──────────┴──────────┴──────────┘       └──────────┴──────────┴──────────┴──────────┴──────────┘
export const ETH_TYPE = 12; //          EtherType (or the tag's TPID)
export const ETH_HEADER = 14;
export const VLAN_TCI = 14; //          tag control: PCP 3 bits, DEI 1, VLAN id 12
export const VLAN_TYPE = 16; //         EtherType after the tag
export const VLAN_HEADER = 18;
export const VLAN_ID_MASK = 0xfff;

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_VLAN = 0x8100; //      802.1Q tag
export const ETH_QINQ = 0x88a8; //      802.1ad (service) tag

// Linux cooked capture: SLL (16 bytes, protocol at 14) and SLL2 (20 bytes, protocol at 0).
export const SLL_PROTOCOL = 14;
export const SLL_HEADER = 16;
export const SLL2_PROTOCOL = 0;
export const SLL2_HEADER = 20;

// ── IPv4 ──────────────────────────────────────────────────────────────────────────────────────
//
// ┌────────────────┬────────┬─────────────────┬──────────────┬──────────────────────┐
// │ 0 version/IHL  │ 1 TOS  │ 2 total length  │ 4 id         │ 6 flags/frag. offset │
// ├────────┬───────┴────────┼─────────────────┼──────────────┴──────────────────────┤
// │ 8 TTL  │ 9 protocol     │ 10 checksum     │ 12 src[4]   16 dst[4]   20 options… │
// └────────┴────────────────┴─────────────────┴─────────────────────────────────────┘
export const IPV4_VERSION_IHL = 0; //    version << 4 | header length in 32-bit words
export const IPV4_TOS = 1; //            DSCP and ECN
export const IPV4_TOTAL_LENGTH = 2; //   header and payload
export const IPV4_ID = 4;
export const IPV4_FLAGS_FRAGMENT = 6; // 16 bits: reserved, DF, MF, fragment offset (13)
export const IPV4_TTL = 8;
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
export const IPV4_HEADER = 20; //        without options
export const IPV4_DF = 0x4000; //        bits of the IPV4_FLAGS_FRAGMENT field
export const IPV4_MF = 0x2000;
export const IPV4_OFFSET_MASK = 0x1fff;
export const IPV4_RESERVED = 0x8000; //  the reserved ("evil") bit: Linux GRO does not merge it

// ── IPv6 ──────────────────────────────────────────────────────────────────────────────────────
//
// ┌───────────────────────────────────┬──────────────────┬───────────┬─────────────┐
// │ 0 version, class, flow label (32) │ 4 payload length │ 6 next    │ 7 hop limit │
// ├───────────────────────────────────┴──────────────────┴───────────┴─────────────┤
// │ 8 src[16]                              24 dst[16]                          40  │
// └────────────────────────────────────────────────────────────────────────────────┘
export const IPV6_FLOW = 0; //           version 4 bits, traffic class 8, flow label 20
export const IPV6_PAYLOAD_LENGTH = 4; // everything after this 40-byte header
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HOP_LIMIT = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;
export const IPV6_HEADER = 40;

// Extension headers: next header at 0, length at 1 (8-byte units after the first 8; AH: 4-byte
// units minus 2); the fragment header is 8 bytes with the fragment offset in the top 13 bits at 2.
export const IPV6_EXT_NEXT = 0;
export const IPV6_EXT_LENGTH = 1;
export const IPV6_EXT_MIN = 8; //        every extension header is at least this long
export const IPV6_FRAGMENT_OFFSET = 2;
export const IPV6_FRAGMENT_HEADER = 8;
export const IPV6_OFFSET_MASK = 0xfff8;

// Protocol numbers (IPv4 protocol, IPv6 next header).
export const PROTO_HOP_BY_HOP = 0;
export const PROTO_TCP = 6;
export const PROTO_ROUTING = 43;
export const PROTO_FRAGMENT = 44;
export const PROTO_AH = 51;
export const PROTO_DEST_OPTIONS = 60;

// ── TCP ───────────────────────────────────────────────────────────────────────────────────────
//
// ┌───────────────┬───────────────┬──────────────────────┬──────────────────────┐
// │ 0 src port    │ 2 dst port    │ 4 sequence number    │ 8 ack number         │
// ├────────┬──────┴──┬────────────┼───────────────┬──────┴──────────────────────┤
// │ 12 off │ 13 flags│ 14 window  │ 16 checksum   │ 18 urgent   20 options…     │
// └────────┴─────────┴────────────┴───────────────┴─────────────────────────────┘
export const TCP_SRC_PORT = 0;
export const TCP_DST_PORT = 2;
export const TCP_SEQ = 4;
export const TCP_ACK = 8;
export const TCP_DATA_OFFSET = 12; //    header length in 32-bit words << 4
export const TCP_FLAGS = 13;
export const TCP_WINDOW = 14;
export const TCP_CHECKSUM = 16;
export const TCP_URGENT = 18;
export const TCP_HEADER = 20; //         without options

// Bits of the TCP_FLAGS byte; the parsers read the flags as 12 bits, TCP_FLAGS_HIGH << 8 | TCP_FLAGS.
export const TCP_FLAGS_HIGH = 0x0f; //   TCP_DATA_OFFSET's low nibble: AE (formerly NS), 3 reserved bits
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

// TCP options (throughput's timestamp rule, CONTRACT §4): each is kind, length, data, except EOL
// (ends the list) and NOP (one byte). The timestamp option: kind, length 10, TSval u32, TSecr u32.
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOLEN_TIMESTAMP = 10;
export const TCPOPT_TSVAL = 2; //       offsets in the timestamp option
export const TCPOPT_TSECR = 6;
