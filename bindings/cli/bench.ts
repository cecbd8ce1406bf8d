// `lro bench [args]`: the benchmark suite in bench/run.ts (a repository file, not part of the
// published package). Its exported `main(args)` is called. While it is imported, process.argv
// holds the bench arguments after lro's own path, so a script that runs itself only when it is
// the entry stays quiet on import, and one that always runs still sees its arguments.

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileError } from '../capture/errors.js';
import type { Parsed } from './args.js';

/** bench/run.ts, next to bindings/ (from bindings/cli or dist/cli alike). */
export function benchScript(): string {
  return fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
}

export async function runBench(args: readonly string[]): Promise<number> {
  const path = benchScript();
  if (!existsSync(path)) {
    throw new FileError(`lro bench: the benchmark suite is not here (${path} is missing); it ships with the repository: run it from a clone (npm run bench)`);
  }
  const savedArgv = process.argv;
  process.argv = [savedArgv[0], savedArgv[1], ...args];
  try {
    let mod: { main?: (args: string[]) => unknown };
    try {
      mod = (await import(pathToFileURL(path).href)) as typeof mod;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e && (e.code === 'ERR_UNKNOWN_FILE_EXTENSION' || e.code === 'ERR_MODULE_NOT_FOUND')) {
        throw new FileError(`lro bench: cannot load ${path} (${e.code}); run it from a clone with its dev dependencies installed (npm run bench)`);
      }
      throw err;
    }
    if (typeof mod.main === 'function') {
      const code = await mod.main([...args]);
      return typeof code === 'number' ? code : 0;
    }
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } finally {
    process.argv = savedArgv;
  }
}

/** `lro bench ARGS…`: the arguments come unparsed, as positionals (they are the suite's). */
export function run(parsed: Parsed): Promise<number> {
  return runBench(parsed.positionals);
}
