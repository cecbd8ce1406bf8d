import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CaptureError,
  copyRecord,
  createCaptureWriter,
  detectFormat,
  openCapture,
  probeCapture,
  readCapture,
  type CaptureRecord,
  type ReadOptions,
  type WriterOptions,
} from '../bindings/capture/index.js';
import { TsClock } from '../bindings/capture/timestamp.js';
import { expectSameBytes } from './helpers/bytes.js';

// ------------------------------------------------------------------ byte builders (test oracle)

/** Little growable byte writer, independent of the module under test. */
class Bytes {
  private a: number[] = [];
  constructor(private le: boolean) {}
  u8(v: number): this {
    this.a.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    const b = [v >>> 24, v >>> 16, v >>> 8, v].map((x) => x & 0xff);
    for (const x of this.le ? b.reverse() : b) this.a.push(x);
    return this;
  }
  bytes(b: Uint8Array | number[]): this {
    for (const x of b) this.a.push(x);
    return this;
  }
  pad4(): this {
    while (this.a.length % 4) this.a.push(0);
    return this;
  }
  get length(): number {
    return this.a.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.a);
  }
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Deterministic frame-ish payload. */
const payload = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);

/** toEqual for byte arrays (same array type, same bytes), with a failure that points at the byte. */
function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.constructor, `${what}: array type`).toBe(expected.constructor);
  expectSameBytes(actual, expected, what, null);
}

interface PcapRec {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

function buildPcap(o: { le?: boolean; ns?: boolean; snaplen?: number; linkType?: number; records: PcapRec[] }): Uint8Array {
  const le = o.le ?? true;
  const w = new Bytes(le)
    .u32(o.ns ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(o.snaplen ?? 262144)
    .u32(o.linkType ?? 1);
  for (const r of o.records)
    w.u32(r.sec)
      .u32(r.frac)
      .u32(r.data.length)
      .u32(r.origLen ?? r.data.length)
      .bytes(r.data);
  return w.done();
}

interface Opt {
  code: number;
  value: Uint8Array | number[];
}

/** pcapng block builders; each takes the section byte order. */
const ng = {
  block(le: boolean, type: number, body: (w: Bytes) => void): Uint8Array {
    const w = new Bytes(le);
    body(w);
    w.pad4();
    const len = w.length + 12;
    return new Bytes(le).u32(type).u32(len).bytes(w.done()).u32(len).done();
  },
  options(w: Bytes, opts: Opt[]): void {
    if (!opts.length) return;
    for (const o of opts) w.u16(o.code).u16(o.value.length).bytes(o.value).pad4();
    w.u32(0); // opt_endofopt
  },
  shb(le: boolean, sectionLen?: [number, number]): Uint8Array {
    return ng.block(le, 0x0a0d0d0a, (w) => {
      w.u32(0x1a2b3c4d).u16(1).u16(0);
      if (sectionLen) w.u32(le ? sectionLen[1] : sectionLen[0]).u32(le ? sectionLen[0] : sectionLen[1]);
      else w.u32(0xffffffff).u32(0xffffffff);
      ng.options(w, [{ code: 4, value: [...new TextEncoder().encode('test-suite')] }]);
    });
  },
  idb(le: boolean, linkType: number, snaplen: number, opts: Opt[] = []): Uint8Array {
    return ng.block(le, 1, (w) => {
      w.u16(linkType).u16(0).u32(snaplen);
      ng.options(w, opts);
    });
  },
  epb(le: boolean, ifid: number, hi: number, lo: number, data: Uint8Array, opts: Opt[] = [], origLen?: number): Uint8Array {
    return ng.block(le, 6, (w) => {
      w.u32(ifid)
        .u32(hi)
        .u32(lo)
        .u32(data.length)
        .u32(origLen ?? data.length)
        .bytes(data)
        .pad4();
      ng.options(w, opts);
    });
  },
  pb(le: boolean, ifid: number, drops: number, hi: number, lo: number, data: Uint8Array): Uint8Array {
    return ng.block(le, 2, (w) => {
      w.u16(ifid)
        .u16(drops)
        .u32(hi)
        .u32(lo)
        .u32(data.length)
        .u32(data.length + 10)
        .bytes(data);
    });
  },
  spb(le: boolean, data: Uint8Array, origLen?: number): Uint8Array {
    return ng.block(le, 3, (w) => w.u32(origLen ?? data.length).bytes(data));
  },
  nrb(le: boolean): Uint8Array {
    return ng.block(le, 4, (w) => {
      w.u16(1)
        .u16(4 + 12)
        .bytes([10, 0, 0, 1])
        .bytes(new TextEncoder().encode('host.local\0\0'))
        .pad4();
      w.u16(0).u16(0);
    });
  },
  isb(le: boolean, ifid: number): Uint8Array {
    return ng.block(le, 5, (w) => w.u32(ifid).u32(0).u32(12345));
  },
  custom(le: boolean): Uint8Array {
    return ng.block(le, 0x40000bad, (w) => w.u32(32473).bytes([1, 2, 3, 4, 5]));
  },
};

const u32opt = (le: boolean, code: number, v: number): Opt => ({ code, value: [...new Bytes(le).u32(v).done()] });
const i64opt = (le: boolean, code: number, v: number): Opt => {
  const hi = Math.floor(v / 2 ** 32);
  const lo = v - hi * 2 ** 32;
  const b = new Bytes(le);
  return { code, value: [...(le ? b.u32(lo).u32(hi >>> 0) : b.u32(hi >>> 0).u32(lo)).done()] };
};
const tsresol = (v: number): Opt => ({ code: 9, value: [v] });

// ------------------------------------------------------------------ file helpers

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lro-capture-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
function file(bytes: Uint8Array, ext = 'pcap'): string {
  const p = join(dir, `in-${++fileNo}.${ext}`);
  writeFileSync(p, bytes);
  return p;
}
const outPath = (ext = 'pcap'): string => join(dir, `out-${++fileNo}.${ext}`);

/** Read every record (copied). */
function readAll(path: string, opts?: ReadOptions): CaptureRecord[] {
  return [...readCapture(path, opts)].map(copyRecord);
}

/** Read `path` and write every packet back with writeOriginal; returns the output bytes. */
function passThrough(path: string, wopts?: WriterOptions): Uint8Array {
  const reader = openCapture(path);
  const out = outPath();
  const writer = createCaptureWriter(out, reader, wopts);
  for (const rec of reader) writer.writeOriginal(rec);
  writer.commit();
  return new Uint8Array(readFileSync(out));
}

/** Expect fn to throw a CaptureError; returns it. */
function captureError(fn: () => unknown): CaptureError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return err as CaptureError;
  }
  throw new Error('expected a CaptureError');
}

