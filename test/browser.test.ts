// The library in a real browser (Debian's Chromium, driven by playwright-core): the built package
// (dist/ + build/lro.wasm) served over HTTP must give the same packets as in Node. The page
// imports the browser entry (dist/browser/large-receive.js, package.json "exports" → "browser")
// with no import map, and the wasm is compiled while it streams when served as application/wasm.
// .ci/run installs chromium; LRO_SKIP_BROWSER=1 skips.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { tcpFrame } from '../bindings/packet/index.js';
import { createEngine } from '../bindings/index.js';

const skip = process.env.LRO_SKIP_BROWSER === '1';
const root = join(import.meta.dirname, '..');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const PAGE = `<!doctype html>
<script>
  // Count the two ways the module can be compiled (load-wasm.browser.ts).
  window.compiles = { streaming: 0, bytes: 0 };
  const streaming = WebAssembly.compileStreaming;
  const bytes = WebAssembly.compile;
  WebAssembly.compileStreaming = (...a) => (window.compiles.streaming++, streaming(...a));
  WebAssembly.compile = (...a) => (window.compiles.bytes++, bytes(...a));
</script>
<script type="module">
  import { createEngine, createStream } from '/dist/browser/large-receive.js';
  import { tcpFrame } from '/dist/packet/index.js';
  window.run = async (engineKind) => {
    const engine = await createEngine({ engine: engineKind, hashSeed: 7 });
    for (let i = 0; i < 1000; i++) engine.push(tcpFrame({ seq: 1000 + i * 1448, payload: 1448 }), i);
    engine.close();
    return engine.drain().map((p) => [p.segments, p.reason, p.data.length, Array.from(p.data.subarray(0, 64)).join(',')]);
  };
  // createStream in a page: no setImmediate, so the end of a turn is a MessageChannel task; the
  // frames written in one turn must all be out (flushWhenIdle) before the stream is closed.
  window.stream = async (engineKind) => {
    const lro = createStream({ engine: engineKind, output: 'frames', flushWhenIdle: true, clockUs: () => 0 });
    const out = [];
    const done = lro.readable.pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
    const writer = lro.writable.getWriter();
    for (let i = 0; i < 1000; i++) writer.write(tcpFrame({ seq: 1000 + i * 1448, payload: 1448 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const beforeClose = out.length;
    await writer.close();
    await done;
    return { beforeClose, frames: out.map((f) => [f.length, Array.from(f.subarray(0, 64)).join(',')]) };
  };
  window.ready = true;
</script>`;

/** Serves the page and the repository; with `wasmType`, .wasm files are sent with that content type. */
function serve(wasmType = 'application/wasm'): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = extname(file) === '.wasm' ? wasmType : (TYPES[extname(file)] ?? 'application/octet-stream');
    res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(skip)('in Chromium', () => {
  let server: Server;
  let browser: Browser;

  beforeAll(async () => {
    expect(existsSync(join(root, 'dist', 'browser', 'large-receive.js')), 'dist/ is built by npm run build').toBe(true);
    server = await serve();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('both engines give the packets Node gives', async () => {
    const page = await browser.newPage();
    const address = server.address() as { port: number };
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.waitForFunction('window.ready === true');
    const node = await createEngine({ hashSeed: 7 });
    for (let i = 0; i < 1000; i++) node.push(tcpFrame({ seq: 1000 + i * 1448, payload: 1448 }), i);
    node.close();
    const expected = node.drain().map((p) => [p.segments, p.reason, p.data.length, Array.from(p.data.subarray(0, 64)).join(',')]);
    expect(expected).toHaveLength(23);
    for (const kind of ['wasm', 'ts']) {
      expect(await page.evaluate(`window.run(${JSON.stringify(kind)})`)).toEqual(expected);
    }
    expect(await page.evaluate('window.compiles')).toEqual({ streaming: 1, bytes: 0 });
    // createStream, frames mode: every frame out at the end of the writing turn, as Node's engine makes them.
    const engine = await createEngine({ hashSeed: 7 });
    for (let i = 0; i < 1000; i++) engine.push(tcpFrame({ seq: 1000 + i * 1448, payload: 1448 }), 0);
    engine.flush();
    const frames = engine.drain().map((p) => [p.data.length, Array.from(p.data.subarray(0, 64)).join(',')]);
    for (const kind of ['wasm', 'ts']) {
      expect(await page.evaluate(`window.stream(${JSON.stringify(kind)})`)).toEqual({ beforeClose: frames.length, frames });
    }
    await page.close();
  }, 60_000);

  it('a server that does not send application/wasm: compiled from the bytes, same packets', async () => {
    const plain = await serve('application/octet-stream');
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(plain.address() as { port: number }).port}/`);
      await page.waitForFunction('window.ready === true');
      const packets = (await page.evaluate('window.run("wasm")')) as unknown[];
      expect(packets).toHaveLength(23);
      expect(await page.evaluate('window.compiles')).toEqual({ streaming: 0, bytes: 1 });
      await page.close();
    } finally {
      plain.close();
    }
  }, 60_000);
});
