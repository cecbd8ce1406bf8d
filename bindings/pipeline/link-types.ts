// Capture link types the pipeline accepts, and the engine link type each is handed over as.
import { LINK_ETHERNET, LINK_RAW, LINK_SLL, LINK_SLL2 } from '../abi.js';

export const LINK_TYPES: ReadonlyMap<number, { engine: number; name: string }> = new Map([
  [1, { engine: LINK_ETHERNET, name: 'Ethernet' }],
  [113, { engine: LINK_SLL, name: 'Linux SLL' }],
  [276, { engine: LINK_SLL2, name: 'Linux SLL2' }],
  [101, { engine: LINK_RAW, name: 'raw IP' }],
  [228, { engine: LINK_RAW, name: 'raw IPv4' }],
  [229, { engine: LINK_RAW, name: 'raw IPv6' }],
  [12, { engine: LINK_RAW, name: 'raw IP (DLT 12)' }],
  [14, { engine: LINK_RAW, name: 'raw IP (DLT 14)' }],
]);

export const SUPPORTED_LINK_TYPES = '1 Ethernet, 113 Linux SLL, 276 Linux SLL2, 101/228/229/12/14 raw IP';

export function linkTypeName(linkType: number): string {
  return LINK_TYPES.get(linkType)?.name ?? `link type ${linkType}`;
}