const leftovers = (): string[] => readdirSync(dir).filter((f) => f.includes('.tmp-'));

// ------------------------------------------------------------------ tests

describe('detectFormat', () => {
  it('recognises pcap (all four magics) and pcapng, from bytes and from a path', () => {
    for (const le of [true, false]) for (const ns of [true, false]) expect(detectFormat(buildPcap({ le, ns, records: [] }))).toBe('pcap');
    expect(detectFormat(ng.shb(true))).toBe('pcapng');
    expect(detectFormat(ng.shb(false))).toBe('pcapng');
    expect(detectFormat(Uint8Array.from([1, 2, 3, 4, 5]))).toBeNull();
    expect(detectFormat(Uint8Array.from([0xd4]))).toBeNull();
    expect(detectFormat(file(concat(ng.shb(false), ng.idb(false, 1, 0)), 'pcapng'))).toBe('pcapng');
    expect(captureError(() => detectFormat(join(dir, 'nope'))).code).toBe('unreadable');
  });
});

describe('pcap', () => {
  const records: PcapRec[] = [
    { sec: 1700000000, frac: 123456, data: payload(60, 1) },
    { sec: 1700000000, frac: 999999, data: payload(1514, 2) },
    { sec: 1700000001, frac: 5, data: payload(54, 3), origLen: 1000 },
    { sec: 0xffffffff, frac: 0, data: payload(0, 4) },
  ];

  for (const le of [true, false])
    for (const ns of [false, true]) {
      it(`reads and round-trips byte-identically (${le ? 'LE' : 'BE'}, ${ns ? 'ns' : 'µs'})`, () => {
        const recs = records.map((r) => ({ ...r, frac: ns ? r.frac * 1000 + 777 : r.frac }));
        const bytes = buildPcap({ le, ns, linkType: 113, records: recs });
        const path = file(bytes);
        const got = readAll(path);
        expect(got.length).toBe(recs.length);
        got.forEach((g, i) => {
          expectBytes(g.data, recs[i].data, `record ${i} data`);
          expect(g.origLen).toBe(recs[i].origLen ?? recs[i].data.length);
          expect(g.timeUs).toBe(records[i].sec * 1e6 + records[i].frac);
          expect(g.interfaceId).toBe(0);
          expect(g.linkType).toBe(113);
        });
        expect(got[1].offset).toBe(24 + 16 + 60);
        expectBytes(passThrough(path), bytes, 'file written back');
        const info = probeCapture(path);
        expect(info).toMatchObject({
          format: 'pcap',
          byteOrder: le ? 'le' : 'be',
          resolution: ns ? 'ns' : 'us',
          version: '2.4',
          sections: 1,
        });
        expect(info.interfaces).toEqual([expect.objectContaining({ id: 0, linkType: 113, snaplen: 262144, resolution: ns ? 'ns' : 'us' })]);
      });
    }

  it('raises a small snaplen to 262144 and keeps everything else', () => {
    for (const le of [true, false]) {
      const bytes = buildPcap({ le, snaplen: 96, records: records.slice(0, 2) });
      const out = passThrough(file(bytes));
      const expected = buildPcap({ le, snaplen: 262144, records: records.slice(0, 2) });
      expectBytes(out, expected, 'file written back');
      // A larger snaplen is kept.
      const big = buildPcap({ le, snaplen: 1 << 20, records: records.slice(0, 1) });
      expectBytes(passThrough(file(big)), big, 'file written back');
    }
  });

  it('reports the link type without the FCS bits', () => {
    const bytes = buildPcap({ linkType: 0x04000001 | (2 << 28), records: [] });
    const info = probeCapture(file(bytes));
    expect(info.interfaces[0]).toMatchObject({ linkType: 1, fcsLen: 4 });
  });

  it('writeNew encodes time in the file resolution and round-trips through the reader', () => {
    for (const ns of [false, true]) {
      const path = file(buildPcap({ ns, records: records.slice(0, 1) }));
      const reader = openCapture(path);
      const out = outPath();
      const writer = createCaptureWriter(out, reader);
      const times = [0, 1, 999999, 1700000000123456, 4294967295999999];
      for (const rec of reader) writer.writeOriginal(rec);
      for (const t of times) writer.writeNew(0, payload(100, t % 7), t);
      expect(() => writer.writeNew(0, payload(1), 4294967296 * 1e6)).toThrow(RangeError);
      expect(() => writer.writeNew(1, payload(1), 0)).toThrow(RangeError);
      writer.commit();
      const got = readAll(out);
      expect(got.slice(1).map((r) => r.timeUs)).toEqual(times);
      expect(got[2]).toMatchObject({ tsHigh: 0, tsLow: ns ? 1000 : 1, origLen: 100 });
      expectBytes(got[2].data, payload(100, 1), 'record 2 data');
    }
  });
});

