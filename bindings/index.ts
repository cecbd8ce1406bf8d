// large-receive: TCP Large Receive (the patent's LR algorithm) for Node and browsers.
// The library entry: engines (engine/), streams (stream.ts). Nothing here reads files.
export { createEngine } from './engine/create.js';
export { resolveOptions } from './engine/options.js';
export * from './engine/types.js';
export { createStream, type StreamOptions, type TimedFrame } from './stream.js';
