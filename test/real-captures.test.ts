// Real captures (test/captures/, taken from Debian packages: test/captures/SOURCES.md) through
// `lro coalesce`, on both engines with the default preset. Synthetic traffic does not find what
// real captures find: checksum offload, retransmissions, captures cut mid-connection, odd link
// types, pcapng blocks of every kind, both byte orders, gzip.
//
// For every capture: coalesce exits 0 (or, for a file SOURCES.md lists as known bad, exits 1
// with one line naming it and leaves nothing behind) and writes the input's format; the output
// re-reads, goes back in time no more often than the input does, holds exactly the engine's
// packets each at its first segment's position (checkAgainstEngine); WASM and TS outputs are
// byte-identical; `lro inspect` and `lro compare IN OUT` exit 0 and compare finds every stream
// identical. Then tshark judges (LRO_SKIP_TSHARK=1 or no tshark: skipped, one message): the
// per-connection byte streams of its Follow TCP Stream, its expert infos (no worse than the
// input's), and no bad checksum on the aggregates (output frames of a length no input frame has).
//
// LRO_REAL_CAPTURES=DIR runs the same checks on the captures of another folder (no SOURCES.md
// needed): a way to try many more captures than the repository holds.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureRecord } from '../bindings/capture/index.js';
import { LINK_TYPES, linkTypeName } from '../bindings/pipeline/link-types.js';
import { checkAgainstEngine, concat, idb, lro, readRecords, shb, spb } from './helpers/cli.js';
import { badChecksums, followStreams, tshark, tsharkSkipped } from './helpers/tshark.js';

const OWN = fileURLToPath(new URL('./captures/', import.meta.url));
const DIR = process.env.LRO_REAL_CAPTURES ? resolve(process.env.LRO_REAL_CAPTURES) : OWN;
const CAPTURE = /\.(pcap|pcapng|cap)(\.gz)?$/;
const FILES = readdirSync(DIR)
  .filter((f) => CAPTURE.test(f))
  .sort();
const ENGINES = ['wasm', 'ts'] as const;

/** SOURCES.md's "Known bad" list: `- \`file\`: reason` lines under that heading. */
function knownBad(): Map<string, string> {
  const out = new Map<string, string>();
  const path = join(DIR, 'SOURCES.md');
  if (!existsSync(path)) return out;
  const section = /^## Known bad\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readFileSync(path, 'utf8'));
  for (const m of (section?.[1] ?? '').matchAll(/^- `([^`]+)`: (.+)$/gm)) out.set(m[1], m[2]);
  return out;
}
const KNOWN_BAD = knownBad();

const skipTshark = tsharkSkipped();

// ------------------------------------------------------------------ tshark, cached per file

interface TsharkView {
  /** Per connection ("#index node0 ⇄ node1"): each direction's sha256 and the bytes, as tshark's Follow TCP Stream reassembles them. */
  streams: Map<string, string>;
  /** Expert infos: "Severity · group protocol summary" → count. */
  expert: Map<string, number>;
}

/** Stream indexes followed in the first pass (a second one takes the rest, when there are more). */
const FOLLOW_FIRST = 64;
const follow = (ids: number[]) => ids.flatMap((id) => ['-z', `follow,tcp,raw,${id}`]);

const views = new Map<string, Promise<TsharkView>>();

/** What tshark sees in a capture (started once per file; awaited by the tests). */
function view(file: string): Promise<TsharkView> {
  let v = views.get(file);
  if (!v) {
    v = readView(file);
    v.catch(() => {}); // awaited (and reported) by the test that needs it
    views.set(file, v);
  }
  return v;
}

/** One pass: the stream index of every frame, the expert infos and the first streams; a second for more streams. */
async function readView(file: string): Promise<TsharkView> {
  const first = Array.from({ length: FOLLOW_FIRST }, (_, i) => i);
  const text = await tshark(['-r', file, '-T', 'fields', '-e', 'tcp.stream', '-z', 'expert', ...follow(first)]);
  const ids = new Set<number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('=')) break; // the fields end where the taps' output starts
    for (const id of line.split(',')) if (id) ids.add(Number(id));
  }
  const more = [...ids].filter((id) => id >= FOLLOW_FIRST);
  const rest = more.length ? await tshark(['-r', file, '-q', ...follow(more)]) : '';
  const streams = followStreams(text + rest, ids);
  const missing = [...ids].filter((id) => ![...streams.keys()].some((k) => k.startsWith(`#${id} `)));
  if (missing.length) throw new Error(`${file}: tshark followed no stream ${missing.join(', ')}`);
  return { streams, expert: expertInfos(text) };
}

