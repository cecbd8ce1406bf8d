// large-receive: TCP Large Receive (the patent's LR algorithm) for Node and browsers.
// The library entry: engines (engine/), streams (stream.ts), receivers of the output (receivers/). Nothing here reads files.
export { createEngine } from './engine/create.js';
export { resolveOptions } from './engine/options.js';
export * from './engine/types.js';
export {
  createStream,
  type FrameBatch,
  type StreamChunks,
  type StreamInput,
  type StreamOptions,
  type StreamOutput,
  type TimedFrame,
} from './stream.js';
export * from './receivers/index.js';
