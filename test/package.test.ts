// `lro` as a user gets it: the packed package (npm pack), unpacked into a project's node_modules,
// its bin run by plain Node — the bundled CLI in dist/lro/, never the TypeScript sources or tsx.
// Its output must be byte for byte what the library's coalesceFile writes in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { coalesceFile } from '../bindings/pipeline/coalesce.js';
import { expectSameBytes } from './helpers/bytes.js';
import { installPackedPackage } from './helpers/installed-package.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CAPTURES = join(ROOT, 'test/captures');

let dir: string;
let pkg: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lro-package-'));
  // npm test has just built dist/ and build/: pack what would be published, without rebuilding.
  pkg = installPackedPackage(dir);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function installedLro(...args: string[]) {
  return runInstalled([], {}, ...args);
}

function runInstalled(nodeArgs: string[], env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [...nodeArgs, join(pkg, 'bin/lro.js'), ...args], {
    cwd: join(dir, 'project'),
    encoding: 'utf8',
    env: { ...process.env, LRO_TSX: '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A module loader hook (node:module register) that appends each file: URL Node loads to $LRO_MODULE_LOG. */
const LOG_HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.LRO_MODULE_LOG, \`\${url}\\n\`);
  return next(url, context);
}
`;

/** The package's files (relative to it) that an installed `lro …` loads as ES modules, in order. */
function modulesLoaded(...args: string[]): string[] {
  const hooks = join(dir, 'log-hooks.mjs');
  const register = join(dir, 'log-register.mjs');
  writeFileSync(hooks, LOG_HOOKS);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const log = join(dir, `modules-${args[0]}.log`);
  rmSync(log, { force: true });
  const run = runInstalled(['--import', pathToFileURL(register).href], { LRO_MODULE_LOG: log }, ...args);
  expect(run.code, run.err).toBe(0);
  const prefix = `${pathToFileURL(pkg).href}/`;
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((url) => (url.startsWith(prefix) ? url.slice(prefix.length) : url));
}

describe('the installed package', () => {
  it('ships the bundled CLI and no TypeScript sources', () => {
    expect(existsSync(join(pkg, 'dist/lro/main.js'))).toBe(true);
    expect(existsSync(join(pkg, 'build/lro.wasm'))).toBe(true);
    expect(existsSync(join(pkg, 'bindings'))).toBe(false);
    expect(existsSync(join(pkg, 'assembly'))).toBe(false);
  });

  it('prints its version and help', () => {
    const version = installedLro('--version');
    expect(version.code).toBe(0);
    expect(version.out.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const help = installedLro('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: lro <command>/m);
  });

  for (const name of ['tcpflow-jpegs.cap', 'wireshark-grpc_web.pcapng.gz']) {
    it(`coalesces a real capture (${name}) byte for byte as the library does`, async () => {
      const input = join(CAPTURES, name);
      if (!existsSync(input)) throw new Error(`test capture missing: ${input}`);
      const viaBin = join(dir, `bin-${name}`);
      const viaLibrary = join(dir, `lib-${name}`);
      const run = installedLro('coalesce', input, '-o', viaBin, '-q');
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      await coalesceFile({ input, output: viaLibrary });
      const a = readFileSync(viaBin);
      expect(a.length).toBeGreaterThan(100);
      expectSameBytes(a, readFileSync(viaLibrary), `${name} through the installed lro`, null);
    });
  }

  it('runs lro coalesce as one module, and no other command loads it', () => {
    // The main job's start-up: one module (dist/lro/coalesce.js), not main.js and its chunks.
    const out = join(dir, 'modules.pcap');
    expect(modulesLoaded('coalesce', join(CAPTURES, 'tcpflow-jpegs.cap'), '-o', out, '-q')).toEqual(['bin/lro.js', 'dist/lro/coalesce.js']);
    expect(existsSync(out)).toBe(true);
    const version = modulesLoaded('--version');
    expect(version.slice(0, 2)).toEqual(['bin/lro.js', 'dist/lro/main.js']);
    expect(version.some((m) => /coalesce/.test(m))).toBe(false);
  });

  it('reports a bad input in one line, exit 1', () => {
    const run = installedLro('coalesce', join(ROOT, 'package.json'), '-o', join(dir, 'never.pcap'));
    expect(run.code).toBe(1);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'never.pcap'))).toBe(false);
  });
});
