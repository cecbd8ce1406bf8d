// Frames of the ring test: length and bytes a function of the index, so each side knows them.
export function ringFrame(i: number): Uint8Array {
  const n = (i * 7919) % 1500;
  const f = new Uint8Array(n);
  for (let k = 0; k < n; k++) f[k] = (i + k * 31) & 0xff;
  return f;
}
