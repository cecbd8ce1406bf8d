// The demo page (demo/) in a real browser (Debian's Chromium, driven by playwright-core), built
// by demo/build.mjs into a temporary folder and served by demo/serve.mjs, as `npm run demo` does.
// For a built-in sample and for a file set through the file input, with the options chosen on
// the page: the numbers it shows (packets in and out, aggregates, pass-through, every reason and
// every pass-through cause) equal the Node engine's through `lro coalesce --json` on the same
// file, and the capture it offers for download is byte for byte the file `lro coalesce` writes
// (the CLI as it is now, run in-process through main()). The page logs no console error.
// .ci/run installs chromium; LRO_SKIP_BROWSER=1 skips.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASS_THROUGH_CAUSES, REASONS } from '../bindings/abi.js';
import { main } from '../bindings/cli/main.js';
import { writeGenerated } from '../bindings/traffic/write.js';
import { buildDemo } from '../demo/build.mjs';
import { serveStatic } from '../demo/serve.mjs';
import { SAMPLES } from '../demo/src/samples.js';

const skip = process.env.LRO_SKIP_BROWSER === '1';

/** `lro coalesce IN -o OUT --json [flags]` in this process: its stats and the bytes it wrote. */
async function cliCoalesce(input: string, output: string, flags: string[]): Promise<{ stats: Record<string, unknown>; bytes: Uint8Array }> {
  let out = '';
  let err = '';
  const code = await main(['coalesce', input, '-o', output, '--json', '--no-progress', ...flags], {
    out: (t) => (out += t),
    err: (t) => (err += `${t}\n`),
    progress: null,
  });
  expect(code, err).toBe(0);
  return { stats: JSON.parse(out).stats ?? JSON.parse(out), bytes: new Uint8Array(readFileSync(output)) };
}

/** The figures the page shows, as numbers. */
async function pageNumbers(page: Page): Promise<Record<string, number>> {
  const n = async (sel: string) => Number((await page.textContent(sel))!.replace(/,/g, ''));
  const numbers: Record<string, number> = {
    packetsIn: await n('#packets-in'),
    packetsOut: await n('#packets-out'),
    aggregates: await n('#aggregates'),
    passedThrough: await n('#passed-through'),
  };
  for (const row of await page.$$('#reasons tbody tr')) {
    const reason = (await row.getAttribute('data-reason'))!;
    numbers[`reason:${reason}`] = Number((await row.$eval('td:last-child', (td) => td.textContent))!.replace(/,/g, ''));
  }
  for (const row of await page.$$('#causes tbody tr')) {
    const cause = (await row.getAttribute('data-cause'))!;
    numbers[`cause:${cause}`] = Number((await row.$eval('td:last-child', (td) => td.textContent))!.replace(/,/g, ''));
  }
  return numbers;
}

/** The same figures from the CLI's --json stats (reasons with a count only, as the page lists them). */
function cliNumbers(stats: Record<string, unknown>): Record<string, number> {
  const numbers: Record<string, number> = {
    packetsIn: stats.packetsIn as number,
    packetsOut: stats.packetsOut as number,
    aggregates: stats.aggregates as number,
    passedThrough: stats.passedThrough as number,
  };
  const reasons = stats.reasons as Record<string, number>;
  for (const r of REASONS) if (reasons[r] > 0) numbers[`reason:${r}`] = reasons[r];
  const causes = stats.passThroughCauses as Record<string, number>;
  for (const c of PASS_THROUGH_CAUSES) if (causes[c] > 0) numbers[`cause:${c}`] = causes[c];
  return numbers;
}

async function waitDone(page: Page): Promise<void> {
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')!.dataset.state!), null, {
    timeout: 120_000,
  });
  expect(await page.textContent('#error')).toBe('');
  expect(await page.getAttribute('#status', 'data-state')).toBe('done');
}

async function download(page: Page, dir: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const path = join(dir, `downloaded-${dl.suggestedFilename()}`);
  await dl.saveAs(path);
  return { name: dl.suggestedFilename(), bytes: new Uint8Array(readFileSync(path)) };
}

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length, 'size of the download').toBe(expected.length);
  let first = -1;
  for (let i = 0; i < actual.length && first < 0; i++) if (actual[i] !== expected[i]) first = i;
  expect(first, `first differing byte of the download (of ${expected.length})`).toBe(-1);
}