/** A two-interface pcapng section exercising every block kind, and its expected records. */
function richSection(le: boolean) {
  const ns0 = 1700000000123456789n;
  const hi = (v: bigint) => Number(v >> 32n);
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const us1 = 1700000000654321;
  const epbOpts: Opt[] = [u32opt(le, 2, 0x00000001), { code: 1, value: [...new TextEncoder().encode('a comment')] }];
  const blocks = [
    ng.shb(le),
    ng.idb(le, 1, 262144, [{ code: 2, value: [...new TextEncoder().encode('eth0')] }]), // µs (default)
    ng.idb(le, 276, 0, [tsresol(9), i64opt(le, 14, 100)]), // ns, +100 s
    ng.nrb(le),
    ng.epb(le, 0, hi(BigInt(us1)), lo(BigInt(us1)), payload(61, 1), epbOpts),
    ng.epb(le, 1, hi(ns0), lo(ns0), payload(1514, 2), [], 2000),
    ng.spb(le, payload(42, 3)),
    ng.custom(le),
    ng.pb(le, 1, 7, hi(ns0 + 1000n), lo(ns0 + 1000n), payload(77, 4)),
    ng.isb(le, 0),
    ng.epb(le, 1, hi(ns0 + 1999n), lo(ns0 + 1999n), payload(0, 5)),
  ];
  const expected = [
    { timeUs: us1, interfaceId: 0, linkType: 1, len: 61, kind: 6 },
    { timeUs: 1700000100123456, interfaceId: 1, linkType: 276, len: 1514, kind: 6, origLen: 2000 },
    { timeUs: 1700000100123456, interfaceId: 0, linkType: 1, len: 42, kind: 3 }, // SPB: previous time
    { timeUs: 1700000100123457, interfaceId: 1, linkType: 276, len: 77, kind: 2, drops: 7 },
    { timeUs: 1700000100123458, interfaceId: 1, linkType: 276, len: 0, kind: 6 },
  ];
  return { bytes: concat(...blocks), blocks, expected };
}

