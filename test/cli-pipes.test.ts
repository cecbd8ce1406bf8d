// The CLI in pipes and on outputs that are not regular files (CONTRACT §7 "Command line"):
// `-` reads standard input and writes standard output, FIFOs work, devices and FIFOs are written
// directly, a symlink's target is replaced and keeps the link, an existing output keeps its mode,
// a closed standard output ends the run quietly and a full one is one line. And the order of the
// output: every packet at the position of its first segment, so the output is time-ordered.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  open,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, lro, readRecords } from './helpers/cli.js';

const dir = mkdtempSync(join(os.tmpdir(), 'lro-pipes-'));
const p = (name: string) => join(dir, name);
const root = process.getuid?.() === 0;

/** A shell command line (bash, pipefail off: each test reads the status it cares about). */
function sh(script: string): { code: number; out: Buffer; err: string } {
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'buffer',
    timeout: 120_000,
    maxBuffer: 1 << 30,
    env: { ...process.env, LRO: `${process.execPath} ${BIN}` },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr.toString() };
}

let input = '';
let reference: Buffer;

beforeAll(async () => {
  input = p('in.pcap');
  expect((await lro('generate', '-o', input, '--packets', '20000', '--flows', '8', '-q')).code).toBe(0);
  expect((await lro('coalesce', input, '-o', p('ref.pcap'), '-q')).code).toBe(0);
  reference = readFileSync(p('ref.pcap'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lro in pipes', () => {
  it('reads standard input and writes standard output, the same bytes as with files; the summary goes to stderr', () => {
    const r = sh(`$LRO coalesce - -o - < ${input}`);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.out, reference)).toBe(0);
    expect(r.err).toMatch(/20,000 in → [\d,]+ out/);
    const piped = sh(`cat ${input} | $LRO coalesce - -o ${p('piped.pcap')} --json`);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.out.toString()).input).toBe('-');
    expect(Buffer.compare(readFileSync(p('piped.pcap')), reference)).toBe(0);
  });

  it('-o - with --json: the capture alone on standard output, the JSON object on standard error', () => {
    const r = sh(`$LRO coalesce - -o - --json < ${input}`);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.out, reference)).toBe(0);
    expect(JSON.parse(r.err)).toMatchObject({ input: '-', output: '-', packetsIn: 20000, format: 'pcap' });
  });

  it('reads a FIFO', () => {
    const fifo = p('in.fifo');
    expect(sh(`mkfifo ${fifo}`).code).toBe(0);
    const r = sh(`(cat ${input} > ${fifo} &) ; $LRO coalesce ${fifo} -o ${p('fifo.out.pcap')} -q`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(p('fifo.out.pcap')), reference)).toBe(0);
  });

  it('a closed standard output ends the run quietly; a full one is one line and exit 1', () => {
    const head = sh(`$LRO coalesce ${input} -o - | head -c 100 > /dev/null; echo "status \${PIPESTATUS[0]}" >&2`);
    expect(head.err.trim()).toBe('status 0');
    const inspect = sh(`$LRO inspect ${input} | head -1 > /dev/null; echo "status \${PIPESTATUS[0]}" >&2`);
    expect(inspect.err.trim()).toBe('status 0');
    const summary = sh(`$LRO coalesce ${input} -o ${p('true.pcap')} | true; echo "status \${PIPESTATUS[0]}" >&2`);
    expect(summary.err.trim()).toBe('status 0');
    expect(Buffer.compare(readFileSync(p('true.pcap')), reference)).toBe(0);
    const full = sh(`$LRO coalesce ${input} -o ${p('full.pcap')} --json > /dev/full`);
    expect(full.code).toBe(1);
    expect(full.err.trim().split('\n')).toHaveLength(1);
    expect(full.err).toMatch(/^lro: cannot write to standard output \(ENOSPC/);
    expect(Buffer.compare(readFileSync(p('full.pcap')), reference)).toBe(0);
  });
});

/** `lro coalesce IN -o OUT` as a child process, its standard input a pipe the test writes. */
function coalesceChild(inputPath: string, output: string) {
  const child = spawn(process.execPath, [BIN, 'coalesce', inputPath, '-o', output, '-q'], { stdio: ['pipe', 'ignore', 'pipe'] });
  // Input still being written when the test stops lro fails with EPIPE: expected, not an error of the run.
  child.stdin.on('error', () => {});
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<{ code: number | null; signal: string | null; err: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, err })),
  );
  return { child, ended };
}

