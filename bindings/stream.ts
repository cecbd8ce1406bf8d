// createStream (docs/CONTRACT.md "Streams"): a WHATWG TransformStream of frames → Packets, driven by real timers.
// Works in Node ≥ 20 and browsers; Node stream interop is in node.ts.
import { createEngine } from './engine/create.js';
import type { Engine, EngineOptions, Packet } from './engine/types.js';

export interface StreamOptions extends EngineOptions {
  /** NAPI behaviour: send everything pending as soon as no more input is queued (default false). */
  flushWhenIdle?: boolean;
  /** Engine clock in µs for frames written without a time (default performance.now() × 1000). */
  clockUs?: () => number;
}

/** A frame with its own time on the engine clock. */
export interface TimedFrame {
  data: Uint8Array;
  timeUs: number;
}

/** Longest delay setTimeout takes (2^31 − 1 ms): Node clamps a longer one to 1 ms, with a warning. A longer wait is armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Frames queued before a writer waits, and packets queued before the engine stops taking frames. */
const WRITE_QUEUE = 256;
const READ_QUEUE = 1024;

export function createStream(options: StreamOptions = {}): TransformStream<Uint8Array | TimedFrame, Packet> {
  const { flushWhenIdle = false, clockUs = () => performance.now() * 1000, ...engineOptions } = options;
  let engine: Engine;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writes = 0;
  let lastTime = 0;
  let closed = false;

  const stop = () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const emit = (controller: TransformStreamDefaultController<Packet>) => {
    for (const packet of engine.drain()) controller.enqueue(packet);
  };

  // Timer work runs outside any stream call: if the stream was cancelled or errored meanwhile
  // (enqueue throws), stop quietly; anything else errors the stream instead of the process.
  const later = (controller: TransformStreamDefaultController<Packet>, work: () => void) => {
    if (closed) return;
    try {
      work();
      emit(controller);
      arm(controller);
    } catch (err) {
      stop();
      try {
        controller.error(err);
      } catch {
        /* the stream is already closed or errored */
      }
    }
  };

  // Wake up when the stream clock reaches the next AgTimer / DelTimer deadline. Measured from the
  // stream clock itself, not the engine's: a frame written with a time ahead of the stream clock
  // moves the engine clock there, and waiting from it would wake up again and again (every 1 ms)
  // until the stream clock caught up. A wait longer than setTimeout's range goes in steps.
  const arm = (controller: TransformStreamDefaultController<Packet>) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const deadline = engine.nextDeadline();
    if (closed || deadline === Infinity) return;
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, (deadline - clockUs()) / 1000));
    timer = setTimeout(() => {
      timer = undefined;
      // The engine clock never runs ahead of the stream clock (a timer may fire a little early:
      // arm() then waits again), or frames written next would be clamped.
      later(controller, () => {
        lastTime = Math.max(lastTime, clockUs());
        engine.advance(lastTime);
      });
    }, delayMs);
  };

  return new TransformStream<Uint8Array | TimedFrame, Packet>(
    {
      async start() {
        engine = await createEngine(engineOptions);
      },
      transform(chunk, controller) {
        try {
          const frame = chunk instanceof Uint8Array ? chunk : chunk.data;
          const time = chunk instanceof Uint8Array ? clockUs() : chunk.timeUs;
          lastTime = Math.max(lastTime, time);
          engine.push(frame, time);
          emit(controller);
          arm(controller);
        } catch (err) {
          stop();
          throw err; // errors the stream
        }
        if (flushWhenIdle) {
          const mine = ++writes;
          // If no other write arrived by the next macrotask, the input queue is empty: flush.
          setTimeout(() => {
            if (mine === writes) later(controller, () => engine.flush());
          }, 0);
        }
      },
      flush(controller) {
        stop();
        engine.close();
        emit(controller);
      },
      // The readable side was cancelled (runtimes that support transformer.cancel): no more timers.
      cancel() {
        stop();
      },
    } as Transformer<Uint8Array | TimedFrame, Packet>,
    { highWaterMark: WRITE_QUEUE },
    { highWaterMark: READ_QUEUE },
  );
}
