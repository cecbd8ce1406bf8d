// The library surface (CONTRACT §7): options, batches, sinks, close, streams.
import { describe, expect, it } from 'vitest';
import { createEngine, createStream, type EngineOptions, type Packet } from '../bindings/index.js';
import { createNodeStream } from '../bindings/node.js';
import { tcpFrame, udpFrame } from '../bindings/packet/index.js';
import { runEngine, timed, type Step } from './helpers/engines.js';
import { checkInvariants } from './helpers/invariants.js';
import { expectSamePackets } from './helpers/bytes.js';

const MSS = 1448;
const bulk = (n: number, spec = {}) => Array.from({ length: n }, (_, i) => tcpFrame({ ...spec, seq: 1000 + i * MSS, payload: MSS }));

/** Four interleaved flows with losses, pure ACKs and noise, deterministic. */
function mixedSteps(count: number): Step[] {
  const steps: Step[] = [];
  const seq = [1, 2, 3, 4].map(() => 5000);
  for (let i = 0; i < count; i++) {
    const f = (i * 7) % 4;
    let frame: Uint8Array;
    if (i % 23 === 0) frame = udpFrame({ payload: 50 });
    else if (i % 17 === 0) frame = tcpFrame({ sport: 4000 + f, seq: seq[f] });
    else {
      frame = tcpFrame({ sport: 4000 + f, seq: seq[f], payload: i % 31 === 0 ? 300 : MSS, ipVersion: f === 3 ? 6 : 4 });
      seq[f] += i % 31 === 0 ? 300 : MSS;
      if (i % 41 === 0) seq[f] += MSS; // a loss
    }
    steps.push({ frame, t: i * 3 });
  }
  return steps;
}

describe('options', () => {
  const bad: Array<[EngineOptions, string]> = [
    [{ maxFlows: 0 }, 'maxFlows'],
    [{ maxFlows: 1.5 }, 'maxFlows'],
    [{ maxAggregate: 70000 }, 'maxAggregate'],
    [{ mtu: 2000, maxAggregate: 1500 }, 'maxAggregate'],
    [{ mtu: 10 }, 'mtu'],
    [{ threshold: -1 }, 'threshold'],
    [{ threshold: 70000 }, 'threshold'],
    [{ aggregateTimeoutUs: 0 }, 'aggregateTimeoutUs'],
    [{ idleTimeoutMs: 0 }, 'idleTimeoutMs'],
    [{ preset: 'linux' as never }, 'preset'],
    [{ engine: 'c' as never }, 'engine'],
    [{ verifyChecksums: 1 as never }, 'verifyChecksums'],
    [{ hashSeed: -1 }, 'hashSeed'],
    [{ linkType: 105 }, 'linkType'],
    [{ maxFlow: 3 } as never, 'maxFlow'],
    [{ ringBytes: 1024 }, 'ringBytes'],
    [{ ringBytes: 2 ** 31 + 8 }, 'ringBytes'],
  ];
  for (const [options, name] of bad) {
    it(`rejects ${JSON.stringify(options)} with a RangeError naming ${name}`, async () => {
      await expect(createEngine(options)).rejects.toThrow(RangeError);
      await expect(createEngine(options)).rejects.toThrow(name);
    });
  }

  it('fills documented defaults', async () => {
    const e = await createEngine({});
    expect(e.options).toMatchObject({
      engine: 'wasm',
      preset: 'gro',
      maxFlows: 1024,
      maxAggregate: 65535,
      mtu: 1500,
      threshold: 64035,
      aggregateTimeoutUs: 1000,
      idleTimeoutMs: 10000,
      verifyChecksums: true,
      fixChecksums: true,
      linkType: 1,
    });
    expect(Number.isInteger(e.options.hashSeed)).toBe(true);
  });

  it('refuses memory it cannot have', async () => {
    // 2^24 flow records (2 GiB) and a 2 GiB ring: more than a WebAssembly memory holds.
    await expect(createEngine({ maxFlows: 2 ** 24, ringBytes: 2 ** 31 })).rejects.toThrow(/ringBytes/);
  });
});

