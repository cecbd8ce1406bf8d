// The numeric contract with the WASM core, checked across languages. bindings/abi.ts defines it
// once for TypeScript; the core (AssemblyScript, which cannot import TypeScript) and the benchmark
// kernel type the same numbers again. This test reads their `const NAME: type = value;` lines out
// of the source text and fails on any difference, and on a REASON_* / STAT_* / CAUSE_* constant
// that exists on one side only. Every numeric export of abi.ts but the JS-only ones must be defined
// somewhere in assembly/ under its own name; bench/kernels.ts is checked for its STAGE_BYTES, MAX_BATCH and
// RING_BYTES (= the engine's default ringBytes, bindings/engine/options.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as abi from '../bindings/abi.js';
import { DEFAULT_RING_BYTES } from '../bindings/engine/options.js';

const root = new URL('../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

/** Every core file: a contract constant may live in any (today reason, stats, index, aggregate, parse, engine). */
const CORE_FILES = readdirSync(new URL('assembly/', root))
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((f) => `assembly/${f}`);
const KERNEL_FILE = 'bench/kernels.ts';
/** abi.ts numbers with no copy in the core: rules of the JS side only. */
const JS_ONLY = new Set(['STAGE_FRAME_MAX']);
/** Prefixes whose names must exist on both sides. */
const BOTH_WAYS = /^(REASON|STAT|CAUSE)_/;

interface Def {
  file: string;
  name: string;
  /** undefined: the expression is not one the evaluator understands. */
  value: bigint | undefined;
  expr: string;
}

// ── A tiny evaluator: integer literals (decimal, hex, `_` separators), names defined earlier,
// casts `<T>`, parentheses, unary - ~, binary ** * / % + - << >> & ^ |, with TS precedence.

const BINARY: Record<string, [number, (a: bigint, b: bigint) => bigint]> = {
  '|': [1, (a, b) => a | b],
  '^': [2, (a, b) => a ^ b],
  '&': [3, (a, b) => a & b],
  '<<': [4, (a, b) => a << b],
  '>>': [4, (a, b) => a >> b],
  '+': [5, (a, b) => a + b],
  '-': [5, (a, b) => a - b],
  '*': [6, (a, b) => a * b],
  '/': [6, (a, b) => a / b],
  '%': [6, (a, b) => a % b],
  '**': [7, (a, b) => a ** b],
};

function evaluate(expr: string, scope: ReadonlyMap<string, bigint>): bigint {
  const source = expr.replace(/<[A-Za-z_]\w*>/g, ' '); // casts: <usize>x
  const tokens = source.match(/0[xX][0-9a-fA-F_]+|\d[\d_]*|[A-Za-z_]\w*|\*\*|<<|>>|\S/g) ?? [];
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`cannot evaluate \`${expr}\`: ${why}`);
  };
  const primary = (): bigint => {
    const t = tokens[at++] ?? fail('unexpected end');
    if (t === '(') {
      const v = binary(0);
      if (tokens[at++] !== ')') fail('missing )');
      return v;
    }
    if (t === '-') return -unary();
    if (t === '~') return ~unary();
    if (/^\d|^0[xX]/.test(t)) return BigInt(t.replace(/_/g, ''));
    if (/^[A-Za-z_]/.test(t)) return scope.get(t) ?? fail(`${t} is not a known constant`);
    return fail(`unexpected ${t}`);
  };
  const unary = primary;
  const binary = (minPrec: number): bigint => {
    let left = unary();
    for (;;) {
      const op = BINARY[tokens[at]];
      if (!op || op[0] < minPrec) return left;
      at++;
      // ** is right-associative, the rest left-associative.
      const right = binary(tokens[at - 1] === '**' ? op[0] : op[0] + 1);
      left = op[1](left, right);
    }
  };
  const value = binary(0);
  if (at !== tokens.length) fail(`unexpected ${tokens[at]}`);
  return value;
}

const DEFINITION = /^[ \t]*(?:export\s+)?const\s+([A-Z][A-Z0-9_]*)\s*:\s*\w+\s*=\s*([^;]+);/gm;

/**
 * Every `const NAME: type = value;` of the files. A value may name constants of any of the files
 * (AssemblyScript imports them, as stats.ts does REASON_COUNT), its own file's first.
 */
function extract(files: ReadonlyArray<readonly [file: string, text: string]>): Def[] {
  const defs: Def[] = files.flatMap(([file, text]) =>
    [...text.matchAll(DEFINITION)].map(([, name, expr]) => ({ file, name, expr: expr.trim(), value: undefined as bigint | undefined })),
  );
  // Evaluate in rounds until no more resolve: a name may be used before (or in a file read
  // before) the one defining it.
  for (let resolved = true; resolved; ) {
    resolved = false;
    for (const def of defs) {
      if (def.value !== undefined) continue;
      const scope = new Map<string, bigint>();
      for (const sameFile of [false, true]) {
        // other files' names, then this file's (which win)
        for (const d of defs) if (d.value !== undefined && (d.file === def.file) === sameFile) scope.set(d.name, d.value);
      }
      try {
        def.value = evaluate(def.expr, scope);
        resolved = true;
      } catch {
        // not (yet) evaluable
      }
    }
  }
  return defs;
}

