// IPv4 / IPv6 addresses as text and bytes.

/** An address as text ("10.0.0.1", "fd00::1") or as its 4 / 16 raw bytes. */
export type Address = string | Uint8Array;

/** Parse dotted IPv4 text into 4 bytes. Throws on bad input. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address: ${text}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) throw new Error(`bad IPv4 address: ${text}`);
    const v = Number(parts[i]);
    if (v > 255) throw new Error(`bad IPv4 address: ${text}`);
    out[i] = v;
  }
  return out;
}

/** Parse IPv6 text (with optional '::' and optional dotted IPv4 tail) into 16 bytes. Throws on bad input. */
export function parseIpv6(text: string): Uint8Array {
  const bad = (): never => {
    throw new Error(`bad IPv6 address: ${text}`);
  };
  const halves = text.split('::');
  if (halves.length > 2) bad();
  const toGroups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) bad();
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = toGroups(halves[0]);
  const tail = halves.length === 2 ? toGroups(halves[1]) : [];
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) bad();
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) bad();
    groups = head;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >>> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

/** Parse IPv4 or IPv6 text (IPv6 if it contains ':'). */
export function parseIp(text: string): Uint8Array {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Format 4 or 16 address bytes: dotted IPv4, or RFC 5952 IPv6 (lowercase, longest run of ≥ 2 zero groups as '::'). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new Error(`formatIp: expected 4 or 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((v) => v.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function addressBytes(a: Address, version: 4 | 6, what: string): Uint8Array {
  const bytes = typeof a === 'string' ? parseIp(a) : a;
  const want = version === 4 ? 4 : 16;
  if (bytes.length !== want)
    throw new Error(`${what}: IPv${version} needs a ${want}-byte address, got ${typeof a === 'string' ? a : `${bytes.length} bytes`}`);
  return bytes;
}

export function isV6Address(a: Address | undefined): boolean {
  if (a === undefined) return false;
  return typeof a === 'string' ? a.includes(':') : a.length === 16;
}
