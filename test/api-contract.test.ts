// The library surface's contract (CONTRACT §7 "Calls"): what a call accepts, what it refuses and
// how (nothing counted, nothing changed), re-entrancy from a sink, setSink, frames that alias the
// staging area, pushFrom, close(), the stream's timers, drain() and drainViews(). Each rule on both
// engines where it applies.
import { describe, expect, it } from 'vitest';
import { createEngine, createStream, type Engine, type EngineKind, type Packet } from '../bindings/index.js';
import { tcpFrame, udpFrame } from '../bindings/packet/index.js';
import { generateTraffic } from '../bindings/traffic/generate.js';
import { ringCost } from '../bindings/abi.js';
import { TwinCore } from '../bindings/twin/engine.js';
import { Ring } from '../bindings/twin/ring.js';
import { expectSamePackets, framesInBuffer } from './helpers/bytes.js';

const KINDS: readonly EngineKind[] = ['wasm', 'ts'];
const MSS = 1448;
const bulk = (n: number, spec = {}) => Array.from({ length: n }, (_, i) => tcpFrame({ ...spec, seq: 1000 + i * MSS, payload: MSS }));

/** The same engine state, as far as a caller can see it. */
function observe(e: Engine) {
  return { stats: e.stats(), nextDeadline: e.nextDeadline(), firstPendingIndex: e.firstPendingIndex() };
}

/**
 * `refused(e)` throws `type` with a message matching `message`, and leaves no trace: the same
 * stats, deadline and pending index right after, and the same packets out of the rest of the run
 * as an engine that never saw the call.
 */
async function expectRefusedWithoutTrace(
  kind: EngineKind,
  refused: (e: Engine) => void,
  type: typeof TypeError | typeof RangeError | typeof Error,
  message: RegExp,
): Promise<void> {
  const before = bulk(3);
  const after = bulk(4).slice(3);
  const run = async (withCall: boolean) => {
    const e = await createEngine({ engine: kind, hashSeed: 1 });
    before.forEach((f, i) => {
      e.push(f, 100 + i);
    });
    if (withCall) {
      const seen = observe(e);
      let error: unknown;
      try {
        refused(e);
      } catch (err) {
        error = err;
      }
      expect(error, 'the call was refused').toBeInstanceOf(type);
      if (type !== Error) expect((error as Error).constructor).toBe(type);
      expect((error as Error).message).toMatch(message);
      expect(observe(e)).toEqual(seen);
    }
    e.push(after[0], 200);
    e.close();
    return { packets: e.drain(), stats: e.stats() };
  };
  const reference = await run(false);
  const refusedRun = await run(true);
  expectSamePackets(refusedRun.packets, reference.packets, 1, `${kind}: after the refused call`);
  expect(refusedRun.stats).toEqual(reference.stats);
}

const RANGE_TIMES = [Number.NaN, Infinity, -Infinity, -1, -0.5, 2 ** 53, 2 ** 53 + 2, 1e300];
const TYPE_TIMES: unknown[] = ['5', {}, undefined, null, true, 5n, [5]];

