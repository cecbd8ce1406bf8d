// In-order bulk segments of one flow, as the engine tests build them.
import { tcpFrame, type TcpFrameSpec } from '../../bindings/packet/index.js';

/** A full IPv4 segment's payload at a 1500-byte MTU with TCP timestamps. */
export const MSS = 1448;
/** The first segment's sequence number. */
export const SEQ0 = 1000;

/** n in-order full segments of one flow starting at SEQ0 (or `from`). */
export function segments(n: number, spec: TcpFrameSpec = {}, from = SEQ0, size = MSS): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => tcpFrame({ ...spec, seq: from + i * size, payload: size }));
}
