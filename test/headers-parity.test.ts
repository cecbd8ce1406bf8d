// Header field names, both sides: assembly/headers.ts (AssemblyScript, which cannot import
// TypeScript) and bindings/twin/headers.ts must export the same names with the same values. The
// core's constants are read out of its source text (`export const NAME: i32 = value;`) with a tiny
// evaluator, and compared with the twin module's exports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as twin from '../bindings/twin/headers.js';

const CORE_FILE = 'assembly/headers.ts';
const coreSource = () => readFileSync(new URL(`../${CORE_FILE}`, import.meta.url), 'utf8');

const DEFINITION = /^export const ([A-Z][A-Z0-9_]*): i32 = ([^;]+);/gm;

/** Integer literals (decimal or hex) joined by `<<`; anything else is refused, not guessed. */
function evaluate(expr: string): number {
  const terms = expr.split('<<').map((t) => t.trim());
  const values = terms.map((t) => {
    if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) throw new Error(`cannot evaluate \`${expr}\`: ${t || '(empty)'}`);
    return Number(t);
  });
  return values.reduce((a, b) => a << b);
}

/** Every constant of the core's source, by name; throws on an `export const` of another form. */
function extract(source: string): Map<string, number> {
  const defs = new Map<string, number>();
  for (const [, name, expr] of source.matchAll(DEFINITION)) {
    if (defs.has(name)) throw new Error(`${name} is defined twice`);
    defs.set(name, evaluate(expr.trim()));
  }
  const exports = source.match(/^export const /gm)?.length ?? 0;
  if (exports !== defs.size) {
    throw new Error(`${exports - defs.size} export const line(s) not of the form \`export const NAME: i32 = value;\``);
  }
  return defs;
}

/** One line per difference between the core's constants and the twin's exports. */
function compare(core: ReadonlyMap<string, number>, other: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const [name, value] of core) {
    if (!(name in other)) problems.push(`${name}: in ${CORE_FILE} (${value}) but not exported by bindings/twin/headers.ts`);
    else if (other[name] !== value)
      problems.push(`${name}: ${CORE_FILE} has ${value}, bindings/twin/headers.ts has ${String(other[name])}`);
  }
  for (const name of Object.keys(other)) {
    if (!core.has(name)) problems.push(`${name}: exported by bindings/twin/headers.ts but not defined in ${CORE_FILE}`);
  }
  return problems;
}

describe('header field names: assembly/headers.ts = bindings/twin/headers.ts', () => {
  it('the evaluator reads literals, hex and <<, and refuses the rest', () => {
    expect(evaluate('8')).toBe(8);
    expect(evaluate('0x86dd')).toBe(0x86dd);
    expect(evaluate('1 << 4')).toBe(16);
    expect(() => evaluate('IPV4_TTL + 1')).toThrow(/cannot evaluate/);
  });

  it('same names, same values', () => {
    const core = extract(coreSource());
    expect(compare(core, twin)).toEqual([]);
    // The check saw what it is about (not an empty match).
    expect(core.size).toBeGreaterThan(50);
    expect(core.get('IPV4_TTL')).toBe(8);
    expect(core.get('TCP_FLAGS')).toBe(13);
    expect(core.get('PROTO_FRAGMENT')).toBe(44);
    for (const value of Object.values(twin)) expect(Number.isInteger(value)).toBe(true);
  });

  it('notices drift: a changed value, a constant on one side only, a definition of another form', () => {
    const source = coreSource();
    const edit = (from: RegExp, to: string) => {
      expect(source).toMatch(from);
      return source.replace(from, to);
    };

    expect(compare(extract(edit(/IPV4_TTL: i32 = 8;/, 'IPV4_TTL: i32 = 9;')), twin)).toEqual([
      'IPV4_TTL: assembly/headers.ts has 9, bindings/twin/headers.ts has 8',
    ]);
    expect(compare(extract(edit(/ETH_QINQ: i32 = 0x88a8;/, 'ETH_QINQ: i32 = 0x9100;')), twin)).toEqual([
      expect.stringContaining('ETH_QINQ: assembly/headers.ts has 37120'),
    ]);
    expect(compare(extract(`${source}export const TCP_MSS_OPTION: i32 = 2;\n`), twin)).toEqual([
      expect.stringContaining('TCP_MSS_OPTION: in assembly/headers.ts (2) but not exported'),
    ]);
    expect(compare(extract(edit(/^export const IPV6_HOP_LIMIT: i32 = 7;\n/m, '')), twin)).toEqual([
      expect.stringContaining('IPV6_HOP_LIMIT: exported by bindings/twin/headers.ts but not defined'),
    ]);
    expect(() => extract(edit(/IPV4_TTL: i32 = 8;/, 'IPV4_TTL: u8 = 8;'))).toThrow(/not of the form/);
  });
});