describe.each(KINDS)('times (%s engine)', (kind) => {
  for (const t of RANGE_TIMES) {
    it(`push(frame, ${t}) is a RangeError naming timeUs, and leaves no trace`, async () => {
      await expectRefusedWithoutTrace(kind, (e) => e.push(bulk(1)[0], t), RangeError, /timeUs/);
    });
    it(`advance(${t}) is a RangeError naming timeUs, and leaves no trace`, async () => {
      await expectRefusedWithoutTrace(kind, (e) => e.advance(t), RangeError, /timeUs/);
    });
  }
  for (const t of TYPE_TIMES) {
    const name = typeof t === 'bigint' ? `${t}n` : (JSON.stringify(t) ?? String(t));
    it(`push(frame, ${name}) is a TypeError naming timeUs, and leaves no trace`, async () => {
      await expectRefusedWithoutTrace(kind, (e) => e.push(bulk(1)[0], t as number), TypeError, /timeUs/);
    });
    it(`advance(${name}) is a TypeError naming timeUs`, async () => {
      await expectRefusedWithoutTrace(kind, (e) => e.advance(t as number), TypeError, /timeUs/);
    });
  }

  it('pushBatch checks every time before pushing anything (the bad one last)', async () => {
    const frames = bulk(6, { sport: 7 });
    for (const bad of [Number.NaN, 2 ** 53, -1, 1e300]) {
      const times = Float64Array.from([300, 301, 302, 303, 304, bad]);
      await expectRefusedWithoutTrace(kind, (e) => e.pushBatch(frames, times), RangeError, /timeUs of frame 5/);
      await expectRefusedWithoutTrace(kind, (e) => e.pushBatch(frames, [...times]), RangeError, /timeUs of frame 5/);
    }
    const holey: number[] = new Array(6);
    for (let i = 0; i < 5; i++) holey[i] = 300 + i;
    await expectRefusedWithoutTrace(kind, (e) => e.pushBatch(frames, holey), TypeError, /timeUs of frame 5.*undefined/);
    await expectRefusedWithoutTrace(
      kind,
      (e) => e.pushBatch(frames, [300, 301, 302, 303, 304, '305'] as never),
      TypeError,
      /'305' \(a string\)/,
    );
  });

  it('pushStaged checks every time, offset and length before pushing anything', async () => {
    const frames = bulk(4, { sport: 7 });
    const stage = (e: Engine) => {
      const area = e.stagingArea();
      frames.forEach((f, i) => {
        area.set(f, i * 2000);
      });
    };
    const offsets = [0, 2000, 4000, 6000];
    const lengths = frames.map((f) => f.length);
    const call = (o: unknown[], l: unknown[], t: unknown[]) => (e: Engine) => {
      stage(e);
      e.pushStaged(o as number[], l as number[], t as number[]);
    };
    await expectRefusedWithoutTrace(kind, call(offsets, lengths, [300, 301, 302, Number.NaN]), RangeError, /timeUs of frame 3/);
    await expectRefusedWithoutTrace(kind, call(offsets, lengths, [300, 301, 302, '303']), TypeError, /timeUs of frame 3/);
    await expectRefusedWithoutTrace(
      kind,
      call(['0', 2000, 4000, 6000], lengths, [300, 301, 302, 303]),
      TypeError,
      /offset.*'0' \(a string\)/,
    );
    await expectRefusedWithoutTrace(kind, call(offsets, [...lengths.slice(0, 3), '60'], [300, 301, 302, 303]), TypeError, /length.*'60'/);
    await expectRefusedWithoutTrace(kind, call(offsets, [...lengths.slice(0, 3), 1 << 21], [300, 301, 302, 303]), RangeError, /frame 3/);
  });

  it('the whole range [0, 2^53) is taken: fractions are floored, 2^53 − 1 is the last time', async () => {
    const e = await createEngine({ engine: kind });
    e.push(bulk(1)[0], 0);
    e.push(udpFrame({ payload: 10 }), 0.5);
    e.advance(2 ** 53 - 1);
    e.push(udpFrame({ payload: 10 }), 2 ** 53 - 1);
    expect(e.drain().map((p) => [p.reason, p.timeUs])).toEqual([
      ['pass-through', 0],
      ['ag-timer', 1000],
      ['pass-through', 2 ** 53 - 1],
    ]);
    expect(e.stats().clockClamped).toBe(0);
  });

  it('a refused time ≥ 2^53 does not stop aggregation afterwards', async () => {
    const e = await createEngine({ engine: kind });
    expect(() => e.push(udpFrame({ payload: 10 }), 2 ** 53)).toThrow(RangeError);
    bulk(10).forEach((f, i) => {
      e.push(f, 10 + i);
    });
    e.flush();
    expect(e.drain().map((p) => `${p.segments}:${p.reason}`)).toEqual(['10:flush']);
  });
});

