// `lro` as a user gets it: the packed package (npm pack), unpacked into a project's node_modules,
// its bin run by plain Node — the bundled CLI in dist/lro/, never the TypeScript sources or tsx.
// Its output must be byte for byte what the library's coalesceFile writes in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coalesceFile } from '../bindings/pipeline/coalesce.js';
import { expectSameBytes } from './helpers/bytes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CAPTURES = join(ROOT, 'test/captures');

let dir: string;
let pkg: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lro-package-'));
  // npm test has just built dist/ and build/: pack what would be published, without rebuilding.
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  pkg = join(dir, 'project/node_modules/large-receive');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', pkg, '--strip-components=1']);
  // The package's one dependency, as npm would install it next to the package.
  mkdirSync(join(dir, 'project/node_modules/@assemblyscript'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@assemblyscript/loader'), join(dir, 'project/node_modules/@assemblyscript/loader'));
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function installedLro(...args: string[]) {
  const r = spawnSync(process.execPath, [join(pkg, 'bin/lro.js'), ...args], {
    cwd: join(dir, 'project'),
    encoding: 'utf8',
    env: { ...process.env, LRO_TSX: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
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

  it('reports a bad input in one line, exit 1', () => {
    const run = installedLro('coalesce', join(ROOT, 'package.json'), '-o', join(dir, 'never.pcap'));
    expect(run.code).toBe(1);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'never.pcap'))).toBe(false);
  });
});