describe('batches and sinks', () => {
  it('split batches == one batch == one frame at a time, on both engines', async () => {
    const steps = mixedSteps(3000);
    const reference = await runEngine('ts', {}, steps);
    checkInvariants(steps, reference.packets, { aggregateTimeoutUs: 1000 });
    for (const engine of ['wasm', 'ts'] as const) {
      for (const batch of [0, 1, 7, 64, 1024, 5000]) {
        const run = await runEngine(engine, {}, steps, { batch });
        expectSamePackets(run.packets, reference.packets, 1, `${engine} batch ${batch}`);
      }
    }
  });

  it('a batch larger than the staging area (1 MiB) is split transparently', async () => {
    const frames = bulk(2000);
    const e = await createEngine({});
    e.pushBatch(
      frames,
      frames.map((_, i) => i),
    );
    e.close();
    const packets = e.drain();
    expect(packets.reduce((n, p) => n + p.segments, 0)).toBe(2000);
  });

  it('pushStaged: frames written into the staging area == pushBatch, on both engines', async () => {
    const steps = mixedSteps(1500).filter((s): s is { frame: Uint8Array; t: number } => 'frame' in s);
    const reference = await runEngine('ts', {}, steps);
    for (const kind of ['wasm', 'ts'] as const) {
      const e = await createEngine({ engine: kind, hashSeed: 12345 });
      const area = e.stagingArea();
      const out: Packet[] = [];
      for (let i = 0; i < steps.length; ) {
        const offsets: number[] = [];
        const lengths: number[] = [];
        const times: number[] = [];
        for (let used = 0; i < steps.length && used + steps[i].frame.length <= area.length; i++) {
          area.set(steps[i].frame, used);
          offsets.push(used);
          lengths.push(steps[i].frame.length);
          times.push(steps[i].t);
          used += steps[i].frame.length + 3; // odd gaps: frames need no alignment
        }
        e.pushStaged(offsets, lengths, times);
        out.push(...e.drain());
      }
      e.close();
      out.push(...e.drain());
      expectSamePackets(out, reference.packets, 1, kind);
    }
  });

  it('pushStaged refuses frames outside the staging area', async () => {
    for (const kind of ['wasm', 'ts'] as const) {
      const e = await createEngine({ engine: kind });
      const size = e.stagingArea().length;
      expect(size).toBe(1 << 20);
      expect(() => e.pushStaged([size - 10], [11], [0])).toThrow(RangeError);
      expect(() => e.pushStaged([-1], [5], [0])).toThrow(RangeError);
      expect(() => e.pushStaged([0, 1], [5], [0])).toThrow(RangeError);
    }
  });

  it('setSink hands out views during the call; drain() then stays empty', async () => {
    const e = await createEngine({});
    const seen: Array<[number, string]> = [];
    e.setSink((data, meta) => seen.push([data.length, meta.reason]));
    for (const [i, f] of bulk(50).entries()) e.push(f, i);
    e.close();
    expect(seen).toEqual([
      [14 + 40 + 45 * MSS, 'threshold'],
      [14 + 40 + 5 * MSS, 'close'],
    ]);
    expect(e.drain()).toEqual([]);
  });

  it('drained packets own their bytes', async () => {
    const e = await createEngine({});
    const frames = bulk(3);
    frames.forEach((f, i) => {
      e.push(f, i);
    });
    e.flush();
    const [first] = e.drain();
    const copy = Buffer.from(first.data);
    for (const [i, f] of bulk(3, { sport: 9 }).entries()) e.push(f, 10 + i);
    e.flush();
    e.drain();
    expect(Buffer.from(first.data).equals(copy)).toBe(true);
  });

  it('close() sends everything, then the engine refuses more input', async () => {
    const e = await createEngine({});
    for (const [i, f] of bulk(3).entries()) e.push(f, i);
    e.close();
    expect(e.drain().map((p) => p.reason)).toEqual(['close']);
    expect(() => e.push(bulk(1)[0], 5)).toThrow(/closed/);
    e.close();
  });

  it('misuse throws a TypeError, bad bytes never do', async () => {
    const e = await createEngine({});
    expect(() => e.push('frame' as never, 0)).toThrow(TypeError);
    expect(() => e.pushBatch([new Uint8Array(1)], [])).toThrow(RangeError);
    e.push(new Uint8Array(300_000).fill(0x45), 1);
    expect(e.drain()).toHaveLength(1);
  });

  it('the WASM memory never grows', async () => {
    const e = await createEngine({ maxFlows: 16 });
    const wasm = e as unknown as { memoryBytes(): number };
    const before = wasm.memoryBytes();
    const steps = mixedSteps(5000);
    for (const s of steps) if ('frame' in s) e.push(s.frame, s.t);
    e.close();
    expect(wasm.memoryBytes()).toBe(before);
  });
});