describe.each(KINDS)('setSink, close, detached buffers (%s engine)', (kind) => {
  for (const bad of [42, undefined, 'sink', {}]) {
    it(`setSink(${JSON.stringify(bad) ?? 'undefined'}) is a TypeError at once, and the next push loses nothing`, async () => {
      const e = await createEngine({ engine: kind });
      expect(() => e.setSink(bad as never)).toThrow(TypeError);
      expect(() => e.setSink(bad as never)).toThrow(/function or null/);
      e.push(udpFrame({ payload: 10 }), 0);
      expect(e.drain()).toHaveLength(1);
    });
  }

  it('after close() every mutating call throws "engine is closed"; a second close() is a no-op; nextDeadline() is Infinity', async () => {
    const e = await createEngine({ engine: kind });
    bulk(3).forEach((f, i) => {
      e.push(f, i);
    });
    expect(e.nextDeadline()).toBe(1000);
    e.close();
    expect(e.drain().map((p) => p.reason)).toEqual(['close']);
    const stats = e.stats();
    const frame = bulk(1)[0];
    const calls: Array<[string, () => void]> = [
      ['push', () => e.push(frame, 5)],
      ['pushBatch', () => e.pushBatch([frame], [5])],
      ['pushStaged', () => e.pushStaged([0], [60], [5])],
      ['advance', () => e.advance(5)],
      ['flush', () => e.flush()],
    ];
    for (const [name, call] of calls) expect(call, name).toThrow(/^engine is closed/);
    e.close();
    expect(e.drain()).toEqual([]);
    expect(e.stats()).toEqual(stats);
    expect(e.nextDeadline()).toBe(Infinity);
    expect(e.firstPendingIndex()).toBe(3);
  });

  it('a view of a detached ArrayBuffer is a TypeError (push, pushBatch), and leaves no trace', async () => {
    const detached = () => {
      const f = udpFrame({ payload: 10 });
      structuredClone(f.buffer, { transfer: [f.buffer] });
      expect(f.length).toBe(0);
      return f;
    };
    await expectRefusedWithoutTrace(kind, (e) => e.push(detached(), 300), TypeError, /detached/);
    await expectRefusedWithoutTrace(
      kind,
      (e) => e.pushBatch([udpFrame({ payload: 1 }), detached()], [300, 301]),
      TypeError,
      /frame 1.*detached/,
    );
    // An empty frame of a live buffer is a frame like any other: it passes through.
    const e = await createEngine({ engine: kind });
    e.push(new Uint8Array(0), 0);
    expect(e.drain().map((p) => [p.reason, p.data.length])).toEqual([['pass-through', 0]]);
  });
});

describe('createEngine options', () => {
  for (const options of [null, 5, [], 'gro', true]) {
    it(`createEngine(${JSON.stringify(options)}) is a TypeError: options must be an object`, async () => {
      await expect(createEngine(options as never)).rejects.toThrow(TypeError);
      await expect(createEngine(options as never)).rejects.toThrow(/options must be an object/);
    });
  }

  it("a number option given as a string names its type: maxFlows: '10'", async () => {
    await expect(createEngine({ maxFlows: '10' as never })).rejects.toThrow(/option maxFlows .*got '10' \(a string\)/);
    await expect(createEngine({ verifyChecksums: 'yes' as never })).rejects.toThrow(/got 'yes' \(a string\)/);
    await expect(createEngine({ engine: 1 as never })).rejects.toThrow(/option engine .*got 1$/);
  });

  it('ringBytes 2^31, the top of its range, makes a working engine on both; a frame held at the end of such a ring moves its head to the end', async () => {
    for (const kind of KINDS) {
      const e = await createEngine({ engine: kind, ringBytes: 2 ** 31, maxFlows: 4 });
      e.pushBatch(
        bulk(50),
        bulk(50).map((_, i) => i),
      );
      e.close();
      expect(
        e.drain().map((p) => `${p.segments}:${p.reason}`),
        kind,
      ).toEqual(['45:threshold', '5:close']);
    }
    // Offsets past 2^31 - 8 in the twin's ring (u32 in the core, 32-bit in JS bit arithmetic).
    const ring = new Ring(2 ** 31);
    ring.ringHold(2 ** 31 - 1514, 1510);
    expect(ring.head).toBe(2 ** 31);
  });
});