describe('pcapng', () => {
  for (const le of [true, false]) {
    it(`reads every block kind and round-trips byte-identically (${le ? 'LE' : 'BE'})`, () => {
      const { bytes, expected } = richSection(le);
      const path = file(bytes, 'pcapng');
      const got = readAll(path);
      expect(
        got.map((r) => ({ timeUs: r.timeUs, interfaceId: r.interfaceId, linkType: r.linkType, kind: r.kind, len: r.data.length })),
      ).toEqual(expected.map(({ origLen: _o, drops: _d, ...e }) => e));
      expect(got[1].origLen).toBe(2000);
      expect(got[3].drops).toBe(7);
      expectBytes(got[0].data, payload(61, 1), 'record 0 data');
      expect(got[0].tail.length).toBe(3 + 8 + 4 + 12 + 4); // padding + epb_flags + comment + end
      expectBytes(passThrough(path), bytes, 'file written back');

      const info = probeCapture(path);
      expect(info).toMatchObject({ format: 'pcapng', byteOrder: le ? 'le' : 'be', resolution: 'us', version: '1.0', sections: 1 });
      expect(info.interfaces).toEqual([
        expect.objectContaining({
          id: 0,
          localId: 0,
          section: 0,
          linkType: 1,
          snaplen: 262144,
          resolution: 'us',
          tsoffset: 0,
          name: 'eth0',
        }),
        expect.objectContaining({ id: 1, localId: 1, section: 0, linkType: 276, snaplen: 0, resolution: 'ns', tsoffset: 100 }),
      ]);
    });
  }

  it('handles several sections with different byte orders; SHB section length becomes -1', () => {
    const a = richSection(true);
    const b = richSection(false);
    const c = [ng.shb(true, [0, 1234]), ng.idb(true, 101, 262144), ng.epb(true, 0, 0, 5, payload(20, 9))];
    const bytes = concat(a.bytes, b.bytes, ...c);
    const path = file(bytes, 'pcapng');
    const got = readAll(path);
    expect(got.length).toBe(11);
    expect(got.map((r) => r.interfaceId)).toEqual([0, 1, 0, 1, 1, 2, 3, 2, 3, 3, 4]);
    expect(got[10]).toMatchObject({ linkType: 101, timeUs: 5 });
    const out = passThrough(path);
    expectBytes(out, concat(a.bytes, b.bytes, ng.shb(true), ...c.slice(1)), 'file written back');
    expect(probeCapture(path).sections).toBe(1); // probe stops at the first packet
  });

  it('raises a small IDB snaplen to 262144, keeps 0 (unlimited) and larger ones', () => {
    for (const le of [true, false]) {
      const mk = (snap: number) =>
        concat(ng.shb(le), ng.idb(le, 1, snap, [tsresol(6)]), ng.idb(le, 1, 0), ng.idb(le, 1, 1 << 20), ng.epb(le, 0, 0, 1, payload(60)));
      expectBytes(passThrough(file(mk(1500), 'pcapng')), mk(262144), 'file written back');
    }
  });

  it('SPB caplen honours the interface snaplen', () => {
    const le = true;
    const bytes = concat(ng.shb(le), ng.idb(le, 1, 64), ng.epb(le, 0, 0, 1000, payload(64)), ng.spb(le, payload(64), 1500));
    const got = readAll(file(bytes, 'pcapng'));
    expect(got[1]).toMatchObject({ origLen: 1500, timeUs: 1000, kind: 3 });
    expect(got[1].data.length).toBe(64);
  });

  it('converts exotic resolutions and offsets', () => {
    const le = false;
    const bytes = concat(
      ng.shb(le),
      ng.idb(le, 1, 0, [tsresol(3)]), // ms
      ng.idb(le, 1, 0, [tsresol(0x80 | 20)]), // 2^-20 s
      ng.idb(le, 1, 0, [tsresol(12), i64opt(le, 14, -10)]), // ps, -10 s
      ng.epb(le, 0, 0, 1500, payload(1)),
      ng.epb(le, 1, 1, 0, payload(1)), // 2^32 / 2^20 s = 4096 s
      ng.epb(le, 2, 0, 2_500_000_000, payload(1)), // 2.5 ms - 10 s
    );
    const got = readAll(file(bytes, 'pcapng'));
    expect(got.map((r) => r.timeUs)).toEqual([1_500_000, 4096e6, 2500 - 10e6]);
  });

  it('writeNew times round-trip through the reader for every resolution, beyond 2^53 units', () => {
    const le = true;
    const resolutions = [6, 9, 3, 12, 0x80 | 20, 0x80 | 30, 0x80 | 10, 7];
    const bytes = concat(
      ng.shb(le),
      ...resolutions.map((r, i) => ng.idb(le, 1, 0, [tsresol(r), i64opt(le, 14, i * 1000)])),
      ng.epb(le, 0, 0, 1, payload(10)),
    );
    const path = file(bytes, 'pcapng');
    const reader = openCapture(path);
    const out = outPath('pcapng');
    const writer = createCaptureWriter(out, reader);
    for (const rec of reader) writer.writeOriginal(rec);
    const times = [1_700_000_000_123_457, 8_000_000_001, 2_000_000_000_000_000 + 999_999];
    const written: { id: number; t: number }[] = [];
    resolutions.forEach((r, id) => {
      for (const t of times) {
        if (r === 12 && t > 1e15) continue; // ps since 2033 overflows 64 bits
        writer.writeNew(id, payload(33, id), t + id * 1e9);
        written.push({ id, t: t + id * 1e9 });
      }
    });
    expect(() => writer.writeNew(3, payload(1), 2e15)).toThrow(RangeError); // ps overflow
    writer.commit();
    const got = readAll(out).slice(1);
    expect(got.map((r) => r.interfaceId)).toEqual(written.map((w) => w.id));
    got.forEach((r, i) => {
      const { id, t } = written[i];
      const res = resolutions[id];
      if (res === 3 || res === (0x80 | 10)) expect(t - r.timeUs).toBeGreaterThanOrEqual(0); // coarser than µs: floored
      if (res === 3) expect(t - r.timeUs).toBeLessThan(1000);
      if (res !== 3 && res !== (0x80 | 10)) expect(r.timeUs).toBe(t);
      expect(r.origLen).toBe(33);
      expectBytes(r.data, payload(33, id), `record ${i} data`);
      expect(r.kind).toBe(6);
      expect(r.tail).toEqual(new Uint8Array(3)); // zero padding, no options
    });
    // ns words are exactly timeUs * 1000 (minus the offset), even beyond 2^53.
    const ns = got.filter((r) => r.interfaceId === 1);
    for (const r of ns) {
      expect((BigInt(r.tsHigh) << 32n) | BigInt(r.tsLow)).toBe((BigInt(r.timeUs) - 1000n * 1000000n) * 1000n);
    }
  });

  it('beforeSection lets pending packets of a section be written before the next SHB', () => {
    const le = true;
    const s1 = concat(ng.shb(le), ng.idb(le, 1, 262144), ng.epb(le, 0, 0, 10, payload(60, 1)));
    const s2 = concat(ng.shb(le), ng.idb(le, 1, 262144), ng.epb(le, 0, 0, 20, payload(60, 2)));
    const reader = openCapture(file(concat(s1, s2), 'pcapng'));
    const out = outPath('pcapng');
    let pending: CaptureRecord | null = null;
    const writer = createCaptureWriter(out, reader, {
      beforeSection: () => {
        writer.writeNew(pending!.interfaceId, pending!.data, pending!.timeUs);
        pending = null;
      },
    });
    for (const rec of reader) {
      if (pending) writer.writeOriginal(pending);
      pending = copyRecord(rec);
    }
    expect(() => writer.writeNew(0, payload(1), 0)).toThrow(/section/);
    writer.writeOriginal(pending!);
    writer.commit();
    expectBytes(new Uint8Array(readFileSync(out)), concat(s1, s2), 'file written');
  });

  it('the writer must be attached before blocks are passed', () => {
    const le = true;
    const bytes = concat(ng.shb(le), ng.idb(le, 1, 0), ng.epb(le, 0, 0, 1, payload(4)), ng.nrb(le), ng.epb(le, 0, 0, 2, payload(4)));
    const reader = openCapture(file(bytes, 'pcapng'));
    reader.next();
    reader.next(); // passes the NRB
    expect(() => createCaptureWriter(outPath('pcapng'), reader)).toThrow(/before reading/);
    expect(leftovers()).toEqual([]);
  });
});