async function collect(readable: ReadableStream<Packet>): Promise<Packet[]> {
  const out: Packet[] = [];
  for await (const p of readable as unknown as AsyncIterable<Packet>) out.push(p);
  return out;
}

describe('a sink that throws', () => {
  it('the call completes, both engines stay identical, and the first error is rethrown', async () => {
    const a = bulk(10);
    const b = bulk(10, { sport: 2 });
    const frames = a.flatMap((f, i) => (i % 3 === 2 ? [f, b[i]] : [f])); // evictions: one buffer, two flows
    const results: string[][] = [];
    for (const engine of ['wasm', 'ts'] as const) {
      const e = await createEngine({ engine, maxFlows: 2, maxPending: 1, hashSeed: 1 });
      const seen: string[] = [];
      let throws = 2;
      e.setSink((_data, meta) => {
        seen.push(`${meta.segments}:${meta.reason}`);
        if (throws-- > 0) throw new Error(`sink ${throws}`);
      });
      for (const [i, f] of frames.entries()) {
        try {
          e.push(f, i);
        } catch (err) {
          seen.push(`threw ${(err as Error).message}`);
        }
      }
      e.close();
      results.push(seen);
      expect(seen.filter((x) => x.startsWith('threw'))).toEqual(['threw sink 1', 'threw sink 0']);
      expect(e.stats().packetsOut).toBe(seen.length - 2);
    }
    expect(results[0]).toEqual(results[1]);
  });
});

