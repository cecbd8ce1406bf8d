// Run the same input through both engines and insist on identical output (CONTRACT §6.4).
import { expect } from 'vitest';
import { createEngine } from '../../bindings/index.js';
import type { EngineKind, EngineOptions, Packet, Stats } from '../../bindings/engine/types.js';
import { expectSamePackets } from './bytes.js';

export type Step = { frame: Uint8Array; t: number } | { advance: number } | { flush: true };

export interface RunResult {
  packets: Packet[];
  stats: Stats;
}

export interface RunOptions {
  /** Frames per pushBatch() call; 0 = push() one at a time. */
  batch?: number;
  /** Finish with close() (default) or leave pending aggregates inside. */
  close?: boolean;
}

export async function runEngine(kind: EngineKind, options: EngineOptions, steps: Step[], run: RunOptions = {}): Promise<RunResult> {
  const engine = await createEngine({ hashSeed: 12345, ...options, engine: kind });
  const batch = run.batch ?? 0;
  let frames: Uint8Array[] = [];
  let times: number[] = [];
  const packets: Packet[] = [];
  const pushPending = () => {
    if (frames.length > 0) engine.pushBatch(frames, times);
    frames = [];
    times = [];
    packets.push(...engine.drain());
  };
  for (const step of steps) {
    if ('frame' in step) {
      if (batch === 0) engine.push(step.frame, step.t);
      else {
        frames.push(step.frame);
        times.push(step.t);
        if (frames.length === batch) pushPending();
      }
    } else {
      pushPending();
      if ('advance' in step) engine.advance(step.advance);
      else engine.flush();
    }
    if (batch === 0) packets.push(...engine.drain());
  }
  pushPending();
  const stats = engine.stats();
  if (run.close !== false) {
    engine.close();
    packets.push(...engine.drain());
  }
  return { packets, stats: run.close !== false ? engine.stats() : stats };
}

/** Both engines, same input: byte-identical packets, same metadata and stats. Returns the WASM run. */
export async function runBoth(options: EngineOptions, steps: Step[], run: RunOptions = {}): Promise<RunResult> {
  const wasm = await runEngine('wasm', options, steps, run);
  const ts = await runEngine('ts', options, steps, run);
  expectSamePackets(wasm.packets, ts.packets, options.linkType ?? 1, 'wasm vs ts');
  expect(wasm.stats).toEqual(ts.stats);
  return wasm;
}

/** Steps pushing `frames` at times t0, t0 + dt, … */
export function timed(frames: Uint8Array[], t0 = 0, dt = 1): Step[] {
  return frames.map((frame, i) => ({ frame, t: t0 + i * dt }));
}
