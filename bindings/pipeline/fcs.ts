// Ethernet FCS (CRC-32, IEEE 802.3), appended little-endian: a new aggregate written to an
// interface whose frames carry an FCS gets a freshly computed one.
let crcTable: Uint32Array | null = null;

function crc32(data: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** `data` with its FCS appended (a new array). */
export function withFcs(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 4);
  out.set(data);
  const c = crc32(data);
  out[data.length] = c & 0xff;
  out[data.length + 1] = (c >>> 8) & 0xff;
  out[data.length + 2] = (c >>> 16) & 0xff;
  out[data.length + 3] = c >>> 24;
  return out;
}
