// `npm run demo`: builds the demo (build.mjs) and serves demo/dist/ on this machine, printing the
// URL. A few lines of node:http, no dependency: GET only, paths confined to the folder, and the
// content types browsers need (application/wasm lets the engine compile while it downloads).
//   node demo/serve.mjs [--port N] [--no-build]      (PORT in the environment works too)
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.pcap': 'application/vnd.tcpdump.pcap',
  '.pcapng': 'application/octet-stream',
};

/** Serve `dir` on host:port (0: any free port); resolves to the server once it listens. */
export function serveStatic(dir, { port = 0, host = '127.0.0.1' } = {}) {
  const base = normalize(dir + sep);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = normalize(join(base, path));
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': size,
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const port = Number(at >= 0 ? args[at + 1] : (process.env.PORT ?? 8080));
  const dir = fileURLToPath(new URL('./dist/', import.meta.url));
  if (!args.includes('--no-build')) {
    const { buildDemo } = await import('./build.mjs');
    await buildDemo();
  }
  const server = await serveStatic(dir, { port });
  const { port: bound } = server.address();
  console.log(`large-receive demo: http://127.0.0.1:${bound}/  (serving ${dir}; Ctrl-C stops)`);
}
