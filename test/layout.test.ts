// The shape of bindings/ (CONTRIBUTING.md "Layout"): the library entries reach no tool code, no
// file imports another that imports it back, and folders import only the folders below them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../bindings/', import.meta.url));

/** Static imports (and re-exports) of every .ts file under bindings/, as paths relative to it. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const entry of readdirSync(ROOT, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = relative(ROOT, join(entry.parentPath, entry.name));
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets: string[] = [];
    // `import … from '…'` and `export … from '…'` at the start of a line; dynamic import() is lazy
    // loading (cli/commands.ts, the wasm loader) and deliberately not part of the static graph.
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gms)) {
      const spec = m[1];
      // '#load-wasm' (package.json "imports"): the browser side, what bundlers and browsers get.
      if (spec === '#load-wasm') targets.push('engine/load-wasm.browser.ts');
      else targets.push(spec.startsWith('.') ? relative(ROOT, join(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts') : spec);
    }
    graph.set(file, targets);
  }
  return graph;
}

function reachable(graph: Map<string, string[]>, from: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const t of graph.get(f) ?? []) walk(t);
  };
  walk(from);
  return seen;
}

/** Folders from the top of the stack to the bottom: a file may import its own folder or lower. */
const LEVELS = ['cli', 'pipeline', 'traffic', 'capture', '.', 'receivers', 'engine', 'twin', 'abi', 'packet'];

function level(file: string): number {
  if (file === 'abi.ts') return LEVELS.indexOf('abi');
  const folder = file.includes('/') ? file.slice(0, file.indexOf('/')) : '.';
  return LEVELS.indexOf(folder);
}

describe('bindings/ layout', () => {
  const graph = importGraph();

  it('finds the files it judges', () => {
    expect(graph.get('index.ts')).toContain('engine/create.ts');
    expect(graph.size).toBeGreaterThan(40);
  });

  it('the library entries reach only library code: no CLI, pipeline, capture files, traffic or frame kit', () => {
    for (const entry of ['index.ts', 'node.ts', 'stream.ts']) {
      const files = [...reachable(graph, entry)];
      const tools = files.filter((f) => /^(cli|pipeline|capture|traffic|packet)\//.test(f));
      expect(tools, `${entry} imports tool code`).toEqual([]);
      const builtins = files.filter((f) => f.startsWith('node:'));
      expect(builtins, `${entry} imports Node built-ins`).toEqual(entry === 'node.ts' ? ['node:stream'] : []);
    }
  });

  it("'#load-wasm': the browser side uses no Node built-in; the Node side only node:fs", () => {
    expect(reachable(graph, 'engine/wasm.ts')).toContain('engine/load-wasm.browser.ts');
    expect([...reachable(graph, 'engine/load-wasm.browser.ts')].filter((f) => f.startsWith('node:'))).toEqual([]);
    expect([...reachable(graph, 'engine/load-wasm.node.ts')].filter((f) => f.startsWith('node:'))).toEqual(['node:fs']);
  });

  it('no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done' || !graph.has(f)) return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('folders import only their own folder or the ones below them', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const t of targets) {
        if (!graph.has(t)) continue; // packages and node: built-ins
        if (level(t) < level(file)) upward.push(`${file} → ${t}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
