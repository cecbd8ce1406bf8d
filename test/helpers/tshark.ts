// tshark as the tests' independent oracle (/work/shared/ORACLE.md has the options): one way to run
// it, to ask it for bad checksums and malformed frames, and to read its Follow TCP Stream output.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

export const TSHARK = process.env.TSHARK ?? 'tshark';

let installed: boolean | undefined;

/** Whether `tshark -v` runs (asked once). */
export function tsharkInstalled(): boolean {
  if (installed === undefined) {
    const probe = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' });
    installed = !probe.error && probe.status === 0;
  }
  return installed;
}

/** Why tshark checks are skipped ('' when they run): LRO_SKIP_TSHARK=1, or no tshark. */
export function tsharkSkipped(): string {
  if (process.env.LRO_SKIP_TSHARK === '1') return 'LRO_SKIP_TSHARK=1';
  return tsharkInstalled() ? '' : `${TSHARK} is not installed`;
}

let running = 0;
const queue: (() => void)[] = [];

/** `tshark -n …`'s stdout, two runs at a time (the rest wait); rejects with its stderr when it fails. */
export function tshark(args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    const start = () => {
      running++;
      execFile(TSHARK, ['-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 }, (err, stdout) => {
        running--;
        queue.shift()?.();
        if (err) fail(new Error(`tshark ${args.join(' ')}: ${err.message}`));
        else ok(stdout);
      });
    };
    if (running < 2) start();
    else queue.push(start);
  });
}

/**
 * 1-based numbers (ascending) of the frames with a bad IPv4 header or TCP checksum, validation
 * on. Every header counts: a tunnel's outer and inner ones, an ICMP error's quoted one. Throws
 * when tshark verified none of the checksums it shows (validation was not on: nothing could fail).
 */
export async function badChecksums(file: string): Promise<number[]> {
  const fields = await tshark([
    '-r',
    file,
    '-o',
    'ip.check_checksum:TRUE',
    '-o',
    'tcp.check_checksum:TRUE',
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-e',
    'frame.number',
    '-e',
    'ip.checksum.status',
    '-e',
    'tcp.checksum.status',
  ]);
  const bad: number[] = [];
  let shown = 0;
  let verified = 0;
  for (const line of fields.split('\n')) {
    const [n, ip, tcp] = line.split('\t');
    if (!n) continue;
    // Status 0 is bad, 1 good, 2 unverified; one value per header, comma-separated.
    const status = `${ip},${tcp}`.split(',').filter(Boolean);
    shown += status.length;
    verified += status.filter((s) => s !== '2').length;
    if (status.includes('0')) bad.push(Number(n));
  }
  if (shown > 0 && verified === 0) throw new Error(`${file}: tshark verified none of ${shown} checksums`);
  return bad;
}

/** 1-based numbers of the frames tshark calls malformed or gives an error-level expert item (both: `_ws.malformed` alone misses wrong length fields). */
export async function malformedFrames(file: string): Promise<number[]> {
  const out = await tshark(['-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= error', '-T', 'fields', '-e', 'frame.number']);
  return out.split('\n').filter(Boolean).map(Number);
}

/**
 * One block of `tshark -q -z follow,tcp,raw,N`: SHA-256 of each direction's hex lines (node 0
 * unindented, node 1 tab-indented) and the byte count, as "hash0/hash1/bytes".
 */
export function followDigest(block: string): string {
  const h0 = createHash('sha256');
  const h1 = createHash('sha256');
  let bytes = 0;
  for (const line of block.split('\n')) {
    if (/^\t[0-9a-f]+$/.test(line)) {
      h1.update(line.slice(1));
      bytes += (line.length - 1) / 2;
    } else if (/^[0-9a-f]+$/.test(line)) {
      h0.update(line);
      bytes += line.length / 2;
    }
  }
  return `${h0.digest('hex')}/${h1.digest('hex')}/${bytes}`;
}

/** The follow blocks in tshark's output for the streams in `ids` (tshark prints empty ones for indexes past the last): "#index node0 ⇄ node1" → followDigest. */
export function followStreams(text: string, ids: Set<number>): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split(/^=+$/m)) {
    const index = /^Filter: tcp\.stream eq (\d+)$/m.exec(block);
    const n0 = /^Node 0: (.*)$/m.exec(block);
    const n1 = /^Node 1: (.*)$/m.exec(block);
    if (!index || !n0 || !n1 || !ids.has(Number(index[1]))) continue;
    out.set(`#${index[1]} ${n0[1]} ⇄ ${n1[1]}`, followDigest(block));
  }
  return out;
}
