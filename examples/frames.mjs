// A tiny frame builder for the examples' demo runs: one Ethernet + IPv4 + TCP segment of a single
// flow (10.0.0.1:5000 → 10.0.0.2:80), with correct checksums. Real input comes from a NIC, a relay
// or a capture; this only gives the examples something to run on.
const HEADERS = 14 + 20 + 20;

function sum16(bytes, start, end, initial = 0) {
  let s = initial;
  for (let i = start; i + 1 < end; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  if ((end - start) & 1) s += bytes[end - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The segment carrying bytes [offset, offset + length) of the flow's stream (byte k is k & 0xff). */
export function tcpFrame(offset, length, { seq0 = 1000, id0 = 1 } = {}) {
  const f = new Uint8Array(HEADERS + length);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0); // dst, src MAC
  v.setUint16(12, 0x0800);
  v.setUint8(14, 0x45);
  v.setUint16(16, 20 + 20 + length);
  v.setUint16(18, (id0 + Math.floor(offset / Math.max(1, length))) & 0xffff);
  v.setUint16(20, 0x4000); // DF
  v.setUint8(22, 64);
  v.setUint8(23, 6);
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  v.setUint16(24, ~sum16(f, 14, 34) & 0xffff);
  v.setUint16(34, 5000);
  v.setUint16(36, 80);
  v.setUint32(38, (seq0 + offset) >>> 0);
  v.setUint32(42, 1);
  v.setUint8(46, 5 << 4);
  v.setUint8(47, 0x10); // ACK
  v.setUint16(48, 65535);
  for (let k = 0; k < length; k++) f[HEADERS + k] = (offset + k) & 0xff;
  const pseudo = sum16(f, 26, 34, 6 + 20 + length);
  v.setUint16(50, ~sum16(f, 34, f.length, pseudo) & 0xffff);
  return f;
}