describe.skipIf(skip)('the demo page in Chromium', () => {
  let dir: string;
  let server: Server;
  let browser: Browser;
  let base: string;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lro-demo-'));
    const built = await buildDemo({ outdir: join(dir, 'site') });
    server = await serveStatic(built.outdir);
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<Page> {
    const page = await browser.newPage({ acceptDownloads: true });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(base);
    return page;
  }

  it("a built-in sample (bulk flows, default options): the CLI's numbers and bytes", async () => {
    const sample = SAMPLES.bulk;
    const input = join(dir, sample.name);
    await writeGenerated(input, sample.gen, sample.file);
    const cli = await cliCoalesce(input, join(dir, 'bulk.cli.pcap'), []);

    const page = await open();
    await page.click('#sample-bulk');
    await waitDone(page);
    expect(await pageNumbers(page)).toEqual(cliNumbers(cli.stats));
    expect(cli.stats.packetsOut as number).toBeLessThan((cli.stats.packetsIn as number) / 2);
    const got = await download(page, dir);
    expect(got.name).toBe('bulk.coalesced.pcap');
    expectSameBytes(got.bytes, cli.bytes);
    // The plots and the table are there.
    expect(await page.$$eval('#chart-histogram rect', (r) => r.length)).toBeGreaterThan(1);
    expect(await page.$$eval('#chart-timeline rect', (r) => r.length)).toBeGreaterThan(1);
    expect(await page.$$eval('#connections tbody tr', (r) => r.length)).toBe(16); // 8 flows, both directions
    await page.close();
    expect(problems).toEqual([]);
  }, 180_000);

  it('a file set through the file input (pcapng, ns, comments, IPv6, noise) with other options, on the TS twin', async () => {
    const input = join(dir, 'dropped.pcapng');
    await writeGenerated(
      input,
      { ...SAMPLES.mixed.gen, seed: 11, packets: 20_000, vlan: 42 },
      { format: 'pcapng', linkType: 1, ns: true, bigEndian: true, snaplen: 65535, packetComments: true },
    );
    const cli = await cliCoalesce(input, join(dir, 'dropped.cli.pcapng'), [
      '--preset',
      'seed',
      '--engine',
      'ts',
      '--aggregate-timeout-us',
      '250',
      '--max-aggregate',
      '30000',
      '--no-verify-checksums',
    ]);

    const page = await open();
    await page.selectOption('#preset', 'seed');
    await page.selectOption('#engine', 'ts');
    await page.fill('#timeout', '250');
    await page.fill('#max-aggregate', '30000');
    await page.uncheck('#verify');
    await page.setInputFiles('#file', input);
    await waitDone(page);
    expect(await pageNumbers(page)).toEqual(cliNumbers(cli.stats));
    const got = await download(page, dir);
    expect(got.name).toBe('dropped.coalesced.pcapng');
    expectSameBytes(got.bytes, cli.bytes);

    // The same file again with the default options (run again): the CLI's defaults.
    await page.selectOption('#preset', 'gro');
    await page.selectOption('#engine', 'wasm');
    await page.fill('#timeout', '1000');
    await page.fill('#max-aggregate', '65535');
    await page.check('#verify');
    await page.click('#again');
    await waitDone(page);
    const defaults = await cliCoalesce(input, join(dir, 'dropped.defaults.pcapng'), []);
    expect(await pageNumbers(page)).toEqual(cliNumbers(defaults.stats));
    expectSameBytes((await download(page, dir)).bytes, defaults.bytes);
    await page.close();
    expect(problems).toEqual([]);
  }, 180_000);

  it('a file that is not a capture: one line naming it, no console error', async () => {
    const page = await open();
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a capture at all') });
    await page.waitForFunction(() => document.getElementById('status')!.dataset.state === 'error');
    expect(await page.textContent('#error')).toMatch(/notes\.txt: not a pcap or pcapng file/);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