describe.each(KINDS)('not re-entrant (%s engine)', (kind) => {
  const data = bulk(50, { sport: 5 }); // one threshold aggregate (45) on the way, five pending
  const dataTimes = data.map((_, i) => i);
  const ack = tcpFrame({ sport: 5, seq: 1000 + 50 * MSS, ack: 77 }); // a pure ACK of that connection
  const run = async (reenter: ((e: Engine) => void) | null) => {
    const e = await createEngine({ engine: kind, hashSeed: 3 });
    const seen: string[] = [];
    const errors: string[] = [];
    const reads: unknown[] = [];
    e.setSink((bytes, meta) => {
      seen.push(`${meta.inputIndex}:${meta.segments}:${meta.reason}:${bytes.length}:${Buffer.from(bytes).toString('hex', 0, 60)}`);
      if (reenter === null) return;
      reads.push(e.stats().packetsOut, e.nextDeadline(), e.firstPendingIndex(), e.stagingArea().length);
      try {
        reenter(e);
        errors.push('accepted');
      } catch (err) {
        errors.push(`${(err as Error).constructor.name}: ${(err as Error).message}`);
      }
    });
    e.pushBatch(data, dataTimes);
    e.push(udpFrame({ payload: 20 }), 60);
    e.close();
    return { seen, errors, reads, stats: e.stats() };
  };
  const calls: Array<[string, (e: Engine) => void]> = [
    ['push', (e) => e.push(ack, 55)],
    ['pushBatch', (e) => e.pushBatch([ack], [55])],
    ['pushStaged', (e) => e.pushStaged([0], [60], [55])],
    ['advance', (e) => e.advance(10_000)],
    ['flush', (e) => e.flush()],
    ['close', (e) => e.close()],
  ];
  for (const [name, call] of calls) {
    it(`${name}() from inside a sink throws "engine is busy: …" and changes nothing; reads stay allowed`, async () => {
      const reference = await run(null);
      const r = await run(call);
      expect(r.errors.length).toBe(reference.seen.length);
      for (const err of r.errors) expect(err).toMatch(new RegExp(`^Error: engine is busy: ${name}\\(\\)`));
      expect(r.seen).toEqual(reference.seen);
      expect(r.stats).toEqual(reference.stats);
      expect(r.reads.every((x) => typeof x === 'number')).toBe(true);
    });
  }

  it('a sink that lets the error out: the call completes, then throws it', async () => {
    const e = await createEngine({ engine: kind });
    let inner = 0;
    e.setSink(() => {
      inner++;
      e.push(ack, 0);
    });
    expect(() => e.pushBatch(data, dataTimes)).toThrow(/^engine is busy: push\(\)/);
    expect(inner).toBe(1);
    e.setSink(null);
    e.close();
    const packets = e.drain();
    expect(packets.map((p) => `${p.segments}:${p.reason}`)).toEqual(['5:close']);
    expect(e.stats().packetsIn).toBe(50);
  });
});

describe("the twin's send() clears its state before the packet goes out", () => {
  it('a core re-entered from its emitter (below the engines, which refuse it) keeps its buffers consistent', () => {
    const options = {
      preset: 'gro',
      maxFlows: 2,
      maxPending: 2,
      maxAggregate: 65535,
      ringBytes: 1 << 20,
      threshold: 65535 - 1500,
      aggregateTimeoutUs: 1000,
      idleTimeoutMs: 10_000,
      verifyChecksums: true,
      fixChecksums: true,
      hashSeed: 1,
      linkType: 1,
    };
    const frames = bulk(8, { sport: 9 });
    const out: number[] = [];
    let reentered = false;
    // Stage a frame in the core's ring, as the engines do, and push it from there.
    const push = (frame: Uint8Array, t: number) => {
      core.ringMakeRoom(ringCost(frame.length), t);
      const at = core.ringReserve(frame.length);
      core.ring.bytes.set(frame, at);
      core.push(core.ring.bytes.subarray(at, at + frame.length), t, at);
    };
    const core: TwinCore = new TwinCore(options, {
      aggregate: (_bytes, _start, length) => {
        out.push(length);
        if (!reentered) {
          reentered = true;
          push(frames[4], 4); // the flow's next segment, from inside the emitter
        }
      },
      input: () => out.push(-1),
    });
    for (let i = 0; i < 4; i++) push(frames[i], i);
    core.flushAll(17);
    for (let i = 5; i < 8; i++) push(frames[i], i);
    core.flushAll(17);
    // Four segments; the fifth (pushed from the emitter) alone, sent by the same flushAll; then three.
    const one = frames[0].length;
    expect(out).toEqual([one + 3 * MSS, one, one + 2 * MSS]);
  });
});

/** Packets out of `frames` pushed as copies (pushBatch, drained): what any way of handing them over must give. */
async function referenceRun(kind: EngineKind, frames: Uint8Array[], times: number[]) {
  const e = await createEngine({ engine: kind, hashSeed: 5 });
  e.pushBatch(
    frames.map((f) => f.slice()),
    times,
  );
  e.close();
  return e.drain();
}

/** Packets of a run with a sink, copied as they come. */
function collectSink(e: Engine, onPacket: () => void = () => {}) {
  const out: Packet[] = [];
  e.setSink((data, meta) => {
    out.push({ ...meta, data: data.slice() });
    onPacket();
  });
  return out;
}

