// Long fuzzing session: `npm run fuzz -- --time 10m [--seed N] [--stop]`.
//
// Loops over seeds (random, or N, N+1, … with --seed) until the time is up, each round a batch of
// cases through the oracle (both engines, every invariant). Prints frames tried, and for every
// failure its seed, path, the shrunk counterexample in builder terms and how to replay it:
//   npm run fuzz -- --replay <seed>:<path> [--arb main|bytes]
// Exit code 0: no failure; 1: at least one failure; 2: bad usage.
import fc from 'fast-check';
import { bytesCaseArb, fuzzCaseArb, type FuzzCase } from './arbitraries.js';
import { checkCase, coverage, describeCase, tally } from './oracle.js';

interface Args {
  timeMs: number;
  seed: number | null;
  stop: boolean;
  replay: { seed: number; path: string } | null;
  arb: 'main' | 'bytes' | null;
  runs: number;
}

function usage(message: string): never {
  process.stderr.write(
    `fuzz: ${message}\nusage: npm run fuzz -- [--time 10m] [--seed N] [--stop] [--runs N] [--replay SEED:PATH --arb main|bytes]\n`,
  );
  process.exit(2);
}

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) usage(`bad duration ${text} (e.g. 90s, 10m, 1h)`);
  const unit = m[2] ?? 's';
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { timeMs: 60_000, seed: null, stop: false, replay: null, arb: null, runs: 100 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--time') a.timeMs = parseDuration(value());
    else if (flag === '--seed') {
      a.seed = Number(value());
      if (!Number.isInteger(a.seed)) usage('--seed needs an integer');
    } else if (flag === '--stop') a.stop = true;
    else if (flag === '--runs') a.runs = Number(value());
    else if (flag === '--arb') {
      const v = value();
      if (v !== 'main' && v !== 'bytes') usage('--arb is main or bytes');
      a.arb = v;
    } else if (flag === '--replay') {
      const [seed, ...path] = value().split(':');
      a.replay = { seed: Number(seed), path: path.join(':') };
      if (!Number.isInteger(a.replay.seed) || a.replay.path === '') usage('--replay needs SEED:PATH');
    } else usage(`unknown argument ${flag}`);
  }
  return a;
}

const ARBS = { main: fuzzCaseArb(), bytes: bytesCaseArb() };

function property(arb: fc.Arbitrary<FuzzCase>) {
  return fc.asyncProperty(arb, async (c) => {
    await checkCase(c);
  });
}

/** Print a failure with its seed, shrunk case and replay command. */
function report(kind: string, r: fc.RunDetails<[FuzzCase]>): void {
  const error = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
  console.log(`\n=== FAILURE (arbitrary ${kind}) seed ${r.seed} path ${r.counterexamplePath} after ${r.numShrinks} shrinks`);
  console.log(error);
  console.log('--- shrunk case (builder terms; hex: = bytes):');
  console.log(r.counterexample ? describeCase(r.counterexample[0]) : '(none)');
  console.log(`--- replay: npm run fuzz -- --replay ${r.seed}:${r.counterexamplePath} --arb ${kind}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.replay) {
    const kind = args.arb ?? 'main';
    const r = await fc.check(property(ARBS[kind]), { seed: args.replay.seed, path: args.replay.path, numRuns: 1 });
    if (r.failed) report(kind, r);
    else console.log('replayed case passes');
    process.exit(r.failed ? 1 : 0);
  }
  const start = Date.now();
  const end = start + args.timeMs;
  let seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  let failures = 0;
  let round = 0;
  let lastPrint = start;
  console.log(`fuzzing for ${(args.timeMs / 1000).toFixed(0)} s from seed ${seed}`);
  while (Date.now() < end) {
    const kind: 'main' | 'bytes' = args.arb ?? (round % 5 === 4 ? 'bytes' : 'main');
    const r = await fc.check(property(ARBS[kind]), {
      seed,
      numRuns: args.runs,
      interruptAfterTimeLimit: Math.max(1, end - Date.now()),
      markInterruptAsFailure: false,
    });
    if (r.failed) {
      failures++;
      report(kind, r);
      if (args.stop) break;
    }
    round++;
    seed = args.seed !== null ? seed + 1 : Math.floor(Math.random() * 2 ** 31);
    if (Date.now() - lastPrint > 10_000) {
      lastPrint = Date.now();
      const s = (lastPrint - start) / 1000;
      console.log(
        `${s.toFixed(0)} s: ${tally.frames} frames, ${tally.cases} cases (${(tally.frames / s).toFixed(0)} frames/s), ${failures} failures`,
      );
    }
  }
  const s = (Date.now() - start) / 1000;
  console.log(`done: ${tally.frames} frames tried in ${tally.cases} cases, ${s.toFixed(1)} s, ${failures} failures`);
  console.log(`coverage: ${JSON.stringify(coverage)}`);
  process.exit(failures > 0 ? 1 : 0);
}

await main();
