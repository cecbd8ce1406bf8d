// Capture link types the pipeline hands to an engine, and how: the engine link type, and how many
// bytes of link header come before what the engine parses (BSD loopback's 4-byte address family:
// the engine reads the rest as raw IP, and the pipeline puts the family back on what it writes).
// Records of any other link type pass through unchanged (counted in the summary).
import { LINK_ETHERNET, LINK_RAW, LINK_SLL, LINK_SLL2 } from '../abi.js';

export interface LinkType {
  engine: number;
  name: string;
  /** Bytes before the engine's frame (kept from each record and written back). */
  prefix: number;
}

export const LINK_TYPES: ReadonlyMap<number, LinkType> = new Map([
  [1, { engine: LINK_ETHERNET, name: 'Ethernet', prefix: 0 }],
  [113, { engine: LINK_SLL, name: 'Linux SLL', prefix: 0 }],
  [276, { engine: LINK_SLL2, name: 'Linux SLL2', prefix: 0 }],
  [101, { engine: LINK_RAW, name: 'raw IP', prefix: 0 }],
  [228, { engine: LINK_RAW, name: 'raw IPv4', prefix: 0 }],
  [229, { engine: LINK_RAW, name: 'raw IPv6', prefix: 0 }],
  [12, { engine: LINK_RAW, name: 'raw IP (DLT 12)', prefix: 0 }],
  [14, { engine: LINK_RAW, name: 'raw IP (DLT 14)', prefix: 0 }],
  [0, { engine: LINK_RAW, name: 'BSD loopback', prefix: 4 }],
  [108, { engine: LINK_RAW, name: 'OpenBSD loopback', prefix: 4 }],
]);

export const SUPPORTED_LINK_TYPES = '1 Ethernet, 113 Linux SLL, 276 Linux SLL2, 101/228/229/12/14 raw IP, 0/108 BSD loopback';

export function linkTypeName(linkType: number): string {
  return LINK_TYPES.get(linkType)?.name ?? `link type ${linkType}`;
}
