// The benchmark's WebAssembly builds: the bound kernels (bench/kernels.ts), the engine when its
// source is newer than build/lro.wasm, and the engine's profiling build (names kept).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const KERNELS_WASM = join(ROOT, 'build/bench-kernels.wasm');
export const PROFILE_WASM = join(ROOT, 'build/lro.profile.wasm');
export const ENGINE_WASM = join(ROOT, 'build/lro.wasm');

async function compile(args: string[]): Promise<void> {
  const { default: asc } = await import('assemblyscript/asc'); // loads binaryen: only when building
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main(args, { stdout: asc.createMemoryStream(), stderr });
  if (error) throw new Error(`asc ${args[0]}: ${error.message}\n${stderr.toString()}`);
}

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => statSync(join(dir, f)).mtimeMs),
  );
}

/** The bound kernels, the engine (if its source is newer) and the engine's profiling build. */
export async function buildWasm(profile: boolean, log: (line: string) => void): Promise<void> {
  await compile([
    join(ROOT, 'bench/kernels.ts'),
    '--config',
    'none',
    '--outFile',
    KERNELS_WASM,
    '--runtime',
    'stub',
    '--enable',
    'simd',
    '-O3',
    '--noAssert',
    '--initialMemory',
    '24',
  ]);
  let engineTime = 0;
  try {
    engineTime = statSync(ENGINE_WASM).mtimeMs;
  } catch {
    /* not built */
  }
  if (engineTime < newestSource(join(ROOT, 'assembly'))) {
    log('build/lro.wasm is older than assembly/: rebuilding it (npm run build)');
    await compile([join(ROOT, 'assembly/index.ts'), '--config', join(ROOT, 'asconfig.json'), '--target', 'release']);
  }
  if (profile) {
    await compile([
      join(ROOT, 'assembly/index.ts'),
      '--config',
      join(ROOT, 'asconfig.json'),
      '--target',
      'release',
      '--debug',
      '--outFile',
      PROFILE_WASM,
      '--textFile',
      join(ROOT, 'build/lro.profile.wat'),
    ]);
  }
}