type Abi = Readonly<Record<string, unknown>>;

function show(def: Def): string {
  return def.value === undefined ? `\`${def.expr}\` (not evaluable)` : String(def.value);
}

/** The contract's drift between the core's definitions and bindings/abi.ts: one line per problem. */
function compareCore(defs: readonly Def[], contract: Abi): string[] {
  const problems: string[] = [];
  const found = new Set<string>();
  for (const def of defs) {
    const expected = contract[def.name];
    if (typeof expected === 'number') {
      found.add(def.name);
      if (def.value === undefined || Number(def.value) !== expected) {
        problems.push(`${def.name}: ${def.file} has ${show(def)}, bindings/abi.ts has ${expected}`);
      }
    } else if (BOTH_WAYS.test(def.name)) {
      problems.push(`${def.name}: defined in ${def.file} but not exported by bindings/abi.ts`);
    }
  }
  for (const [name, value] of Object.entries(contract)) {
    if (typeof value === 'number' && !JS_ONLY.has(name) && !found.has(name)) {
      problems.push(`${name}: exported by bindings/abi.ts but defined in no assembly/*.ts file`);
    }
  }
  return problems;
}

/** bench/kernels.ts repeats a few contract numbers under its own names. */
function compareKernels(defs: readonly Def[], contract: typeof abi): string[] {
  const expected: Record<string, number> = {
    STAGE_BYTES: contract.STAGE_BYTES,
    MAX_BATCH: contract.MAX_BATCH,
    RING_BYTES: DEFAULT_RING_BYTES,
  };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(expected)) {
    const def = defs.find((d) => d.name === name);
    if (!def) problems.push(`${name}: not defined in ${KERNEL_FILE}`);
    else if (def.value === undefined || Number(def.value) !== value) {
      problems.push(`${name}: ${def.file} has ${show(def)}, bindings/abi.ts gives ${value}`);
    }
  }
  return problems;
}

const coreSources = () => CORE_FILES.map((file) => [file, read(file)] as const);

