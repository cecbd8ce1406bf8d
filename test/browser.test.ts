// The library in a real browser (Debian's Chromium, driven by playwright-core): the built package
// (dist/ + build/lro.wasm) served over HTTP must give the same packets as in Node.
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
<script type="importmap">{ "imports": { "@assemblyscript/loader": "/node_modules/@assemblyscript/loader/index.js" } }</script>
<script type="module">
  import { createEngine } from '/dist/index.js';
  import { tcpFrame } from '/dist/packet/index.js';
  window.run = async (engineKind) => {
    const engine = await createEngine({ engine: engineKind, hashSeed: 7 });
    for (let i = 0; i < 1000; i++) engine.push(tcpFrame({ seq: 1000 + i * 1448, payload: 1448 }), i);
    engine.close();
    return engine.drain().map((p) => [p.segments, p.reason, p.data.length, Array.from(p.data.subarray(0, 64)).join(',')]);
  };
  window.ready = true;
</script>`;

function serve(): Promise<Server> {
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
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(skip)('in Chromium', () => {
  let server: Server;
  let browser: Browser;

  beforeAll(async () => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'dist/ is built by npm run build').toBe(true);
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
  }, 60_000);
});