/** `-z expert`: "Errors (n)" … sections of "frequency group protocol summary" rows. */
function expertInfos(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let severity = '';
  for (const line of text.split('\n')) {
    const head = /^(Errors|Warns|Notes|Chats|Comments) \(\d+\)$/.exec(line);
    if (head) {
      severity = head[1];
      continue;
    }
    if (/^=+$/.test(line)) {
      if (severity && line.length > 20) severity = ''; // the follow blocks' rules end the expert sections
      continue;
    }
    const row = /^\s+(\d+)\s+(\S.*)$/.exec(line);
    if (severity && row) {
      // Frame numbers in a message ("Original request in frame 296") change as frames merge.
      const key = `${severity} · ${row[2].replace(/\s+/g, ' ').replace(/\bframe \d+/g, 'frame N')}`;
      out.set(key, (out.get(key) ?? 0) + Number(row[1]));
    }
  }
  return out;
}

// ------------------------------------------------------------------ the captures

/** Times that go back: records whose time is below the one before. */
function backwardSteps(records: CaptureRecord[]): number {
  let n = 0;
  for (let i = 1; i < records.length; i++) if (records[i].timeUs < records[i - 1].timeUs) n++;
  return n;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Row {
  file: string;
  links: string;
  packetsIn: number;
  packetsOut: number;
  aggregates: number;
  note: string;
}

interface Done {
  input: string;
  output: string;
  /** 1-based numbers of the output frames of a length no input frame has (aggregates, whatever else). */
  aggregates: number[];
  /** Those tshark gives a bad checksum (only looked at when there are some). */
  bad: Promise<number[]> | null;
}

describe('real captures through lro coalesce (test/captures/)', () => {
  let dir = '';
  const rows: Row[] = [];
  const done = new Map<string, Done>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lro-real-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (rows.length === 0) return;
    const head = ['file', 'link type', 'packets in → out', 'aggregates'];
    const cells = rows.map((r) => [r.file, r.links, `${r.packetsIn} → ${r.packetsOut}`, r.note || String(r.aggregates)]);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((x, i) => (i >= 2 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ');
    console.log(
      [`real captures (${DIR === OWN ? 'test/captures' : DIR}), default preset, WASM = TS:`, line(head), ...cells.map(line)].join('\n'),
    );
  });

  it.skipIf(DIR !== OWN)('the set: each file under 1 MB, all under 4 MB, each listed in SOURCES.md (and only those)', () => {
    const sources = readFileSync(join(DIR, 'SOURCES.md'), 'utf8');
    let total = 0;
    for (const f of FILES) {
      const size = statSync(join(DIR, f)).size;
      total += size;
      expect(size, f).toBeLessThan(1 << 20);
      expect(sources, `${f} is not in SOURCES.md`).toContain(`\`${f}\``);
    }
    expect(total).toBeLessThan(4 << 20);
    for (const m of sources.matchAll(/^\| `([^`]+)` \|/gm)) expect(FILES, `SOURCES.md lists ${m[1]}`).toContain(m[1]);
    for (const f of KNOWN_BAD.keys()) expect(FILES).toContain(f);
  });

  for (const name of FILES) {
    const bad = KNOWN_BAD.get(name);
    if (bad !== undefined) {
      it(`${name} (known bad: ${bad}): exit 1, one line naming the file, no output`, async () => {
        const input = join(DIR, name);
        for (const engine of ENGINES) {
          const output = join(dir, `${name}.${engine}.out`);
          const r = await lro('coalesce', input, '-o', output, '--engine', engine);
          expect(r.code, r.err).toBe(1);
          const lines = r.err.trim().split('\n');
          expect(lines).toHaveLength(1);
          expect(lines[0]).toContain(name);
          expect(existsSync(output)).toBe(false);
        }
        rows.push({ file: name, links: '', packetsIn: 0, packetsOut: 0, aggregates: 0, note: 'known bad' });
      });
      continue;
    }

    it(`${name}: both engines, same bytes; the engine's packets in place; time order kept; inspect and compare`, async () => {
      const input = join(DIR, name);
      const before = readRecords(input);
      const ext = before.info.format;
      const outs: string[] = [];
      for (const engine of ENGINES) {
        const output = join(dir, `${basename(name)}.${engine}.${ext}`);
        const r = await lro('coalesce', input, '-o', output, '--engine', engine, '--json');
        expect(r.code, r.err).toBe(0);
        const s = JSON.parse(r.out);
        expect(s.format).toBe(ext);
        expect(s.packetsIn + s.unsupportedRecords).toBe(before.records.length);
        const after = readRecords(output);
        expect(after.info.format).toBe(ext);
        expect(after.records).toHaveLength(s.packetsOut + s.unsupportedRecords);
        expect(backwardSteps(after.records)).toBeLessThanOrEqual(backwardSteps(before.records));
        const m = await checkAgainstEngine(input, output);
        expect(m.packets).toBe(after.records.length);
        outs.push(output);
        if (engine === 'wasm') {
          const links = [...new Set(before.info.interfaces.map((i) => i.linkType))].map((l) =>
            LINK_TYPES.has(l) ? `${l} ${linkTypeName(l)}` : `${l} (passed through)`,
          );
          rows.push({
            file: name,
            links: links.join(', '),
            packetsIn: before.records.length,
            packetsOut: after.records.length,
            aggregates: m.aggregates,
            note: '',
          });
          const lengths = new Set(before.records.map((x) => x.data.length));
          const aggregates = after.records.flatMap((x, k) => (lengths.has(x.data.length) ? [] : [k + 1]));
          let bad: Promise<number[]> | null = null;
          if (!skipTshark) {
            view(input);
            view(output);
            if (aggregates.length) {
              bad = badChecksums(output);
              bad.catch(() => {}); // awaited by the tshark test
            }
          }
          done.set(name, { input, output, aggregates, bad });
        }
      }
      expect(readFileSync(outs[1]).equals(readFileSync(outs[0])), 'WASM and TS outputs differ').toBe(true);

      for (const f of [input, outs[0]]) {
        const r = await lro('inspect', f);
        expect(r.code, `inspect ${f}: ${r.err}`).toBe(0);
      }
      const c = await lro('compare', input, outs[0], '--json');
      expect(c.code, c.err).toBe(0);
      const report = JSON.parse(c.out);
      const differing = report.connections
        .filter((k: { wire: unknown; ours: { identical: boolean | null } | null }) => k.wire !== null && k.ours?.identical === false)
        .map((k: { flow: string }) => k.flow);
      expect(differing, 'lro compare: streams that differ').toEqual([]);
      expect(report.totals.ours.identicalStreams).toBe(report.totals.ours.comparedStreams);
    });
  }

  if (skipTshark) {
    it.skip(`tshark checks (${skipTshark})`, () => {});
  } else {
    describe('tshark', () => {
      for (const name of FILES) {
        if (KNOWN_BAD.has(name)) continue;
        it(`${name}: same TCP byte streams, expert infos no worse, aggregates with good checksums`, async () => {
          const d = done.get(name);
          if (!d) throw new Error(`${name}: no output (the coalesce test failed)`);
          const a = await view(d.input);
          const b = await view(d.output);
          expect([...b.streams.keys()].sort()).toEqual([...a.streams.keys()].sort());
          for (const [k, v] of a.streams) expect(b.streams.get(k), k).toBe(v);
          const worse: string[] = [];
          for (const [k, n] of b.expert) if (n > (a.expert.get(k) ?? 0)) worse.push(`${k}: ${a.expert.get(k) ?? 0} → ${n}`);
          expect(worse, 'expert infos the output has more of').toEqual([]);
          const bad = (await d.bad) ?? [];
          expect(
            d.aggregates.filter((n) => bad.includes(n)),
            'aggregates with a bad checksum',
          ).toEqual([]);
        });
      }
    });
  }
});