describe('timestamp conversion', () => {
  it('split arithmetic matches BigInt for random 64-bit timestamps', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (const res of [6, 7, 9, 12]) {
      const clock = new TsClock(res, 0);
      for (let i = 0; i < 2000; i++) {
        // Keep the result below 2^53 µs, where doubles are exact.
        const hi = rnd() % Math.min(2 ** 32, 2 ** 21 * 10 ** (res - 6));
        const lo = rnd();
        const ts = (BigInt(hi) << 32n) | BigInt(lo);
        const want = (ts * 1000000n) / 10n ** BigInt(res);
        expect(clock.toUs(hi, lo)).toBe(Number(want));
      }
    }
  });
});

describe('errors', () => {
  const le = true;
  const rec = (n: number): PcapRec => ({ sec: 1, frac: 2, data: payload(n) });

  it('missing, directory and empty files', () => {
    const missing = join(dir, 'missing.pcap');
    let e = captureError(() => openCapture(missing));
    expect(e).toMatchObject({ file: missing, offset: 0, code: 'unreadable' });
    expect(e.message).toBe(`${missing}: cannot open (ENOENT: no such file or directory)`);
    e = captureError(() => openCapture(dir));
    expect(e.code).toBe('unreadable');
    e = captureError(() => openCapture(file(new Uint8Array(0))));
    expect(e).toMatchObject({ code: 'empty', offset: 0 });
    expect(e.message).toMatch(/: empty file$/);
  });

  it('unknown magic', () => {
    const e = captureError(() => openCapture(file(Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]))));
    expect(e).toMatchObject({ code: 'bad-magic', offset: 0 });
    expect(e.message).toMatch(/: not a pcap or pcapng file at byte 0 \(unknown magic 0xdeadbeef\)$/);
  });

  it('truncated pcap global header', () => {
    const e = captureError(() => openCapture(file(buildPcap({ records: [] }).subarray(0, 10))));
    expect(e).toMatchObject({ code: 'truncated-header', offset: 0 });
    expect(e.message).toMatch(/truncated pcap header at byte 0 \(24 bytes needed, 10 left\)$/);
  });

  it('truncated pcap record: previous records are delivered first, skipBad ends quietly', () => {
    const bytes = buildPcap({ records: [rec(100), rec(1514)] });
    const path = file(bytes.subarray(0, 24 + 116 + 16 + 200));
    const seen: number[] = [];
    const e = captureError(() => {
      for (const r of readCapture(path)) seen.push(r.data.length);
    });
    expect(seen).toEqual([100]);
    expect(e).toMatchObject({ code: 'truncated-record', offset: 140, file: path });
    expect(e.message).toBe(`${path}: truncated record at byte 140 (header says 1514 bytes, 200 left)`);

    const skipped: CaptureError[] = [];
    const reader = openCapture(path, { skipBad: true, onSkip: (err) => skipped.push(err) });
    expect([...reader].length).toBe(1);
    expect(reader.skipped).toBe(1);
    expect(skipped[0].offset).toBe(140);

    const e2 = captureError(() => readAll(file(bytes.subarray(0, 24 + 116 + 5))));
    expect(e2.message).toMatch(/truncated record header at byte 140 \(16 bytes needed, 5 left\)$/);
  });

  it('absurd pcap caplen stops even with skipBad', () => {
    const bytes = buildPcap({ records: [rec(10), rec(10)] });
    new DataView(bytes.buffer).setUint32(24 + 26 + 8, 0x7fffffff, true);
    const path = file(bytes);
    for (const skipBad of [false, true]) {
      const e = captureError(() => readAll(path, { skipBad }));
      expect(e).toMatchObject({ code: 'too-large', offset: 50 });
      expect(e.message).toMatch(/record too large at byte 50 \(caplen 2147483647 > 268435456\)$/);
    }
  });

  /** SHB + IDB + one good EPB, then `bad`, then a good EPB. */
  const withBad = (bad: Uint8Array) => {
    const head = concat(ng.shb(le), ng.idb(le, 1, 0), ng.epb(le, 0, 0, 1, payload(10)));
    return { bytes: concat(head, bad, ng.epb(le, 0, 0, 2, payload(11))), at: head.length };
  };

  it('pcapng bad block lengths are fatal even with skipBad', () => {
    const cases: [string, (b: Uint8Array) => void, string, RegExp][] = [
      [
        'not multiple of 4',
        (b) => new DataView(b.buffer).setUint32(4, 46, true),
        'bad-block-length',
        /bad block length at byte \d+ \(46 is not a multiple of 4\)/,
      ],
      ['< 12', (b) => new DataView(b.buffer).setUint32(4, 8, true), 'bad-block-length', /\(8 < 12\)/],
      [
        '> 2^31',
        (b) => new DataView(b.buffer).setUint32(4, 0x80000004, true),
        'too-large',
        /block too large at byte \d+ \(length 2147483652 > 2147483648\)/,
      ],
      [
        'trailer',
        (b) => new DataView(b.buffer).setUint32(b.length - 4, 40, true),
        'bad-block-length',
        /block length mismatch at byte \d+ \(header 44, trailer 40\)/,
      ],
    ];
    for (const [, corrupt, code, msg] of cases) {
      const bad = ng.epb(le, 0, 0, 5, payload(12));
      corrupt(bad);
      const { bytes, at } = withBad(bad);
      const path = file(bytes, 'pcapng');
      for (const skipBad of [false, true]) {
        const e = captureError(() => readAll(path, { skipBad }));
        expect(e).toMatchObject({ code, offset: at, file: path });
        expect(e.message).toMatch(msg);
      }
    }
  });

  it('pcapng bad content is an error, skipped and counted with skipBad', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [ng.epb(le, 3, 0, 5, payload(12)), 'unknown-interface', /packet references unknown interface 3 at byte \d+ \(section has 1\)/],
      [
        ng.block(le, 6, (w) => w.u32(0).u32(0).u32(1).u32(100).u32(100).bytes(payload(8))),
        'bad-block',
        /packet data runs past its block at byte \d+ \(caplen 100, room 8\)/,
      ],
      [ng.block(le, 6, (w) => w.u32(0)), 'bad-block', /enhanced packet block too short at byte \d+ \(16 < 32\)/],
    ];
    for (const [bad, code, msg] of cases) {
      const { bytes, at } = withBad(bad);
      const path = file(bytes, 'pcapng');
      const e = captureError(() => readAll(path));
      expect(e).toMatchObject({ code, offset: at });
      expect(e.message).toMatch(msg);
      const reader = openCapture(path, { skipBad: true });
      expect([...reader].map((r) => r.data.length)).toEqual([10, 11]);
      expect(reader.skipped).toBe(1);
    }
  });

  it('packet before any IDB', () => {
    const bytes = concat(ng.shb(le), ng.epb(le, 0, 0, 1, payload(10)), ng.idb(le, 1, 0), ng.spb(le, payload(10)));
    const path = file(bytes, 'pcapng');
    const e = captureError(() => readAll(path));
    expect(e).toMatchObject({ code: 'no-interface', offset: ng.shb(le).length });
    const reader = openCapture(path, { skipBad: true });
    expect([...reader].length).toBe(1);
    expect(reader.skipped).toBe(1);
    const e2 = captureError(() => readAll(file(concat(ng.shb(le), ng.spb(le, payload(4))), 'pcapng')));
    expect(e2.code).toBe('no-interface');
  });

  it('truncated pcapng: SHB, and last block (skippable)', () => {
    const shb = ng.shb(le);
    const e = captureError(() => openCapture(file(shb.subarray(0, 20), 'pcapng')));
    expect(e).toMatchObject({ code: 'truncated-header', offset: 0 });
    expect(e.message).toMatch(/truncated section header at byte 0 \(header says \d+ bytes, 20 left\)/);
    for (const n of [4, 10]) {
      const e0 = captureError(() => openCapture(file(shb.subarray(0, n), 'pcapng'), { skipBad: true }));
      expect(e0).toMatchObject({ code: 'truncated-header', offset: 0 });
      expect(e0.message).toMatch(new RegExp(`\\(28 bytes needed, ${n} left\\)$`));
    }

    const { bytes } = withBad(new Uint8Array(0));
    const cut = file(bytes.subarray(0, bytes.length - 10), 'pcapng');
    const last = bytes.length - ng.epb(le, 0, 0, 2, payload(11)).length;
    const e2 = captureError(() => readAll(cut));
    expect(e2).toMatchObject({ code: 'truncated-record', offset: last });
    expect(e2.message).toMatch(/truncated block at byte \d+ \(header says 44 bytes, 34 left\)$/);
    const reader = openCapture(cut, { skipBad: true });
    expect([...reader].length).toBe(1);
    expect(reader.skipped).toBe(1);
  });

  it('bad byte-order magic in a later section is fatal', () => {
    const shb2 = ng.shb(le);
    shb2[8] = 0x99;
    const path = file(concat(ng.shb(le), ng.idb(le, 1, 0), shb2), 'pcapng');
    const e = captureError(() => readAll(path, { skipBad: true }));
    expect(e.code).toBe('bad-block');
    expect(e.message).toMatch(/bad byte-order magic in section header at byte \d+/);
  });

  it('unwritable output names the output file and leaves nothing behind', () => {
    const path = file(buildPcap({ records: [rec(10)] }));
    const out = join(dir, 'no-such-dir', 'out.pcap');
    const reader = openCapture(path);
    const e = captureError(() => createCaptureWriter(out, reader));
    expect(e).toMatchObject({ code: 'unwritable', file: out });
    expect(e.message).toMatch(/^.*out\.pcap: cannot write \(ENOENT/);
    reader.close();
  });

  it('abort after a read error leaves no output and no temporary file', () => {
    const bytes = buildPcap({ records: [rec(100), rec(100), rec(1514)] });
    const path = file(bytes.subarray(0, bytes.length - 1));
    const out = outPath();
    const reader = openCapture(path);
    const writer = createCaptureWriter(out, reader, { bufferSize: 128 }); // forces real writes
    expect(existsSync(writer.tempPath as string)).toBe(true);
    const e = captureError(() => {
      for (const r of reader) writer.writeOriginal(r);
    });
    expect(e.code).toBe('truncated-record');
    writer.abort();
    writer.abort();
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(() => writer.writeNew(0, payload(1), 0)).toThrow(/aborted/);
  });

  it('commit replaces an existing output atomically', () => {
    const bytes = buildPcap({ records: [rec(10)] });
    const out = outPath();
    writeFileSync(out, 'old');
    const reader = openCapture(file(bytes));
    const writer = createCaptureWriter(out, reader);
    for (const r of reader) writer.writeOriginal(r);
    expect(readFileSync(out, 'utf8')).toBe('old');
    writer.commit();
    expectBytes(new Uint8Array(readFileSync(out)), bytes, 'file written');
    expect(leftovers()).toEqual([]);
  });
});

