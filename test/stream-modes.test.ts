// createStream's output modes (docs/CONTRACT.md §11): 'packets', 'frames' and 'virtio' give the
// engine's own packets, byte for byte, however the frames are written (one by one into a reused
// array, timed, or in FrameBatch chunks), on both engines; and the stream arms no timer per frame.
import { describe, expect, it } from 'vitest';
import {
  createEngine,
  createStream,
  encodeVirtioNetHeader,
  type EngineKind,
  type Packet,
  type StreamInput,
  type StreamOutput,
  toPartialChecksum,
  type VirtioNetHeaderOptions,
} from '../bindings/index.js';
import { createNodeStream } from '../bindings/node.js';
import { internetChecksum } from '../bindings/packet/index.js';
import { generateTraffic } from '../bindings/traffic/generate.js';
import { expectSameByteLists, expectSameBytes } from './helpers/bytes.js';

const ENGINES: EngineKind[] = ['wasm', 'ts'];
const OPTIONS = { hashSeed: 3, aggregateTimeoutUs: 1000 };

/** IPv4 and IPv6 bulk flows, an ACK back every 32 segments, some PSH: times 0, 1, 2 … µs. */
const FRAMES = [...generateTraffic({ packets: 3000, flows: 6, ipv6: 0.5, pshEvery: 50, ackEvery: 32, seed: 21 })].map((f) => f.data);

/** The engine's own output for these frames at these times (push each, close at the end). */
async function reference(kind: EngineKind, times: (i: number) => number): Promise<Packet[]> {
  const engine = await createEngine({ ...OPTIONS, engine: kind });
  const out: Packet[] = [];
  FRAMES.forEach((f, i) => {
    engine.push(f, times(i));
    out.push(...engine.drain());
  });
  engine.close();
  out.push(...engine.drain());
  return out;
}

type Style = 'one by one' | 'timed' | 'batches of 64';
const STYLES: Style[] = ['one by one', 'timed', 'batches of 64'];
/** 'one by one' frames take the stream clock, which stands at 0 here. */
const timesOf = (style: Style) => (style === 'one by one' ? () => 0 : (i: number) => i);

/** Write every frame in `style` (one by one: through one reused array, so only a copy made during write() survives). */
async function through<O extends StreamOutput>(stream: TransformStream<StreamInput, unknown>, style: Style): Promise<unknown[]> {
  const out: unknown[] = [];
  const done = stream.readable.pipeTo(new WritableStream({ write: (c) => void out.push(c) }));
  const writer = stream.writable.getWriter();
  const scratch = new Uint8Array(2048);
  if (style === 'batches of 64') {
    for (let i = 0; i < FRAMES.length; i += 64) {
      const frames = FRAMES.slice(i, i + 64);
      await writer.write({ frames, timesUs: frames.map((_, k) => i + k) });
    }
  } else {
    for (const [i, f] of FRAMES.entries()) {
      if (style === 'timed') await writer.write({ data: f, timeUs: i });
      else {
        scratch.set(f);
        await writer.write(scratch.subarray(0, f.length));
        scratch.fill(0xee); // the writer reuses its array once write() resolved
      }
    }
  }
  await writer.close();
  await done;
  return out as O[];
}

/** The bytes a receiver makes of NEEDS_CSUM: the ones-complement sum from csum_start to the end, complemented, at csum_start + csum_offset. */
function finishChecksum(frame: Uint8Array, start: number, offset: number): Uint8Array {
  const full = frame.slice();
  const sum = ~internetChecksum(full, start) & 0xffff; // over the field, which holds the partial pseudo-header sum
  full[start + offset] = sum >>> 8;
  full[start + offset + 1] = sum & 0xff;
  return full;
}

