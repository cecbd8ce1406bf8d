// Adversarial flow keys: random keys vs keys crafted to collide under a known hash seed, with the
// run's random seed and with the known one.
import { timeGroup, type EngineRunner } from '../harness.js';
import { Markdown, nsPerFrame, num, rateCell, ratio, type Figure } from '../report.js';
import {
  ADVERSARIAL_FLOWS,
  ADVERSARIAL_MAX_FLOWS,
  KNOWN_SEED,
  checkKeyLayout,
  collidingKeys,
  keyedWorkload,
  probeStats,
  randomKeys,
} from '../workloads.js';
import { closeAll, engineRunner, figures, type BenchContext, type Section } from './context.js';

export interface Adversarial extends Section {
  /** WASM ns per frame, crafted keys over random keys: with the random seed, with the known seed. */
  craftedRandomSeed: number;
  craftedKnownSeed: number;
  /** Longest probe sequence of a lookup with the known seed. */
  knownSeedMaxProbe: number;
}

type Probes = Record<string, { mean: number; max: number }>;

export async function adversarialSection(ctx: BenchContext): Promise<Adversarial> {
  // 6. Adversarial flow keys ------------------------------------------------------------------
  ctx.log('adversarial keys');
  const { randomSeed, size } = ctx;
  const crafted = collidingKeys(KNOWN_SEED, ADVERSARIAL_FLOWS, ADVERSARIAL_MAX_FLOWS);
  const plain = randomKeys(ADVERSARIAL_FLOWS);
  if (!checkKeyLayout(crafted[0]) || !checkKeyLayout(plain[0])) ctx.notes.push('adversarial: key layout check failed');
  const advW = {
    random: keyedWorkload('random-keys', 'random keys', plain, size),
    crafted: keyedWorkload('crafted-keys', 'crafted keys', crafted, size),
  };
  const cases = [
    ['random keys, random seed', advW.random, randomSeed],
    ['crafted keys, random seed', advW.crafted, randomSeed],
    ['crafted keys, known seed', advW.crafted, KNOWN_SEED],
  ] as const;
  const runners: EngineRunner[] = [];
  const runs: Record<string, () => void> = {};
  for (const [name, w, seed] of cases) {
    for (const kind of ['wasm', 'ts'] as const) {
      const r = await engineRunner(w, { kind, engine: { hashSeed: seed } });
      runners.push(r);
      runs[`${kind}|${name}`] = () => r.run();
    }
  }
  const adv = figures(advW.random, await timeGroup(runs, ctx.manyFlowsTiming));
  closeAll(runners);
  const probes: Probes = {
    'random keys, random seed': probeStats(plain, randomSeed, ADVERSARIAL_MAX_FLOWS),
    'crafted keys, random seed': probeStats(crafted, randomSeed, ADVERSARIAL_MAX_FLOWS),
    'crafted keys, known seed': probeStats(crafted, KNOWN_SEED, ADVERSARIAL_MAX_FLOWS),
  };
  const random = nsPerFrame(adv['wasm|random keys, random seed']);
  return {
    markdown: render(adv, probes),
    craftedRandomSeed: nsPerFrame(adv['wasm|crafted keys, random seed']) / random,
    craftedKnownSeed: nsPerFrame(adv['wasm|crafted keys, known seed']) / random,
    knownSeedMaxProbe: probes['crafted keys, known seed'].max,
  };
}

function render(adv: Record<string, Figure>, probes: Probes): Markdown {
  const md = new Markdown();
  md.h(2, 'Adversarial flow keys');
  md.p(
    `${ADVERSARIAL_FLOWS} bulk flows in a table of ${ADVERSARIAL_MAX_FLOWS} (2048 slots). The crafted keys all hash ` +
      `to one home slot under hashSeed ${KNOWN_SEED} (found by brute force over source address and port: a seed ` +
      'the attacker knows — what an unseeded hash amounts to); the random keys are ordinary. Same frame count, ' +
      'same sizes, same order of flows.',
  );
  md.table(
    ['keys, seed', 'WASM Mpps', 'WASM vs random keys', 'TS Mpps', 'TS vs random keys', 'probes per lookup (mean / max)'],
    Object.entries(probes).map(([name, p]) => [
      name,
      rateCell(adv[`wasm|${name}`]),
      ratio(nsPerFrame(adv[`wasm|${name}`]) / nsPerFrame(adv['wasm|random keys, random seed'])),
      rateCell(adv[`ts|${name}`]),
      ratio(nsPerFrame(adv[`ts|${name}`]) / nsPerFrame(adv['ts|random keys, random seed'])),
      `${num(p.mean, 1)} / ${p.max}`,
    ]),
  );
  md.p(
    'With the known seed every lookup walks the one cluster: probes grow with the number of live flows, and ' +
      'stay bounded by it — the table is never more than half full (≥ 2 slots per flow, no tombstones), so a ' +
      `lookup is at most maxFlows probes (here ${probes['crafted keys, known seed'].max}), each one u32 hash compare before any key compare.`,
  );
  return md;
}
