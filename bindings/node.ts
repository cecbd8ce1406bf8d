// Node stream interop: the same pipeline as createStream, as an object-mode Duplex.
import { Duplex } from 'node:stream';
import { createStream, type StreamOptions } from './stream.js';

/** An object-mode Duplex: write Uint8Array frames or { data, timeUs }, read Packets. */
export function createNodeStream(options: StreamOptions = {}): Duplex {
  return Duplex.fromWeb(createStream(options) as unknown as Parameters<typeof Duplex.fromWeb>[0], { objectMode: true });
}

export * from './index.js';
