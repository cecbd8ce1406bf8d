// test/helpers/tshark.ts: the oracle's checks can fail. badChecksums flags a bad IPv4 header or
// TCP checksum wherever it is (plain, IPv6, either header of an IPv4-in-IPv4 tunnel) and nothing
// else; malformedFrames flags a wrong IPv4 length; one byte flipped in `lro coalesce` output is
// found in exactly that frame.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureRecord } from '../bindings/capture/index.js';
import { internetChecksum, spoilChecksum, tcpFrame, type TcpFrameSpec } from '../bindings/packet/index.js';
import { put16 } from '../bindings/packet/bytes.js';
import { concat, epb, idb, lro, shb } from './helpers/cli.js';
import { badChecksums, malformedFrames, tsharkSkipped } from './helpers/tshark.js';

const ETH = Uint8Array.of(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00);

/** An Ethernet frame of IPv4 (protocol 4) around the raw IPv4 packet of `inner`. */
function ipInIp(inner: TcpFrameSpec, badOuter = false): Uint8Array {
  const packet = tcpFrame({ ...inner, linkType: 101 });
  const ip = Uint8Array.of(0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 4, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2);
  put16(ip, 2, ip.length + packet.length);
  const sum = ~internetChecksum(ip) & 0xffff;
  put16(ip, 10, badOuter ? spoilChecksum(sum) : sum);
  return concat([ETH, ip, packet]);
}

/** Ethernet IPv4 whose total length claims 100 bytes more than there are (IPv4 checksum kept right). */
function longerThanItIs(): Uint8Array {
  const f = tcpFrame({ payload: 100 });
  put16(f, 16, ((f[16] << 8) | f[17]) + 100);
  put16(f, 24, 0);
  put16(f, 24, ~internetChecksum(f, 14, 34) & 0xffff);
  return f;
}

function pcapng(path: string, frames: Uint8Array[]): void {
  const blocks = frames.map((data, i) =>
    epb(0, { data, origLen: data.length, tsHigh: 0, tsLow: i, tail: new Uint8Array(0) } as CaptureRecord),
  );
  writeFileSync(path, concat([shb(), idb(1), ...blocks]));
}

/** Byte offset and length of every record's data in a little-endian pcap file. */
function pcapRecords(file: Buffer): { at: number; length: number }[] {
  expect(file.readUInt32LE(0)).toBe(0xa1b2c3d4);
  const out = [];
  for (let at = 24; at < file.length; ) {
    const length = file.readUInt32LE(at + 8);
    out.push({ at: at + 16, length });
    at += 16 + length;
  }
  return out;
}

describe.skipIf(tsharkSkipped())('test/helpers/tshark.ts finds what is wrong', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lro-tshark-helper-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bad checksums in every header, plain and tunnelled, and nothing else; a wrong IPv4 length is malformed', async () => {
    const file = join(dir, 'made.pcapng');
    const v6 = { src: 'fd00::1', dst: 'fd00::2', payload: 100 };
    pcapng(file, [
      tcpFrame({ payload: 100 }), // 1 good
      ipInIp({ payload: 100 }), // 2 good, tunnelled
      tcpFrame({ ...v6 }), // 3 good, IPv6
      tcpFrame({ payload: 100, badIpChecksum: true }), // 4
      tcpFrame({ payload: 100, badTcpChecksum: true }), // 5
      tcpFrame({ ...v6, badTcpChecksum: true }), // 6
      ipInIp({ payload: 100 }, true), // 7 the outer IPv4 header
      ipInIp({ payload: 100, badIpChecksum: true }), // 8 the inner IPv4 header
      ipInIp({ payload: 100, badTcpChecksum: true }), // 9 the inner TCP
      longerThanItIs(), // 10
    ]);
    expect(await badChecksums(file)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(await malformedFrames(file)).toEqual([10]);
  });

  it('one byte flipped in coalesced output: its frame alone is flagged (TCP payload, then IPv4 TTL)', async () => {
    const input = join(dir, 'bulk.pcap');
    const output = join(dir, 'bulk.out.pcap');
    expect((await lro('generate', '-o', input, '-q', '--packets', '3000', '--seed', '5')).code).toBe(0);
    expect((await lro('coalesce', input, '-o', output, '-q')).code).toBe(0);
    expect(await badChecksums(output)).toEqual([]);
    const bytes = readFileSync(output);
    const records = pcapRecords(bytes);
    // The two longest frames are aggregates (longer than any 1500-byte input frame).
    const [a, b] = [...records.keys()].sort((x, y) => records[y].length - records[x].length || x - y);
    expect(records[b].length).toBeGreaterThan(1514);
    bytes[records[a].at + records[a].length - 1] ^= 0x01; // last payload byte: TCP checksum
    writeFileSync(output, bytes);
    expect(await badChecksums(output)).toEqual([a + 1]);
    bytes[records[b].at + 14 + 8] ^= 0x01; // TTL: IPv4 header checksum only (not in the pseudo-header)
    writeFileSync(output, bytes);
    expect(await badChecksums(output)).toEqual([a, b].sort((x, y) => x - y).map((k) => k + 1));
  });
});
