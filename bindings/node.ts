// Node stream interop: the same pipeline as createStream, as an object-mode Duplex.
import { Duplex } from 'node:stream';
import { createStream, type StreamOptions, type StreamOutput } from './stream.js';

/** An object-mode Duplex: write Uint8Array frames, { data, timeUs } or { frames, timesUs? }; read what options.output says (default Packets). */
export function createNodeStream<O extends StreamOutput = 'packets'>(options: StreamOptions<O> = {}): Duplex {
  const duplex = Duplex.fromWeb(createStream(options) as unknown as Parameters<typeof Duplex.fromWeb>[0], { objectMode: true });
  // Writes one at a time: Node 20's adapter hands writes queued behind one in flight to a writev
  // whose failure handler throws ("error.filter is not a function"), an unhandled rejection that
  // ends the process when a chunk is bad or the stream errors.
  duplex._writev = undefined;
  return duplex;
}

export * from './index.js';
