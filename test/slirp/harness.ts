// The test's side of test/slirp/harness.c: building it against libslirp, the process and its two
// u32be frame streams (the project's own framing), and the host-side TCP server slirp connects to.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createDeframer, encodeFrame } from '../../bindings/receivers/index.js';

/** Oldest libslirp the harness is written for (slirp_new with SlirpConfig). */
export const MIN_VERSION = '4.1.0';

/**
 * Compile harness.c into `dir`; returns its path, or why it cannot be built here (no pkg-config,
 * no libslirp-dev, older than MIN_VERSION, no gcc).
 */
export function buildHarness(dir: string): { path: string; version: string } | { skip: string } {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let version: string;
  let flags: string[];
  try {
    version = run('pkg-config', ['--modversion', 'slirp']);
    run('pkg-config', ['--atleast-version', MIN_VERSION, 'slirp']);
    flags = run('pkg-config', ['--cflags', '--libs', 'slirp']).split(/\s+/);
  } catch (err) {
    return { skip: `pkg-config finds no libslirp ≥ ${MIN_VERSION} (${firstLine(err)})` };
  }
  const path = join(dir, 'slirp-harness');
  const source = new URL('./harness.c', import.meta.url).pathname;
  try {
    run('gcc', ['-O2', '-Wall', '-o', path, source, ...flags]);
  } catch (err) {
    return { skip: `gcc could not build test/slirp/harness.c against libslirp ${version} (${firstLine(err)})` };
  }
  return { path, version };
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return String(e.stderr || e.message || err)
    .trim()
    .split('\n')[0];
}

/** The harness process: frames in through slirp_input, frames slirp sends to the guest out. */
export class SlirpHarness {
  readonly child: ChildProcessWithoutNullStreams;
  /** Frames and bytes handed to slirp_input. */
  framesIn = 0;
  bytesIn = 0;
  /** Called with each frame slirp sends to the guest. */
  onFrame: (frame: Uint8Array) => void = () => {};
  private stderr = '';
  private readonly reading: Promise<void>;

  constructor(binary: string, args: string[] = []) {
    this.child = spawn(binary, args);
    this.child.stderr.on('data', (d) => {
      this.stderr += String(d);
    });
    this.reading = (Readable.toWeb(this.child.stdout) as ReadableStream<Uint8Array>)
      .pipeThrough(createDeframer({ prefix: 'u32be' }))
      .pipeTo(new WritableStream({ write: (frame) => this.onFrame(frame) }));
  }

  /** The first stderr line, "ready libslirp VERSION mtu N mru N". */
  async ready(): Promise<string> {
    for (let i = 0; i < 200 && !this.stderr.includes('\n'); i++) {
      if (this.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const line = this.stderr.split('\n')[0];
    if (!line.startsWith('ready ')) throw new Error(`slirp harness did not start: ${this.stderr}`);
    return line;
  }

  /** One frame to slirp_input (as the guest's NIC would hand it over). */
  input(frame: Uint8Array): void {
    this.framesIn++;
    this.bytesIn += frame.length;
    this.child.stdin.write(encodeFrame(frame, { prefix: 'u32be' }));
  }

  /** slirp's side of the guest's wire as a WHATWG stream of frames (as tcpip.js's tap.writable): each goes to slirp_input. */
  get writable(): WritableStream<Uint8Array> {
    return new WritableStream({ write: (frame) => this.input(frame) });
  }

  /** Close stdin; the harness lets slirp write what it holds, then exits. Returns its stderr. */
  async close(): Promise<string> {
    if (this.child.exitCode === null) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill(), 5000);
      await once(this.child, 'exit');
      clearTimeout(timer);
    }
    await this.reading.catch(() => {});
    return this.stderr;
  }
}

/** A TCP server on the host side (what slirp connects the guest's connection to): keeps every byte. */
export class HostServer {
  private readonly server: Server;
  private readonly chunks: Buffer[] = [];
  private waiters: (() => void)[] = [];
  received = 0;
  connections = 0;
  socket: Socket | null = null;

  constructor() {
    this.server = createServer((socket) => {
      this.connections++;
      this.socket = socket;
      socket.on('data', (d) => {
        this.chunks.push(d);
        this.received += d.length;
        for (const w of this.waiters.splice(0)) w();
      });
      socket.on('error', () => {});
    });
  }

  async listen(host: string): Promise<number> {
    this.server.listen(0, host);
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  /** Every byte received so far. */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Wait until `total` bytes arrived or `timeoutMs` passed; returns how many arrived. */
  async waitFor(total: number, timeoutMs: number): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (this.received < total && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    this.server.close();
  }
}
