// A tap writer: coalesced packets, each behind its virtio-net header, one write() per packet to a
// Linux tap opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (TUNSETVNETHDRSZ 12, or size 10 for the
// default header), or to a VMM's virtio-net backend. The kernel (or guest) takes each aggregate as
// one GSO packet of `mss`-byte segments.
//
// Imports `large-receive` as a user would: from a project that installed it, or from a clone after
// `npm install && npm run build` (package.json "exports" lets the package import itself by name).
// Run from a clone:
//   node examples/tap-writer.mjs in.pcap out.vnet      # records into a file (header + frame each)
//   node examples/tap-writer.mjs in.pcap 3             # a tap fd a helper passed as fd 3
// Node cannot ioctl(TUNSETIFF): the tap's fd comes from a helper or the VMM (test/tap/peer.py shows
// the ioctls; test/tap.test.ts drives a real tap with this same output).
import { closeSync, openSync, writeSync } from 'node:fs';
import { createStream } from 'large-receive';

/**
 * Pipe `frames` (a ReadableStream of Uint8Array, { data, timeUs } or { frames, timesUs? }) through
 * the engine into `fd`: one write() per packet, header and frame together. Resolves to the packets
 * written. `options`: engine options, plus `virtio` ({ size: 10 | 12, csum }, default 12 bytes,
 * DATA_VALID for verified packets).
 */
export async function writeToTap(frames, fd, options = {}) {
  let packets = 0;
  await frames.pipeThrough(createStream({ ...options, output: 'virtio' })).pipeTo(
    new WritableStream({
      write(chunk) {
        const n = writeSync(fd, chunk); // a tap takes a packet per write(), whole or not at all
        if (n !== chunk.length) throw new Error(`short write: ${n} of ${chunk.length} bytes`);
        packets++;
      },
    }),
  );
  return packets;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, target, flag] = process.argv.slice(2);
  if (!input || !target) {
    console.error('usage: node examples/tap-writer.mjs in.pcap <fd | path> [--needs-csum]');
    process.exit(2);
  }
  const { readCapture } = await import('large-receive/capture');
  const records = readCapture(input);
  let frames = 0;
  const source = new ReadableStream({
    pull(controller) {
      const { value, done } = records.next();
      if (done) return controller.close();
      if (value.linkType !== 1) throw new Error('a tap takes Ethernet frames (link type 1)');
      frames++;
      controller.enqueue({ data: value.data.slice(), timeUs: value.timeUs }); // the record's bytes are reused by the next one
    },
  });
  const fd = /^\d+$/.test(target) ? Number(target) : openSync(target, 'w');
  const packets = await writeToTap(source, fd, { virtio: { csum: flag === '--needs-csum' ? 'needs-csum' : 'data-valid' } });
  if (fd !== Number(target)) closeSync(fd);
  console.log(`${frames} frames in, ${packets} packets written`);
}
