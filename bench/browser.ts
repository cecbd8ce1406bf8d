// `npm run bench:browser`: the engines in Chromium next to the same run in Node. Builds the demo
// (demo/build.mjs), serves it on 127.0.0.1, opens demo/bench.html in Debian's Chromium (headless,
// playwright-core) — the page runs demo/src/bench.ts — then runs that same module here in Node on
// the same frames and settings. Writes the numbers as a table into bench/RESULTS-browser.md with
// the machine and the date, and copies the table into README.md between the bench:browser
// markers: measured, never typed.
//   tsx bench/browser.ts [--seconds S] [--packets N] [--flows N] [--batch N]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildDemo } from '../demo/build.mjs';
import { serveStatic } from '../demo/serve.mjs';
import {
  BENCH_DEFAULTS,
  type BenchOutput,
  type BenchSettings,
  DELIVERIES,
  type Delivery,
  type Figure,
  measure,
} from '../demo/src/bench.js';

const root = join(import.meta.dirname, '..');
const START = '<!-- bench:browser (copied from bench/RESULTS-browser.md by bench/browser.ts) -->';
const END = '<!-- /bench:browser -->';

function settingsFrom(args: string[]): BenchSettings {
  const s = { ...BENCH_DEFAULTS };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, '') as keyof BenchSettings;
    if (!(key in s) || !(Number(args[i + 1]) > 0))
      throw new Error(`bench:browser: unknown or bad argument ${args[i]} ${args[i + 1] ?? ''}`);
    s[key] = Number(args[i + 1]);
  }
  return s;
}

async function inChromium(s: BenchSettings): Promise<{ result: BenchOutput; version: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lro-bench-browser-'));
  const { outdir } = await buildDemo({ outdir: join(dir, 'site') });
  const server = await serveStatic(outdir);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const port = (server.address() as { port: number }).port;
    const query = new URLSearchParams(Object.entries(s).map(([k, v]) => [k, String(v)]));
    await page.goto(`http://127.0.0.1:${port}/bench.html?${query}`);
    await page.waitForFunction('window.benchResult !== undefined || window.benchError !== undefined', null, {
      timeout: (s.seconds + 120) * 1000,
    });
    const error = (await page.evaluate('window.benchError')) as string | undefined;
    if (error || errors.length > 0) throw new Error(`bench:browser: the page failed: ${error ?? errors.join('; ')}`);
    return { result: (await page.evaluate('window.benchResult')) as BenchOutput, version: browser.version() };
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const f2 = (n: number) => n.toFixed(2);
const DELIVERY_NAMES: Record<Delivery, string> = { sink: 'sink', drain: 'drain()', views: 'drainViews()' };
const cell = (f: Figure) => `${f.nsPerFrame.toFixed(0)} (${f.nsP25.toFixed(0)}–${f.nsP75.toFixed(0)})`;

function table(browser: BenchOutput, node: BenchOutput): string {
  const rows = [
    '| engine | delivery | Chromium Mpps | ns/frame (p25–p75) | Node Mpps | ns/frame (p25–p75) | Chromium / Node |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const engine of ['wasm', 'ts'] as const) {
    for (const delivery of DELIVERIES) {
      const b = browser.figures[delivery][engine];
      const n = node.figures[delivery][engine];
      rows.push(
        `| ${engine === 'wasm' ? 'WASM engine' : 'TS twin'} | push + ${DELIVERY_NAMES[delivery]} | ${f2(b.mpps)} | ${cell(b)} | ${f2(n.mpps)} | ${cell(n)} | ${f2(b.mpps / n.mpps)}× |`,
      );
    }
  }
  const ratio = (r: BenchOutput, d: Delivery) => f2(r.figures[d].wasm.mpps / r.figures[d].ts.mpps);
  rows.push(
    '',
    `WASM engine / TS twin: in Chromium ${ratio(browser, 'sink')}× (sink), ${ratio(browser, 'drain')}× (drain), ${ratio(browser, 'views')}× (drainViews); ` +
      `in Node ${ratio(node, 'sink')}× (sink), ${ratio(node, 'drain')}× (drain), ${ratio(node, 'views')}× (drainViews).`,
    '',
    "| target: taking packets out within 1.5× of a sink (ns per frame over the sink's) | Chromium | Node |",
    '| --- | --- | --- |',
  );
  for (const engine of ['wasm', 'ts'] as const) {
    for (const delivery of ['drain', 'views'] as const) {
      const over = (r: BenchOutput) => r.figures[delivery][engine].nsPerFrame / r.figures.sink[engine].nsPerFrame;
      const cellOf = (r: BenchOutput) => `${f2(over(r))}× ${over(r) <= 1.5 ? '**met**' : '**not met**'}`;
      rows.push(`| ${engine === 'wasm' ? 'WASM engine' : 'TS twin'}, ${DELIVERY_NAMES[delivery]} | ${cellOf(browser)} | ${cellOf(node)} |`);
    }
  }
  return rows.join('\n');
}

function machine(chromium: string): { text: string; date: string } {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const text =
    `${cpu} · ${cpus().length} logical CPUs · ${(totalmem() / 2 ** 30).toFixed(1)} GiB · linux ${release()}; ` +
    `Chromium ${chromium} (headless), Node ${process.version}`;
  return { text, date: new Date().toISOString().slice(0, 10) };
}

async function main(): Promise<void> {
  const s = settingsFrom(process.argv.slice(2));
  console.log(`bench:browser: ${s.packets} frames per pass, ${s.seconds} s per side — Chromium first, then Node`);
  const { result: browser, version } = await inChromium(s);
  const node = await measure(s);
  if (browser.packetsOut !== node.packetsOut)
    throw new Error(`bench:browser: Chromium gave ${browser.packetsOut} packets, Node ${node.packetsOut}`);
  const m = machine(version);
  const workload =
    `${browser.frames} frames per pass (${s.flows} bulk flow${s.flows === 1 ? '' : 's'} of 1448-byte segments, ` +
    `${(browser.bytes / 1e6).toFixed(1)} MB), pushBatch × ${s.batch}, checksums verified, ${browser.packetsOut} packets out per pass`;
  const tab = table(browser, node);
  const md = [
    '# large-receive in the browser — measured',
    '',
    'Written by `npm run bench:browser` (bench/browser.ts); do not edit by hand. The same measurement',
    '(demo/src/bench.ts: the WASM engine and the TS twin, pushing into a sink, or drained with drain() or drainViews(), in',
    'alternating rounds; the median of samples of about 20 ms) runs in headless Chromium (demo/bench.html)',
    'and then in Node, on the same generated frames.',
    '',
    `Machine: ${m.text}; ${m.date}.`,
    '',
    `Workload: ${workload}; about ${s.seconds} s per side.`,
    '',
    tab,
    '',
  ].join('\n');
  writeFileSync(join(root, 'bench', 'RESULTS-browser.md'), md);
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a >= 0 && b > a) {
    const body = `${START}\n${workload}; ${m.text}; ${m.date}.\n\n${tab}\n`;
    writeFileSync(readmePath, readme.slice(0, a) + body + readme.slice(b));
  }
  console.log(`${tab}\n\nwritten to bench/RESULTS-browser.md${a >= 0 && b > a ? ' and README.md' : ''}`);
}

await main();
