// Big-endian field readers and writers, one byte at a time.

export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export function get16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

export function get32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

export function padTo4(len: number): number {
  return (len + 3) & ~3;
}

export function vlanList(vlan: number | number[] | undefined): number[] {
  if (vlan === undefined) return [];
  return typeof vlan === 'number' ? [vlan] : vlan;
}