/** Where a symlink points, or '' (a descriptor closed meanwhile). */
function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the child ended, or 'still running' after a minute (it waits for input that never comes). */
function endedOrHung<T>(ended: Promise<T>): Promise<T | 'still running'> {
  return Promise.race([ended, sleep(60_000).then(() => 'still running' as const)]);
}

describe('a quiet input (tcpdump -w - | lro coalesce - …)', () => {
  it('Ctrl-C while standard input is open but quiet: ended by the signal at once, no output left', async () => {
    const outDir = p('quiet-stdin');
    mkdirSync(outDir);
    const { child, ended } = coalesceChild('-', join(outDir, 'out.pcap'));
    // The header and some packets, then the writer goes quiet (the pipe stays open).
    child.stdin.write(readFileSync(input).subarray(0, 200_000));
    while (readdirSync(outDir).length === 0) await sleep(5);
    child.kill('SIGINT');
    const r = await endedOrHung(ended);
    child.stdin.destroy();
    expect(r).toEqual({ code: null, signal: 'SIGINT', err: 'lro: interrupted by SIGINT; unfinished output removed\n' });
    expect(readdirSync(outDir)).toEqual([]);
  }, 90_000);

  it('lro inspect - (writes no file): Ctrl-C while standard input is quiet ends it at once', async () => {
    const child = spawn(process.execPath, [BIN, 'inspect', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.on('error', () => {}); // EPIPE once it is stopped: expected
    const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    // Written once lro has read all but a pipe's worth of it: it is reading, then waits for more.
    await new Promise((ok) => child.stdin.write(readFileSync(input).subarray(0, 400_000), ok));
    child.kill('SIGINT');
    const r = await endedOrHung(ended);
    child.stdin.destroy();
    expect(r).toEqual({ code: null, signal: 'SIGINT' });
  }, 90_000);

  it('Ctrl-C with -o - (nothing to remove: what went out is out): one line that does not say "removed"', async () => {
    const child = spawn(process.execPath, [BIN, 'coalesce', '-', '-o', '-', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // the 3 MB write is still going when it is stopped: EPIPE, expected
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const wrote = new Promise((ok) => child.stdout.once('data', ok));
    child.stdout.resume();
    const ended = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // Enough input that a full output buffer goes out; then the input goes quiet.
    child.stdin.write(readFileSync(input).subarray(0, 3_000_000));
    await wrote;
    child.kill('SIGINT');
    const r = await endedOrHung(ended);
    child.stdin.destroy();
    expect(r).toEqual({ code: null, signal: 'SIGINT' });
    expect(err).toBe('lro: interrupted by SIGINT\n');
  }, 90_000);

  it('SIGTERM while a FIFO input has a writer that has not written yet', async () => {
    const fifo = p('quiet.fifo');
    expect(sh(`mkfifo ${fifo}`).code).toBe(0);
    const outDir = p('quiet-fifo');
    mkdirSync(outDir);
    const { child, ended } = coalesceChild(fifo, join(outDir, 'out.pcap'));
    // Opening the FIFO for writing returns once lro has opened it for reading.
    const writer = await new Promise<number>((ok, fail) => open(fifo, 'w', (e, fd) => (e ? fail(e) : ok(fd))));
    child.kill('SIGTERM');
    const r = await endedOrHung(ended);
    closeSync(writer);
    expect(r).toEqual({ code: null, signal: 'SIGTERM', err: 'lro: interrupted by SIGTERM\n' });
    expect(readdirSync(outDir)).toEqual([]);
  }, 90_000);

  it.runIf(existsSync('/proc/self/fd'))(
    'Ctrl-C while nobody reads the FIFO given as output (coalesce, generate): ended by the signal, the FIFO left as it was',
    async () => {
      const fifo = p('unread.fifo');
      expect(sh(`mkfifo ${fifo}`).code).toBe(0);
      const { child, ended } = coalesceChild(input, fifo);
      // Once lro has its input open (its signal handlers are in place by then), it comes to the FIFO.
      const fds = `/proc/${child.pid}/fd`;
      const hasInput = () => readdirSync(fds).some((fd) => readlinkOr(join(fds, fd)) === input);
      while (!hasInput()) await sleep(5);
      child.kill('SIGINT');
      const r = await endedOrHung(ended);
      if (r === 'still running') await new Promise((ok) => open(fifo, 'r', (e, fd) => ok(e ? 0 : closeSync(fd))));
      expect(r).toEqual({ code: null, signal: 'SIGINT', err: 'lro: interrupted by SIGINT\n' });
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      // lro generate -o FIFO too. Nothing shows when it has come to the FIFO: a second's wait makes a
      // signal that lands before its handler (the default action: the same end) unlikely.
      const gen = spawn(process.execPath, [BIN, 'generate', '-o', fifo, '--packets', '1000'], { stdio: 'ignore' });
      const genEnded = new Promise((resolve) => gen.on('exit', (code, signal) => resolve({ code, signal })));
      await sleep(1000);
      gen.kill('SIGINT');
      const g = await endedOrHung(genEnded);
      if (g === 'still running') await new Promise((ok) => open(fifo, 'r', (e, fd) => ok(e ? 0 : closeSync(fd))));
      expect(g).toEqual({ code: null, signal: 'SIGINT' });
    },
    90_000,
  );

  it('input that trickles in (preamble byte by byte, then small pieces; gzip too) gives the same output as the file', async () => {
    const ng = p('trickle.pcapng');
    expect((await lro('generate', '-o', ng, '--packets', '3000', '--flows', '4', '--packet-comments', '-q')).code).toBe(0);
    expect((await lro('coalesce', ng, '-o', p('trickle.ref.pcapng'), '-q')).code).toBe(0);
    const want = readFileSync(p('trickle.ref.pcapng'));
    writeFileSync(p('trickle.pcapng.gz'), gzipSync(readFileSync(ng)));
    for (const source of [ng, p('trickle.pcapng.gz')]) {
      const bytes = readFileSync(source);
      const out = p(`trickle.out.${source.endsWith('.gz') ? 'gz.' : ''}pcapng`);
      const { child, ended } = coalesceChild('-', out);
      let at = 0;
      for (; at < 120; at++) {
        child.stdin.write(bytes.subarray(at, at + 1));
        await sleep(1);
      }
      for (; at < bytes.length; at += 16_384) {
        child.stdin.write(bytes.subarray(at, at + 16_384));
        await sleep(1);
      }
      child.stdin.end();
      expect(await endedOrHung(ended)).toEqual({ code: 0, signal: null, err: '' });
      expect(Buffer.compare(readFileSync(out), want)).toBe(0);
    }
  }, 90_000);
});

describe('outputs that are not plain new files', () => {
  it.runIf(root)('-o /dev/null writes the device and leaves it a device', async () => {
    expect((await lro('coalesce', input, '-o', '/dev/null', '-q')).code).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('-o /dev/stdout or /dev/fd/N that is a pipe is written into the pipe', () => {
    for (const [out, redirect] of [
      ['/dev/stdout', ''],
      ['/dev/fd/3', '3>&1'],
    ]) {
      const file = p(`dev-${out.replaceAll('/', '-')}.pcap`);
      const r = sh(`$LRO coalesce ${input} -o ${out} -q ${redirect} | cat > ${file}; echo "status \${PIPESTATUS[0]}" >&2`);
      expect(r.err).toBe('status 0\n');
      expect(Buffer.compare(readFileSync(file), reference)).toBe(0);
    }
  });

  it('-o FIFO writes into the FIFO', () => {
    const fifo = p('out.fifo');
    expect(sh(`mkfifo ${fifo}`).code).toBe(0);
    const r = sh(`(cat ${fifo} > ${p('from-fifo.pcap')} &) ; $LRO coalesce ${input} -o ${fifo} -q; sleep 0.2`);
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(Buffer.compare(readFileSync(p('from-fifo.pcap')), reference)).toBe(0);
  });

  it('-o SYMLINK replaces the target and keeps the link; an existing output keeps its mode', async () => {
    mkdirSync(p('real'));
    const target = p('real/out.pcap');
    writeFileSync(target, 'old');
    chmodSync(target, 0o640);
    symlinkSync(target, p('link.pcap'));
    expect((await lro('coalesce', input, '-o', p('link.pcap'), '-q')).code).toBe(0);
    expect(lstatSync(p('link.pcap')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(p('link.pcap'))).toBe(target);
    expect(Buffer.compare(readFileSync(target), reference)).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o640);
  });
});

describe('output order', () => {
  it('each packet at the position of its first segment: time-ordered output from a time-ordered capture with ACKs', async () => {
    const acks = p('acks.pcap');
    expect((await lro('generate', '-o', acks, '--packets', '30000', '--flows', '16', '--ack-every', '2', '-q')).code).toBe(0);
    expect((await lro('coalesce', acks, '-o', p('acks.out.pcap'), '-q')).code).toBe(0);
    const { records } = readRecords(p('acks.out.pcap'));
    let backwards = 0;
    for (let i = 1; i < records.length; i++) if (records[i].timeUs < records[i - 1].timeUs) backwards++;
    expect(backwards).toBe(0);
    expect(records.length).toBeLessThan(30000);
  });
});