/** Mixed frames: two bulk flows, pure ACKs, UDP, a frame too large to stage whole (> 128 KiB). */
function mixedFrames(count: number): { frames: Uint8Array[]; times: number[] } {
  const frames: Uint8Array[] = [];
  const seq = [1000, 1000];
  for (let i = 0; i < count; i++) {
    const f = i % 2;
    if (i % 11 === 5) frames.push(udpFrame({ payload: 30 + (i % 50) }));
    else if (i % 13 === 7) frames.push(tcpFrame({ sport: 10 + f, seq: seq[f], ack: 5 }));
    else {
      frames.push(tcpFrame({ sport: 10 + f, seq: seq[f], payload: i % 29 === 0 ? 100 : MSS }));
      seq[f] += i % 29 === 0 ? 100 : MSS;
    }
  }
  frames[Math.floor(count / 2)] = new Uint8Array(140_000).fill(0x45);
  return { frames, times: frames.map((_, i) => i * 7) };
}

describe.each(KINDS)('frames that alias the staging area; bytes read when pushed (%s engine)', (kind) => {
  it('push and pushBatch of views into stagingArea(): output == input, with a sink and with drain()', async () => {
    const { frames, times } = mixedFrames(300);
    frames.splice(150, 1); // the staging area holds 1 MiB: keep the views inside it
    times.pop();
    const reference = await referenceRun(kind, frames, times);
    for (const delivery of ['sink', 'drain'] as const) {
      for (const mode of ['batch', 'push'] as const) {
        const e = await createEngine({ engine: kind, hashSeed: 5 });
        const out = delivery === 'sink' ? collectSink(e) : [];
        const area = e.stagingArea();
        // Frames laid out in the area with odd gaps, from a little past its start: staging the first
        // ones writes over later ones unless the engine takes care.
        const views: Uint8Array[] = [];
        let at = 37;
        for (const f of frames) {
          area.set(f, at);
          views.push(area.subarray(at, at + f.length));
          at += f.length + 5;
        }
        if (mode === 'batch') e.pushBatch(views, times);
        else {
          for (const [i, v] of views.entries()) e.push(v, times[i]);
        }
        if (delivery === 'drain') out.push(...e.drain());
        e.close();
        out.push(...e.drain());
        expectSamePackets(out, reference, 1, `${kind} ${mode} ${delivery}`);
      }
    }
  });

  it('changing frames from inside the sink changes nothing: push, pushBatch (one staging chunk and several)', async () => {
    for (const count of [300, 2500]) {
      const { frames, times } = mixedFrames(count);
      const reference = await referenceRun(kind, frames, times);
      for (const mode of ['batch', 'push'] as const) {
        const mine = frames.map((f) => f.slice());
        const e = await createEngine({ engine: kind, hashSeed: 5 });
        // Every packet out: scribble over every frame handed in so far (the one in hand included).
        let handed = 0;
        const out = collectSink(e, () => {
          for (let i = 0; i < handed; i++) mine[i].fill(0xa5);
        });
        if (mode === 'batch') {
          handed = mine.length;
          e.pushBatch(mine, times);
        } else {
          mine.forEach((f, i) => {
            handed = i + 1;
            e.push(f, times[i]);
          });
        }
        e.close();
        expectSamePackets(out, reference, 1, `${kind} ${mode} ${count}`);
      }
    }
  });

  it('changing frames from inside the sink changes nothing when held aggregates are sent to make room before a chunk (or a pushed frame) is staged', async () => {
    // 300 flows whose segments stay held in a 1 MiB ring: each call's first chunk needs room that
    // only sending the oldest held aggregates (capacity) gives, before any of its frames is staged.
    const flows = 300;
    const batches: Uint8Array[][] = [];
    const seq = new Array<number>(flows).fill(1000);
    for (let b = 0; b < 4; b++) {
      const batch: Uint8Array[] = [];
      for (let i = 0; i < 2 * flows; i++) {
        const f = (i * 7 + b) % flows;
        batch.push(tcpFrame({ sport: 1000 + f, seq: seq[f], payload: MSS }));
        seq[f] += MSS;
      }
      batches.push(batch);
    }
    const options = { engine: kind, hashSeed: 5, ringBytes: 2 ** 20, maxFlows: 512 } as const;
    const times = (b: number) => batches[b].map((_, i) => b * 100 + i * 0.01);
    const reference = await createEngine(options);
    for (const [b, batch] of batches.entries())
      reference.pushBatch(
        batch.map((f) => f.slice()),
        times(b),
      );
    reference.close();
    const expected = reference.drain();
    expect(expected.filter((p) => p.reason === 'capacity').length).toBeGreaterThan(0);
    for (const how of ['pushBatch', 'pushFrom', 'push'] as const) {
      const e = await createEngine(options);
      let mine: Uint8Array[] = [];
      const out = collectSink(e, () => {
        for (const f of mine) f.fill(0xa5);
      });
      for (const [b, batch] of batches.entries()) {
        if (how === 'push') {
          // One frame a call, a Node Buffer (whose slice() is a view, not a copy): the sink
          // scribbles over the frame in hand while room is made for it.
          const t = times(b);
          batch.forEach((f, i) => {
            mine = [Buffer.from(f)];
            e.push(mine[0], t[i]);
          });
        } else if (how === 'pushBatch') {
          mine = batch.map((f) => f.slice());
          e.pushBatch(mine, times(b));
        } else {
          // The frames back to back in one buffer, which the sink scribbles over.
          const { view, offsets, lengths } = framesInBuffer(batch, new ArrayBuffer(8 + batch.reduce((n, f) => n + f.length, 0)), () => 0);
          mine = [view];
          e.pushFrom(view, offsets, lengths, times(b));
        }
      }
      e.close();
      expectSamePackets(out, expected, 1, `${kind} ${how}`);
    }
  });

  it('Node Buffers: a frame over 128 KiB (kept whole) is the bytes it had when pushed, and drain() hands out bytes the caller owns', async () => {
    // Buffer.prototype.slice() is a view: the engine's whole copy must not be one.
    const reference = await referenceRun(kind, [new Uint8Array(140_000).fill(0x45)], [0]);
    for (const how of ['push', 'pushBatch', 'pushFrom'] as const) {
      for (const delivery of ['drain', 'sink'] as const) {
        const e = await createEngine({ engine: kind, hashSeed: 5 });
        const mine = Buffer.alloc(140_000, 0x45);
        const out = delivery === 'sink' ? collectSink(e, () => mine.fill(0xa5)) : [];
        if (how === 'push') e.push(mine, 0);
        else if (how === 'pushBatch') e.pushBatch([mine], [0]);
        else e.pushFrom(mine, [0], [mine.length], [0]);
        out.push(...e.drain());
        mine.fill(0x5a); // the caller reuses its buffer
        e.close();
        out.push(...e.drain());
        expectSamePackets(out, reference, 1, `${kind} ${how} ${delivery}`);
        expect(out[0].data.buffer === mine.buffer, `${kind} ${how} ${delivery}: the packet's bytes are not the caller's buffer`).toBe(
          false,
        );
      }
    }
  });

  it('changing timesUs or the frames array from inside the sink changes nothing', async () => {
    const { frames, times } = mixedFrames(2500);
    const reference = await referenceRun(kind, frames, times);
    const e = await createEngine({ engine: kind, hashSeed: 5 });
    const mine = frames.slice();
    const t = Float64Array.from(times);
    const out = collectSink(e, () => {
      t.fill(Number.NaN);
      mine.fill(new Uint8Array(0));
    });
    e.pushBatch(mine, t);
    e.close();
    expectSamePackets(out, reference, 1, kind);
  });
});

