// Copy the headline of bench/RESULTS.md into README.md (between the bench markers), so the README
// quotes the benchmark as measured and nobody types a number by hand. Run by bench/run.ts after
// it writes RESULTS.md; `tsx bench/readme.ts` re-syncs on its own.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const START = '<!-- bench:headline (copied from bench/RESULTS.md by bench/readme.ts) -->';
const END = '<!-- /bench:headline -->';

export function syncReadme(root = join(import.meta.dirname, '..')): boolean {
  const results = readFileSync(join(root, 'bench', 'RESULTS.md'), 'utf8');
  const machine = /\| machine \| (.*) \|/.exec(results)?.[1] ?? 'unknown machine';
  const date = /\| date \| (\d{4}-\d\d-\d\d)/.exec(results)?.[1] ?? 'unknown date';
  const headline = /## Headline[^\n]*\n([\s\S]*?)(?=\n## )/.exec(results);
  if (!headline) return false;
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) return false;
  const body =
    `${START}\nBulk flow of 1448-byte segments, checksums verified by all three; ${machine}, ${date}.\n\n` +
    `${headline[1].trim()}\n\n${memoryLine(results)}Everything else (scale, small segments, mixed traffic, batch ` +
    `sizes, gro next to throughput, profiles): [bench/RESULTS.md](bench/RESULTS.md).\n`;
  writeFileSync(readmePath, readme.slice(0, a) + body + readme.slice(b));
  return true;
}

/** The WASM engine's memory, from the RESULTS memory table (empty if the table is not there). */
function memoryLine(results: string): string {
  const cell = (row: string) => new RegExp(`^\\| ${row}[^|]*\\| ([^|]+?) \\|`, 'm').exec(results)?.[1];
  const flow = cell('per tracked flow');
  const hundredK = /^\| 100k flows, defaults[^|]*\| created: ([^|]+?) \|/m.exec(results);
  if (!flow || !hundredK) return '';
  return (
    `Memory (WASM engine): ${flow} per tracked flow, plus the staging ring where pending segments stay ` +
    `(\`ringBytes\`, default 16 MiB); 100k flows on the defaults: ${hundredK[1]}.\n\n`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!syncReadme()) {
    console.error('README.md or bench/RESULTS.md lacks the headline section or the markers');
    process.exit(1);
  }
}
