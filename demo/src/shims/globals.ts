// The two Node globals the CLI's capture layer touches (bindings/capture/output.ts: process.pid in
// a temporary file name, setImmediate to let pending events run), for the demo's worker. Imported
// first by the worker, before any module that could use them.
const g = globalThis as unknown as { process?: { pid: number }; setImmediate?: (fn: () => void) => void };
g.process ??= { pid: 1 };
if (typeof g.setImmediate !== 'function') {
  // A message to itself runs after pending events, without setTimeout's 4 ms clamp.
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  g.setImmediate = (fn) => {
    queue.push(fn);
    channel.port2.postMessage(0);
  };
}
export {};