describe.each(KINDS)('pushFrom: frames from any buffer (%s engine)', (kind) => {
  /** The frames back to back in one buffer, a gap before each (a pcap record header), some out of order. */
  for (const shared of [false, true]) {
    it(`== pushBatch of the subarrays (${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'}; gaps, a jump back, > 1 MiB, a frame > 128 KiB; sink and drain)`, async () => {
      const { frames, times } = mixedFrames(1500);
      const size = frames.reduce((n, f) => n + f.length + 200, 8);
      const buffer = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
      const { view, offsets, lengths } = framesInBuffer(frames, buffer, (i) => (i % 100 === 0 ? 150 : 16));
      // Frame 10 read again from frame 3's place (a jump back), instead of its own.
      const order = frames.map((_, i) => i);
      order[10] = 3;
      const expected = await referenceRun(
        kind,
        order.map((i) => frames[i]),
        times,
      );
      for (const delivery of ['sink', 'drain'] as const) {
        const e = await createEngine({ engine: kind, hashSeed: 5 });
        const out = delivery === 'sink' ? collectSink(e) : [];
        e.pushFrom(
          view,
          order.map((i) => offsets[i]),
          order.map((i) => lengths[i]),
          Float64Array.from(times),
        );
        out.push(...e.drain());
        e.close();
        out.push(...e.drain());
        expectSamePackets(out, expected, 1, `${kind} ${delivery}`);
      }
    });
  }

  it('a view into stagingArea() itself, and a sink that scribbles over a view not yet read: output == input', async () => {
    const { frames, times } = mixedFrames(200);
    frames.splice(100, 1);
    times.pop();
    const expected = await referenceRun(kind, frames, times);
    const { view, offsets, lengths } = framesInBuffer(frames, new ArrayBuffer(400_000), () => 3);
    for (const where of ['staging area', 'own buffer'] as const) {
      const e = await createEngine({ engine: kind, hashSeed: 5 });
      let source: Uint8Array = view.slice();
      let out: Packet[];
      if (where === 'staging area') {
        const area = e.stagingArea();
        area.set(source.subarray(0, 300_000), 11);
        source = area.subarray(11, 300_011);
        out = collectSink(e); // (the staging area is the engine's during the call: no scribbling there)
      } else {
        out = collectSink(e, () => source.fill(0x5a));
      }
      e.pushFrom(source, offsets, lengths, times);
      e.close();
      expectSamePackets(out, expected, 1, `${kind} ${where}`);
    }
  });

  it('refuses like pushStaged: a frame outside the view (RangeError), a string offset (TypeError), after close, from a sink', async () => {
    const frames = bulk(3, { sport: 7 });
    const { view, offsets, lengths } = framesInBuffer(frames, new ArrayBuffer(10_000), () => 0);
    const pf = (o: unknown[], l: unknown[], t: unknown[]) => (e: Engine) => e.pushFrom(view, o as number[], l as number[], t as number[]);
    await expectRefusedWithoutTrace(
      kind,
      pf(offsets, [lengths[0], lengths[1], view.length], [300, 301, 302]),
      RangeError,
      /pushFrom: frame 2 .*outside the view/,
    );
    await expectRefusedWithoutTrace(kind, pf([-1, offsets[1], offsets[2]], lengths, [300, 301, 302]), RangeError, /frame 0/);
    await expectRefusedWithoutTrace(
      kind,
      pf(['0', offsets[1], offsets[2]], lengths, [300, 301, 302]),
      TypeError,
      /offset of frame 0.*'0' \(a string\)/,
    );
    await expectRefusedWithoutTrace(kind, pf(offsets, lengths, [300, 301, Number.NaN]), RangeError, /timeUs of frame 2/);
    await expectRefusedWithoutTrace(kind, pf(offsets, lengths, [300, 301]), RangeError, /differ in length/);
    await expectRefusedWithoutTrace(kind, (e) => e.pushFrom([1, 2] as never, [0], [1], [0]), TypeError, /view must be a Uint8Array/);
    const detached = udpFrame({ payload: 10 });
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    await expectRefusedWithoutTrace(kind, (e) => e.pushFrom(detached, [], [], []), TypeError, /detached/);
    const e = await createEngine({ engine: kind });
    const errors: string[] = [];
    e.setSink(() => {
      try {
        e.pushFrom(view, offsets, lengths, [0, 0, 0]);
      } catch (err) {
        errors.push((err as Error).message);
      }
    });
    e.push(udpFrame({ payload: 1 }), 0);
    expect(errors).toEqual([expect.stringMatching(/^engine is busy: pushFrom\(\)/)]);
    e.close();
    expect(() => e.pushFrom(view, offsets, lengths, [0, 0, 0])).toThrow(/^engine is closed/);
  });
});

