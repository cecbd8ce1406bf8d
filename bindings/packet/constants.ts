// Header constants of the frame kit: TCP flags, link types, EtherTypes, IP protocols.

export const FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80;

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_RAW = 101;
export type LinkType = 1 | 113 | 276 | 101;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
