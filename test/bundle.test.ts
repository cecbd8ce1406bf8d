// The package as a bundler sees it: installed (package.json, dist/, build/lro.wasm copied into a
// node_modules/large-receive outside this tree, like `npm install` does), a file that imports
// 'large-receive' bundles for the browser with no error and no warning — through the "browser"
// export (dist/browser/large-receive.js) and, for a bundler that does not use that condition,
// through dist/index.js, whose "#load-wasm" import picks the browser loader (package.json
// "imports"). Neither bundle may contain a Node built-in; Node itself gets the Node loader.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('bundling the installed package for the browser', () => {
  let dir: string;

  beforeAll(() => {
    expect(existsSync(join(root, 'dist', 'browser', 'large-receive.js')), 'dist/ is built by npm run build').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'lro-bundle-'));
    const pkg = join(dir, 'node_modules', 'large-receive');
    mkdirSync(join(pkg, 'build'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(root, 'build', 'lro.wasm'), join(pkg, 'build', 'lro.wasm'));
    mkdirSync(join(dir, 'node_modules', '@assemblyscript'));
    symlinkSync(join(root, 'node_modules', '@assemblyscript', 'loader'), join(dir, 'node_modules', '@assemblyscript', 'loader'));
    writeFileSync(
      join(dir, 'app.js'),
      "import { createEngine, createStream, REASONS } from 'large-receive';\n" +
        "const engine = await createEngine({ engine: 'wasm' });\n" +
        'console.log(engine.stats(), createStream, REASONS);\n',
    );
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function bundle(options: BuildOptions) {
    const result = await build({
      absWorkingDir: dir,
      entryPoints: ['app.js'],
      bundle: true,
      write: false,
      format: 'esm',
      logLevel: 'silent',
      metafile: true,
      outfile: 'out.js',
      ...options,
    });
    return { ...result, inputs: Object.keys(result.metafile!.inputs), text: result.outputFiles![0].text };
  }

  it('platform browser: the "browser" export, one self-contained module', async () => {
    const r = await bundle({ platform: 'browser' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.inputs).toEqual(['node_modules/large-receive/dist/browser/large-receive.js', 'app.js']);
    expect(r.text).not.toMatch(/["']node:/);
    expect(r.text).toContain('new URL("../../build/lro.wasm", import.meta.url)');
  });

  it('a bundler without the "browser" condition: dist/index.js with the browser wasm loader', async () => {
    const r = await bundle({ platform: 'neutral', conditions: ['import'], mainFields: ['module', 'main'] });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.inputs).toContain('node_modules/large-receive/dist/engine/load-wasm.browser.js');
    expect(r.inputs).not.toContain('node_modules/large-receive/dist/engine/load-wasm.node.js');
    expect(r.inputs.some((f) => f.includes('@assemblyscript/loader'))).toBe(true);
    expect(r.text).not.toMatch(/["']node:/);
  });

  it('platform node: the Node loader', async () => {
    const r = await bundle({ platform: 'node' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.inputs).toContain('node_modules/large-receive/dist/engine/load-wasm.node.js');
  });
});
