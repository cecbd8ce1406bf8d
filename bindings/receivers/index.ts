// Receivers of the engine's output (docs/CONTRACT.md §8–§10, README "Receivers"): the virtio-net
// header for taps and VMMs, resegment() back into wire segments, length-prefixed frame streams and
// a SharedArrayBuffer frame ring. Library code: no Node built-ins, no tool code.
export type { PacketHeaders, PacketInfo, ReceiverPacket } from './packet.js';
export {
  encodeVirtioNetHeader,
  takesPartialChecksum,
  toPartialChecksum,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  type VirtioNetHeaderOptions,
  writeVirtioNetHeader,
} from './virtio.js';
export { type ResegmentPacket, resegment } from './resegment.js';
export {
  createDeframer,
  createFrameRing,
  createFramer,
  DEFAULT_MAX_FRAME,
  encodeFrame,
  type FrameRing,
  type FramingOptions,
  type LengthPrefix,
  openFrameRing,
  RING_DATA,
  RING_HEAD,
  RING_TAIL,
  ringRead,
  ringWrite,
} from './framing.js';
