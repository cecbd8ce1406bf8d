// However a stream ends — closed, aborted, cancelled, errored by a bad chunk, a Node stream ended or
// destroyed — it leaves no timer behind: the process exits by itself (docs/CONTRACT.md §11 "End").
// Each ending runs in its own process (test/stream-end/child.mjs) on the built package, with an
// aggregate held whose timers are an hour and weeks away: a leaked timer keeps the child alive until
// it is killed after 30 s, and the test fails.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./stream-end/child.mjs', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/node.js', import.meta.url)));

function end(ending: string, engine: string): Promise<{ code: number | null; seen: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD, ending, engine], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (stderr) console.error(stderr);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, seen: JSON.parse(stdout.trim().split('\n').pop() || 'null') });
    });
  });
}

const ENDINGS: [string, string[]][] = [
  ['close', ['3:close']],
  ['abort', ['read abort']],
  ['cancel', []],
  ['bad-chunk', ['read RangeError', 'write RangeError']],
  ['node-end', ['3:close']],
  ['node-destroy', []],
  ['node-bad-chunk', ['TypeError']],
];

describe.skipIf(!BUILT)(`a stream's end leaves no timer running${BUILT ? '' : ' — skipped: dist/ not built (npm run build)'}`, () => {
  for (const engine of ['wasm', 'ts']) {
    for (const [ending, seen] of ENDINGS) {
      it(`${engine}, ${ending}: the process exits by itself`, async () => {
        expect(await end(ending, engine)).toEqual({ code: 0, seen });
      });
    }
  }
});
