// The package as a user installs it: what `npm pack` would publish, unpacked into a project's
// node_modules next to its one dependency (test/package.test.ts; the bench's whole-process runs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Pack the clone as it is built (no scripts: dist/ and build/ must be current) into `dir` and
 * install it as `dir`/project/node_modules/large-receive. Returns that folder.
 */
export function installPackedPackage(dir: string): string {
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  const pkg = join(dir, 'project/node_modules/large-receive');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', pkg, '--strip-components=1']);
  // The package's one dependency, as npm would install it next to the package.
  mkdirSync(join(dir, 'project/node_modules/@assemblyscript'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@assemblyscript/loader'), join(dir, 'project/node_modules/@assemblyscript/loader'));
  return pkg;
}