// The smallest reproductions of what the captures above found.
describe('what the real captures found', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lro-found-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a simple packet block cut by its snap length (pcapng test suite 012, 101, 102, 201, 202) stays readable: an EPB with its lengths', async () => {
    // SPB: captured length = min(original length, snaplen). The output raises the snap length (room
    // for aggregates), so a copied SPB of 315 of 342 bytes read as 316 bytes here (its padding) and
    // tshark refused the file ("total block length 332 of an SPB is too small for 342 bytes"); one
    // whose length is a multiple of 4 read right here, but tshark refused it all the same.
    const iface = idb(1);
    new DataView(iface.buffer).setUint32(12, 315, true);
    const data = Uint8Array.from({ length: 315 }, (_, i) => (i * 7) & 0xff);
    const input = join(dir, 'spb-cut.pcapng');
    const output = join(dir, 'spb-cut.out.pcapng');
    writeFileSync(input, concat([shb(), iface, spb({ data, origLen: 342 } as CaptureRecord)]));
    const r = await lro('coalesce', input, '-o', output);
    expect(r.code, r.err).toBe(0);
    const [o] = readRecords(output).records;
    expect(hex(o.data)).toBe(hex(data));
    expect(o.origLen).toBe(342);
    if (!skipTshark) {
      const t = await tshark(['-r', output, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len']);
      expect(t.trim()).toBe('315\t342');
    }
  });
});
