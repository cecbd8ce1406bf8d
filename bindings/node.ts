// Node stream interop: the same pipeline as createStream, as an object-mode Duplex.
import { Duplex } from 'node:stream';
import { createStream, type StreamOptions, type StreamOutput } from './stream.js';

/** An object-mode Duplex: write Uint8Array frames, { data, timeUs } or { frames, timesUs? }; read what options.output says (default Packets). */
export function createNodeStream<O extends StreamOutput = 'packets'>(options: StreamOptions<O> = {}): Duplex {
  return Duplex.fromWeb(createStream(options) as unknown as Parameters<typeof Duplex.fromWeb>[0], { objectMode: true });
}

export * from './index.js';