describe('createStream timers', () => {
  /** Run `body` counting the stream clock's reads (each wake-up reads it) and the process warnings. */
  async function watch(body: (clockUs: () => number) => Promise<void>, clock: () => number) {
    let reads = 0;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      await body(() => {
        reads++;
        return clock();
      });
      const before = reads;
      await new Promise((resolve) => setTimeout(resolve, 60));
      return { wakeUps: reads - before, warnings };
    } finally {
      process.off('warning', onWarning);
    }
  }

  for (const engine of KINDS) {
    it(`idleTimeoutMs ≥ 2^31: no 1 ms spin, no TimeoutOverflowWarning (${engine})`, async () => {
      const t0 = performance.now() * 1000;
      let writer: WritableStreamDefaultWriter<Uint8Array | { data: Uint8Array; timeUs: number }> | undefined;
      const r = await watch(
        async (clockUs) => {
          const stream = createStream({ engine, idleTimeoutMs: 2 ** 32 - 1, aggregateTimeoutUs: 1000, clockUs });
          stream.readable.pipeTo(new WritableStream()).catch(() => {});
          writer = stream.writable.getWriter();
          await writer.write(bulk(1)[0]);
          await new Promise((resolve) => setTimeout(resolve, 20)); // the AgTimer fires; the DelTimer (~50 days) is left
        },
        () => performance.now() * 1000 - t0,
      );
      expect(r.warnings).toEqual([]);
      expect(r.wakeUps).toBeLessThanOrEqual(2);
      await writer?.abort();
    });

    it(`a frame timed ahead of the stream clock does not make it spin (${engine})`, async () => {
      let writer: WritableStreamDefaultWriter<Uint8Array | { data: Uint8Array; timeUs: number }> | undefined;
      const r = await watch(
        async (clockUs) => {
          const stream = createStream({ engine, aggregateTimeoutUs: 1000, clockUs });
          stream.readable.pipeTo(new WritableStream()).catch(() => {});
          writer = stream.writable.getWriter();
          await writer.write({ data: bulk(1)[0], timeUs: 10_000_000 }); // 10 s ahead of a clock standing at 0
        },
        () => 0,
      );
      expect(r.warnings).toEqual([]);
      expect(r.wakeUps).toBeLessThanOrEqual(2);
      await writer?.abort();
    });
  }
});