describe('ABI: bindings/abi.ts against the AssemblyScript sources', () => {
  it('the evaluator reads the forms the sources use', () => {
    const scope = new Map([
      ['A', 11n],
      ['B', 19n],
    ]);
    expect(evaluate('1 << 20', scope)).toBe(1n << 20n);
    expect(evaluate('2 ** 53 - 1', scope)).toBe(9007199254740991n);
    expect(evaluate('0x86dd', scope)).toBe(0x86ddn);
    expect(evaluate('A + B', scope)).toBe(30n);
    expect(evaluate('3 * (<usize>A - 1)', scope)).toBe(30n);
    expect(evaluate('(65535 + 128 + 7) & ~7', scope)).toBe(65664n);
    expect(() => evaluate('C + 1', scope)).toThrow(/C is not a known constant/);
  });

  it('every contract constant of the core equals bindings/abi.ts, and REASON_* / STAT_* / CAUSE_* exist on both sides', () => {
    const defs = extract(coreSources());
    expect(compareCore(defs, abi)).toEqual([]);
    // The check saw the constants it is about (not an empty match).
    const names = new Set(defs.map((d) => d.name));
    for (const name of [
      'REASON_CLOSE',
      'STAT_COUNT',
      'STAT_CAUSES',
      'CAUSE_TCP_OPTIONS',
      'CAUSE_COUNT',
      'NO_CAUSE',
      'FRAME_UNLIMITED',
      'MAX_BATCH',
      'DESC_TIME',
      'OUT_SIZE',
      'OUT_FIXED_IP_ID',
      'BUFFER_SLACK',
      'LINK_SLL2',
      'MAX_TIME',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('the core computes bufferCapacity as bindings/abi.ts does', () => {
    const text = read('assembly/aggregate.ts');
    const m = /function bufferCapacity\((\w+): i32\): i32 \{\s*return ([^;]+);\s*\}/.exec(text);
    expect(m, 'bufferCapacity in assembly/aggregate.ts').not.toBeNull();
    const scope = new Map(
      extract([['assembly/aggregate.ts', text]]).flatMap((d) => (d.value === undefined ? [] : [[d.name, d.value] as const])),
    );
    for (const maxAggregate of [1, 1500, 9000, 65535, 262144]) {
      scope.set(m![1], BigInt(maxAggregate));
      expect(Number(evaluate(m![2], scope)), `maxAggregate ${maxAggregate}`).toBe(abi.bufferCapacity(maxAggregate));
    }
  });

  it("bench/kernels.ts repeats STAGE_BYTES, MAX_BATCH and the engine's default ring size correctly", () => {
    expect(compareKernels(extract([[KERNEL_FILE, read(KERNEL_FILE)]]), abi)).toEqual([]);
  });

  it('REASONS names every reason code: REASONS[REASON_X] is x in kebab case', () => {
    expect(abi.REASONS.length).toBe(abi.REASON_COUNT);
    const codes = Object.entries(abi).filter(([name]) => name.startsWith('REASON_') && name !== 'REASON_COUNT');
    expect(codes.length).toBe(abi.REASON_COUNT);
    for (const [name, code] of codes) {
      expect(abi.REASONS[code as number], name).toBe(name.slice('REASON_'.length).toLowerCase().replace(/_/g, '-'));
    }
    expect(abi.STAT_CAUSES).toBe(abi.STAT_REASONS + abi.REASON_COUNT);
  });

  it('PASS_THROUGH_CAUSES names every cause code: PASS_THROUGH_CAUSES[CAUSE_X] is x in kebab case; their slots come last', () => {
    expect(abi.PASS_THROUGH_CAUSES.length).toBe(abi.CAUSE_COUNT);
    const codes = Object.entries(abi).filter(([name]) => name.startsWith('CAUSE_') && name !== 'CAUSE_COUNT');
    expect(codes.length).toBe(abi.CAUSE_COUNT);
    for (const [name, code] of codes) {
      expect(abi.PASS_THROUGH_CAUSES[code as number], name).toBe(name.slice('CAUSE_'.length).toLowerCase().replace(/_/g, '-'));
    }
    expect(abi.NO_CAUSE).toBeLessThan(0);
    expect(abi.STAT_COUNT).toBe(abi.STAT_CAUSES + abi.CAUSE_COUNT);
  });

  it('the check fails on drift: an altered value, a constant on one side only, a kernel copy', () => {
    const sources = coreSources();
    const alter = (file: string, edit: (text: string) => string) =>
      sources.map(([f, text]) => [f, f === file ? edit(text) : text] as const);
    const sub = (from: RegExp, to: string) => (text: string) => {
      expect(text).toMatch(from);
      return text.replace(from, to);
    };

    const altered = compareCore(extract(alter('assembly/reason.ts', sub(/REASON_FLUSH: i32 = 17;/, 'REASON_FLUSH: i32 = 18;'))), abi);
    expect(altered).toEqual([expect.stringContaining('REASON_FLUSH: assembly/reason.ts has 18, bindings/abi.ts has 17')]);

    // A derived value follows its inputs: STAT_CAUSES = STAT_REASONS + REASON_COUNT, STAT_COUNT = STAT_CAUSES + CAUSE_COUNT.
    const derived = compareCore(extract(alter('assembly/stats.ts', sub(/STAT_REASONS: i32 = 11;/, 'STAT_REASONS: i32 = 12;'))), abi);
    expect(derived.map((p) => p.split(':')[0])).toEqual(['STAT_REASONS', 'STAT_CAUSES', 'STAT_COUNT']);
    const cause = compareCore(extract(alter('assembly/reason.ts', sub(/CAUSE_COUNT: i32 = 10;/, 'CAUSE_COUNT: i32 = 11;'))), abi);
    expect(cause.map((p) => p.split(':')[0])).toEqual(['CAUSE_COUNT', 'STAT_COUNT']);

    const descriptor = compareCore(extract(alter('assembly/index.ts', sub(/DESC_TIME: usize = 16;/, 'DESC_TIME: usize = 0x10 + 8;'))), abi);
    expect(descriptor).toEqual([expect.stringContaining('DESC_TIME: assembly/index.ts has 24')]);

    const coreOnly = compareCore(extract(alter('assembly/reason.ts', (t) => `${t}export const REASON_EXTRA: i32 = 19;\n`)), abi);
    expect(coreOnly).toEqual([expect.stringContaining('REASON_EXTRA: defined in assembly/reason.ts but not exported')]);

    const abiOnly = compareCore(extract(sources), { ...abi, STAT_EXTRA: 31 });
    expect(abiOnly).toEqual([expect.stringContaining('STAT_EXTRA: exported by bindings/abi.ts but defined in no assembly/*.ts file')]);

    const removed = compareCore(extract(alter('assembly/engine.ts', sub(/const MAX_TIME: f64 = [^;]+;/, ''))), abi);
    expect(removed).toEqual([expect.stringContaining('MAX_TIME: exported by bindings/abi.ts but defined in no assembly/*.ts file')]);

    const kernels = read(KERNEL_FILE).replace(/RING_BYTES: usize = 16777216;/, 'RING_BYTES: usize = 1048576;');
    expect(compareKernels(extract([[KERNEL_FILE, kernels]]), abi)).toEqual([
      expect.stringContaining('RING_BYTES: bench/kernels.ts has 1048576, bindings/abi.ts gives 16777216'),
    ]);
  });
});
