// What real captures (test/captures/, from Debian packages) found in lro coalesce, each reduced
// to its smallest reproduction.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureRecord } from '../bindings/capture/index.js';
import { concat, idb, lro, readRecords, shb, spb } from './helpers/cli.js';

const TSHARK = process.env.TSHARK ?? 'tshark';
const tsharkMissing = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' }).status !== 0;
const skipTshark = process.env.LRO_SKIP_TSHARK === '1' ? 'LRO_SKIP_TSHARK=1' : tsharkMissing ? `${TSHARK} is not installed` : '';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

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
      const t = spawnSync(TSHARK, ['-n', '-r', output, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len'], { encoding: 'utf8' });
      expect(t.status, t.stderr).toBe(0);
      expect(t.stdout.trim()).toBe('315\t342');
    }
  });
});
