// `npm run build`'s first step: compile the core (assembly/) to build/lro.wasm with
// `asc assembly/index.ts --target release`, unless build/lro.wasm is already newer than every file
// under assembly/ and asconfig.json. `--force` compiles regardless. Plain Node, no dependencies
// beyond the assemblyscript compiler itself.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const output = join(root, 'build/lro.wasm');
const args = ['assembly/index.ts', '--target', 'release'];

/** Newest modification time (ms) of the file, or of every file below the directory. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted or renamed file shows only here
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

function builtAt() {
  try {
    return statSync(output).mtimeMs;
  } catch {
    return -Infinity; // missing
  }
}

const sources = Math.max(newest(join(root, 'assembly')), newest(join(root, 'asconfig.json')));
if (!process.argv.includes('--force') && builtAt() > sources) {
  console.log('build/lro.wasm is up to date (newer than assembly/ and asconfig.json)');
} else {
  process.chdir(root);
  const asc = await import('assemblyscript/asc');
  const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(`asc ${args.join(' ')}: ${error.message}`);
    process.exitCode = 1;
  }
}