describe('streams', () => {
  it('createStream: timed frames in, packets out, everything on close', async () => {
    const stream = createStream({ hashSeed: 1 });
    const writer = stream.writable.getWriter();
    const done = collect(stream.readable);
    for (const [i, f] of bulk(100).entries()) await writer.write({ data: f, timeUs: i });
    await writer.close();
    const packets = await done;
    expect(packets.map((p) => `${p.segments}:${p.reason}`)).toEqual(['45:threshold', '45:threshold', '10:close']);
  });

  it('real timers send an aggregate at its AgTimer deadline', async () => {
    const stream = createStream({ aggregateTimeoutUs: 20_000 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const start = performance.now();
    for (const f of bulk(3)) await writer.write(f);
    const { value } = await reader.read();
    expect(value!.reason).toBe('ag-timer');
    expect(value!.segments).toBe(3);
    expect(performance.now() - start).toBeGreaterThanOrEqual(15);
    await writer.close();
  });

  it('flushWhenIdle sends pending aggregates once input stops', async () => {
    const stream = createStream({ flushWhenIdle: true, aggregateTimeoutUs: 10_000_000 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    for (const f of bulk(3)) await writer.write(f);
    const { value } = await reader.read();
    expect(value!.reason).toBe('flush');
    await writer.close();
  });

  // Timers fire outside any stream call: after a cancel, a destroy or an error they must stop
  // quietly (an enqueue on a closed stream would be an uncaught exception: vitest fails the run).
  /** Wait `ms`; the uncaught exceptions and unhandled rejections meanwhile (there must be none). */
  const quietFor = async (ms: number): Promise<unknown[]> => {
    const thrown: unknown[] = [];
    const record = (err: unknown) => thrown.push(err);
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    await new Promise((resolve) => setTimeout(resolve, ms));
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
    return thrown;
  };

  it('cancelling the readable side with an aggregate pending stops the timers', async () => {
    const stream = createStream({ aggregateTimeoutUs: 5_000 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    for (const f of bulk(3)) await writer.write(f);
    await reader.cancel('done');
    await expect(writer.write(bulk(1)[0])).rejects.toBe('done');
    expect(await quietFor(30)).toEqual([]);
  });

  it('a bad chunk errors the stream, and the idle flush does not fire afterwards', async () => {
    const stream = createStream({ flushWhenIdle: true });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    await writer.write(bulk(1)[0]);
    await expect(writer.write({ data: 'oops' } as unknown as Uint8Array)).rejects.toThrow(TypeError);
    expect(await quietFor(30)).toEqual([]);
    await expect(reader.read()).rejects.toThrow(TypeError);
  });

  it('destroying a Node stream with an aggregate pending stops the timers', async () => {
    const duplex = createNodeStream({ aggregateTimeoutUs: 5_000 });
    const closed = new Promise((resolve) => duplex.on('close', resolve));
    duplex.on('error', () => {});
    for (const f of bulk(3)) duplex.write(f);
    await new Promise((resolve) => setTimeout(resolve, 1));
    duplex.destroy();
    await closed;
    expect(await quietFor(30)).toEqual([]);
  });

  it('a bad chunk among writes a Node stream batches errors the Duplex, never the process', async () => {
    // Writes made while one is in flight reach the stream together (Node's writev); in Node 20's
    // Duplex.fromWeb a failed batch threw "error.filter is not a function": an unhandled rejection.
    const duplex = createNodeStream({});
    const errors: unknown[] = [];
    duplex.on('error', (err) => errors.push(err));
    const closed = new Promise((resolve) => duplex.on('close', resolve));
    duplex.resume();
    const [a, b] = bulk(2);
    const noise = quietFor(30);
    duplex.write(a);
    duplex.write(b);
    duplex.write({ data: 'oops' });
    await closed;
    expect(await noise).toEqual([]);
    expect(errors).toEqual([expect.any(TypeError)]);
  });

  it('a timer never moves the engine clock past the stream clock', async () => {
    let now = 0; // the stream's clock, moved by hand
    const stream = createStream({ aggregateTimeoutUs: 1000, clockUs: () => now });
    const writer = stream.writable.getWriter();
    const done = collect(stream.readable);
    const [a, b] = bulk(2);
    await writer.write({ data: a, timeUs: 0 });
    now = 500;
    await new Promise((resolve) => setTimeout(resolve, 5)); // real time passes; the stream clock does not reach 1000
    await writer.write({ data: b, timeUs: 600 });
    await writer.close();
    // Still one aggregate: the AgTimer (deadline 1000) had not come due on the stream clock.
    expect((await done).map((p) => `${p.segments}:${p.reason}`)).toEqual(['2:close']);
  });

  it('live traffic with real timers firing between writes keeps every invariant (both engines, with and without flushWhenIdle)', async () => {
    const frames = mixedSteps(300).flatMap((s) => ('frame' in s ? [s.frame] : []));
    for (const engine of ['wasm', 'ts'] as const) {
      for (const flushWhenIdle of [false, true]) {
        const stream = createStream({ engine, flushWhenIdle, aggregateTimeoutUs: 2_000, idleTimeoutMs: 4 });
        const writer = stream.writable.getWriter();
        const done = collect(stream.readable);
        const steps: Step[] = [];
        for (const [i, frame] of frames.entries()) {
          const t = performance.now() * 1000; // the stream's own clock, as a live source stamps frames
          steps.push({ frame, t });
          await writer.write({ data: frame, timeUs: t });
          if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 3)); // deadlines pass meanwhile
        }
        await writer.close();
        const packets = await done;
        const what = `${engine}, flushWhenIdle ${flushWhenIdle}`;
        checkInvariants(steps, packets, { aggregateTimeoutUs: 2_000 });
        const reasons = new Set(packets.map((p) => p.reason));
        expect(reasons.has(flushWhenIdle ? 'flush' : 'ag-timer'), what).toBe(true);
      }
    }
  });

  it('Node stream interop', async () => {
    const duplex = createNodeStream({});
    const out: Packet[] = [];
    duplex.on('data', (p: Packet) => out.push(p));
    const ended = new Promise((resolve) => duplex.on('end', resolve));
    for (const [i, f] of bulk(50).entries()) duplex.write({ data: f, timeUs: i });
    duplex.end();
    await ended;
    expect(out.reduce((n, p) => n + p.segments, 0)).toBe(50);
  });
});

describe('timed helper', () => {
  it('keeps invariants on mixed traffic with both presets', async () => {
    for (const preset of ['gro', 'seed'] as const) {
      const steps = mixedSteps(2000);
      const run = await runEngine('wasm', { preset }, steps);
      checkInvariants(steps, run.packets, { aggregateTimeoutUs: 1000 });
      expect(run.stats.packetsIn).toBe(2000);
    }
    expect(timed([new Uint8Array(1)], 5)).toEqual([{ frame: new Uint8Array(1), t: 5 }]);
  });
});