describe('drain() and drainViews() (CONTRACT §7)', () => {
  // Interleaved bulk flows with ACKs and handshakes: many packets, some calls sending over 1 MiB.
  const traffic = [...generateTraffic({ packets: 6000, flows: 16, seed: 3 })];
  const BATCH = 700;

  /** Push the traffic in batches, taking packets out after each call with `take`. */
  async function run(kind: EngineKind, take: (e: Engine, call: number) => Packet[]): Promise<Packet[][]> {
    const e = await createEngine({ engine: kind, hashSeed: 5 });
    const out: Packet[][] = [];
    let call = 0;
    for (let i = 0; i < traffic.length; i += BATCH) {
      const part = traffic.slice(i, i + BATCH);
      e.pushBatch(
        part.map((f) => f.data),
        part.map((f) => f.timeUs),
      );
      out.push(take(e, call++));
    }
    e.close();
    out.push(take(e, call));
    return out;
  }

  /** Owned copies of packets (bytes copied now). */
  const copied = (packets: Packet[]) => packets.map((p) => ({ ...p, data: p.data.slice() }));

  for (const kind of KINDS) {
    it(`${kind}: drainViews() gives drain()'s packets, valid until the next call that sends`, async () => {
      const owned = await run(kind, (e) => e.drain());
      const seenAtOnce: Packet[][] = [];
      const views = await run(kind, (e) => {
        const lent = e.drainViews();
        seenAtOnce.push(copied(lent));
        // Reading and draining again do not end the views.
        e.stats();
        expect(e.drainViews()).toEqual([]);
        expect(e.drain()).toEqual([]);
        expectSamePackets(lent, seenAtOnce[seenAtOnce.length - 1], 1, `${kind}: views after stats() and empty drains`);
        return lent;
      });
      expect(owned.flat().length).toBeGreaterThan(100);
      expectSamePackets(seenAtOnce.flat(), owned.flat(), 1, `${kind}: drainViews() vs drain()`);
      // drain()'s packets are the caller's: nothing later changed them.
      const again = await run(kind, (e) => copied(e.drain()));
      expectSamePackets(owned.flat(), again.flat(), 1, `${kind}: drain() packets kept across later calls`);
      // The views were lent: from the first drainViews() on, later calls reuse one buffer (grown at
      // most a few times), not one per packet.
      const later = views.slice(1).flat();
      expect(later.length).toBeGreaterThan(100);
      expect(new Set(later.map((p) => p.data.buffer)).size).toBeLessThanOrEqual(3);
    });

    it(`${kind}: drain() after drainViews() still hands out bytes the caller owns`, async () => {
      const reference = (await run(kind, (e) => e.drain())).flat();
      const kept: Packet[][] = [];
      await run(kind, (e, call) => {
        if (call % 2 === 0) return copied(e.drainViews());
        const mine = e.drain();
        kept.push(mine);
        return mine;
      });
      // Every drain()ed packet still holds its bytes after all the later calls.
      const keptFlat = kept.flat();
      expect(keptFlat.length).toBeGreaterThan(0);
      const byIndex = new Map(reference.map((p) => [`${p.inputIndex}:${p.data.length}:${p.reason}`, p]));
      for (const p of keptFlat) {
        const ref = byIndex.get(`${p.inputIndex}:${p.data.length}:${p.reason}`);
        expect(ref, `packet at input ${p.inputIndex}`).toBeDefined();
        expectSamePackets([p], [ref as Packet], 1, `${kind}: drain()ed packet at input ${p.inputIndex}`);
      }
    });
  }
});