describe('createStream output modes', () => {
  for (const kind of ENGINES) {
    for (const style of STYLES) {
      it(`${kind}, ${style}: 'packets' yields the engine's packets, metadata and bytes`, async () => {
        const ref = await reference(kind, timesOf(style));
        const got = (await through(createStream({ ...OPTIONS, engine: kind, clockUs: () => 0 }), style)) as Packet[];
        expect(got.length).toBeLessThan(FRAMES.length / 5);
        expect(got.map(({ data, ...meta }) => meta)).toEqual(ref.map(({ data, ...meta }) => meta));
        expectSameByteLists(
          got.map((p) => p.data),
          ref.map((p) => p.data),
        );
      });

      it(`${kind}, ${style}: 'frames' yields the packets' frames, each a view of its own bytes`, async () => {
        const ref = await reference(kind, timesOf(style));
        const stream = createStream({ ...OPTIONS, engine: kind, clockUs: () => 0, output: 'frames' });
        const typed: TransformStream<StreamInput, Uint8Array> = stream; // the type says: frames
        const got = (await through(typed, style)) as Uint8Array[];
        expect(got.every((f) => f instanceof Uint8Array)).toBe(true);
        expectSameByteLists(
          got,
          ref.map((p) => p.data),
        );
        // Owned: views never overlap (the bytes were checked after the whole run, so none was written twice).
        const spans = got.map((f) => [f.buffer, f.byteOffset, f.byteOffset + f.length] as const);
        for (let i = 1; i < spans.length; i++)
          if (spans[i][0] === spans[i - 1][0]) expect(spans[i][1]).toBeGreaterThanOrEqual(spans[i - 1][2]);
        expect(new Set(got.map((f) => f.buffer)).size).toBeLessThan(got.length / 10); // one buffer for many frames
      });
    }

    const HEADERS: VirtioNetHeaderOptions[] = [{}, { size: 10, csum: 'none' }, { size: 12, csum: 'needs-csum' }];
    for (const virtio of HEADERS) {
      it(`${kind}: 'virtio' ${JSON.stringify(virtio)} yields header + frame; NEEDS_CSUM frames finish to the full checksum`, async () => {
        const ref = await reference(kind, (i) => i);
        const stream = createStream({ ...OPTIONS, engine: kind, clockUs: () => 0, output: 'virtio', virtio });
        const got = (await through(stream, 'timed')) as Uint8Array[];
        const size = virtio.size ?? 12;
        expect(got).toHaveLength(ref.length);
        let partial = 0;
        got.forEach((bytes, i) => {
          const header = encodeVirtioNetHeader(ref[i], virtio);
          expect([...bytes.subarray(0, size)], `header ${i}`).toEqual([...header]);
          let frame = bytes.subarray(size);
          const expected = ref[i].data.slice();
          if (header[0] === 1) {
            partial++;
            expect(toPartialChecksum(ref[i], expected)).toBe(true);
            expectSameBytes(frame, expected, `frame ${i}, partial sum`); // the partial sum in place …
            frame = finishChecksum(frame, header[6] | (header[7] << 8), header[8] | (header[9] << 8)); // … which a receiver finishes
          }
          expectSameBytes(frame, ref[i].data, `frame ${i}`);
        });
        if (virtio.csum === 'needs-csum') expect(partial).toBeGreaterThan(10);
        if (virtio.csum === undefined) expect(got.filter((b) => b[0] === 2).length).toBeGreaterThan(10); // DATA_VALID
      });
    }

    it(`${kind}: frames written in one turn arm no timer each (flushWhenIdle on)`, async () => {
      const stream = createStream({ engine: kind, flushWhenIdle: true, output: 'frames' });
      const out: Uint8Array[] = [];
      const done = stream.readable.pipeTo(new WritableStream({ write: (c) => void out.push(c) }));
      const writer = stream.writable.getWriter();
      await writer.ready;
      const realSetTimeout = globalThis.setTimeout;
      let timers = 0;
      globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
        timers++;
        return realSetTimeout(...args);
      }) as typeof setTimeout;
      try {
        for (const f of FRAMES) await writer.write(f);
      } finally {
        globalThis.setTimeout = realSetTimeout;
      }
      expect(timers).toBeLessThanOrEqual(FRAMES.length / 100);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the end of the turn: everything pushed, then flushed (idle)
      const segments = out.length;
      expect(segments).toBeGreaterThan(0);
      await writer.close();
      await done;
      expect(out.length).toBe(segments); // nothing was left pending after the idle flush
    });
  }

  it('options are checked when the stream is made', () => {
    expect(() => createStream({ output: 'bytes' as 'frames' })).toThrow(RangeError);
    expect(() => createStream({ output: 'virtio', virtio: { size: 11 as 12 } })).toThrow(/size must be 10 or 12/);
    expect(() => createStream({ output: 'virtio', virtio: { csum: 'full' as 'none' } })).toThrow(/csum must be/);
    expect(() => createStream({ output: 'virtio', virtio: null as unknown as VirtioNetHeaderOptions })).toThrow(
      /virtio must be an object .*got null/,
    );
  });

  it('a bad chunk errors the stream: a FrameBatch with a time missing, a bad frame in it', async () => {
    for (const bad of [{ frames: [FRAMES[0], FRAMES[1]], timesUs: [0] }, { frames: [FRAMES[0], 'x'] }, { data: FRAMES[0], timeUs: -1 }]) {
      const stream = createStream({ output: 'frames' });
      const writer = stream.writable.getWriter();
      await expect(writer.write(bad as StreamInput)).rejects.toThrow(bad.frames?.length === 2 && !bad.timesUs ? TypeError : RangeError);
    }
  });

  it('Node Duplex with output frames', async () => {
    const duplex = createNodeStream({ output: 'frames', clockUs: () => 0 });
    const out: Uint8Array[] = [];
    duplex.on('data', (f: Uint8Array) => out.push(f));
    const ended = new Promise((resolve) => duplex.on('end', resolve));
    for (const f of FRAMES) duplex.write(f);
    duplex.end();
    await ended;
    expectSameByteLists(
      out,
      (await reference('wasm', () => 0)).map((p) => p.data),
    );
  });
});
