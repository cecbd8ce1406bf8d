// One side of the frame-ring test (test/receivers.test.ts), in its own worker_thread: 'writer'
// writes `count` frames (length and bytes a function of the index) into the shared ring, waiting
// with Atomics.wait when it is full; 'reader' reads them back, waiting when it is empty, and checks
// every byte. Each posts { done, frames, bytes, waits } or { error }.
import { parentPort, workerData } from 'node:worker_threads';
import { openFrameRing, RING_HEAD, RING_TAIL, ringRead, ringWrite } from '../../bindings/receivers/framing.js';
import { ringFrame } from './ring-frames.js';

const { role, buffer, count } = workerData as { role: 'writer' | 'reader'; buffer: SharedArrayBuffer; count: number };
const ring = openFrameRing(buffer);
let bytes = 0;
let waits = 0;
try {
  for (let i = 0; i < count; i++) {
    if (role === 'writer') {
      const f = ringFrame(i);
      for (;;) {
        const tail = Atomics.load(ring.control, RING_TAIL);
        if (ringWrite(ring, f)) break;
        waits++;
        Atomics.wait(ring.control, RING_TAIL, tail, 1000);
      }
      bytes += f.length;
    } else {
      let f: Uint8Array | null;
      for (;;) {
        const head = Atomics.load(ring.control, RING_HEAD);
        f = ringRead(ring);
        if (f) break;
        waits++;
        Atomics.wait(ring.control, RING_HEAD, head, 1000);
      }
      const want = ringFrame(i);
      if (f.length !== want.length || f.some((b, k) => b !== want[k]))
        throw new Error(`frame ${i}: ${f.length} bytes differ from the ${want.length} written`);
      bytes += f.length;
    }
  }
  parentPort!.postMessage({ done: true, frames: count, bytes, waits });
} catch (err) {
  parentPort!.postMessage({ error: String(err) });
}