describe('streaming', () => {
  it('copyRecord keeps a record past the next read', () => {
    const path = file(
      buildPcap({
        records: [
          { sec: 1, frac: 0, data: payload(10, 1) },
          { sec: 2, frac: 0, data: payload(10, 2) },
        ],
      }),
    );
    const reader = openCapture(path);
    const a = reader.next()!;
    const kept = copyRecord(a);
    reader.next();
    expectBytes(kept.data, payload(10, 1), 'kept record data');
    expect(kept.timeUs).toBe(1e6);
    expect(reader.next()).toBeNull();
    expect(reader.next()).toBeNull();
  });

  it('grows the chunk only for a record larger than it', () => {
    const le = true;
    const big = payload(300_000);
    const bytes = concat(
      ng.shb(le),
      ng.idb(le, 1, 0),
      ng.epb(le, 0, 0, 1, payload(10)),
      ng.epb(le, 0, 0, 2, big),
      ng.epb(le, 0, 0, 3, payload(10)),
    );
    const reader = openCapture(file(bytes, 'pcapng'), { chunkSize: 65536 });
    expect(reader.bufferSize).toBe(65536);
    const lens = [...reader].map((r) => r.data.length);
    expect(lens).toEqual([10, 300_000, 10]);
    expect(reader.bufferSize).toBeGreaterThanOrEqual(300_032);
  });

  it('streams a large file with bounded memory, and passes it through unchanged', () => {
    const N = 200_000;
    const path = join(dir, 'large.pcapng');
    const le = true;
    writeFileSync(path, concat(ng.shb(le), ng.idb(le, 1, 262144, [tsresol(9)])));
    // Build in slices so the test itself does not hold the file in memory.
    const proto = ng.epb(le, 0, 0, 0, payload(150), [u32opt(le, 2, 1)]);
    const per = proto.length;
    const slice = 10_000;
    const part = new Uint8Array(per * slice);
    const v = new DataView(part.buffer);
    for (let s = 0; s < N; s += slice) {
      for (let i = 0; i < slice; i++) {
        part.set(proto, i * per);
        const ns = BigInt(1_700_000_000_000_000_000) + BigInt((s + i) * 1000);
        v.setUint32(i * per + 12, Number(ns >> 32n), le);
        v.setUint32(i * per + 16, Number(ns & 0xffffffffn), le);
        part[i * per + 28] = (s + i) & 0xff;
      }
      appendFileSync(path, part);
    }
    const size = 52 + 20 + per * N; // approximate; only used as a scale
    (globalThis as { gc?: () => void }).gc?.();
    const rss0 = process.memoryUsage().rss;
    const reader = openCapture(path);
    const out = join(dir, 'large-out.pcapng');
    const writer = createCaptureWriter(out, reader);
    let n = 0;
    let last = 0;
    const t0 = performance.now();
    for (const r of reader) {
      if (r.data[0] !== (n & 0xff)) throw new Error(`record ${n}: wrong data`);
      if (r.timeUs < last) throw new Error('time went backwards');
      last = r.timeUs;
      writer.writeOriginal(r);
      n++;
    }
    writer.commit();
    const ms = performance.now() - t0;
    const growth = process.memoryUsage().rss - rss0;
    expect(n).toBe(N);
    expect(last).toBe(1_700_000_000_000_000 + N - 1);
    expect(reader.bufferSize).toBe(4 << 20);
    expect(growth).toBeLessThan(size / 2);
    console.log(
      `streamed ${N} records (${(size / 2 ** 20).toFixed(1)} MiB) in ${ms.toFixed(0)} ms, rss +${(growth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(readFileSync(out).equals(readFileSync(path))).toBe(true);
  });
});
