// Command-line parsing for `lro`: a small, strict parser (no dependency).
//
// Each command declares its flags. Accepted forms: `--name value`, `--name=value`, `-o value`,
// `--flag` for booleans and `--no-flag` for booleans that default to true. Anything else
// (unknown flag, missing value, extra positional) is a UsageError: exit status 2.

/** A usage mistake: one line on stderr, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagType = 'string' | 'number' | 'boolean';

export interface FlagSpec {
  /** Long name without dashes, e.g. `max-flows`; `no-x` for a boolean that defaults to true. */
  name: string;
  type: FlagType;
  short?: string;
  /** Placeholder for the help text, e.g. `N`. */
  arg?: string;
  help: string;
}

export interface Parsed {
  /** Values by long name (`no-x` flags are stored as `no-x: true`). */
  flags: Map<string, string | number | boolean>;
  positionals: string[];
}

/** Parse `argv` (after the command name) against `specs`. `cmd` names the command in messages. */
export function parseArgs(cmd: string, argv: readonly string[], specs: readonly FlagSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const flags = new Map<string, string | number | boolean>();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
    } else if (arg.length === 2) {
      spec = byShort.get(arg[1]);
    } else {
      // -o=FILE or -oFILE
      spec = byShort.get(arg[1]);
      if (spec) inline = arg[2] === '=' ? arg.slice(3) : arg.slice(2);
    }
    if (!spec) {
      const given = arg.split('=')[0];
      const near = nearest(given.replace(/^-+/, ''), [...byLong.keys()]);
      throw new UsageError(`lro ${cmd}: unknown option ${given} (${near ? `did you mean --${near}? ` : ''}see lro ${cmd} --help)`);
    }
    const shown = arg.startsWith('--') ? `--${spec.name}` : `-${spec.short}`;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`lro ${cmd}: ${shown} takes no value`);
      flags.set(spec.name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`lro ${cmd}: ${shown} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
      value = argv[++i];
    }
    if (spec.type === 'number') {
      const n = parseNumber(value);
      if (n === null) throw new UsageError(`lro ${cmd}: ${shown} must be a number, got '${value}'`);
      flags.set(spec.name, n);
    } else {
      flags.set(spec.name, value);
    }
  }
  return { flags, positionals };
}

/** Decimal, hex (0x…), exponent (1e6) and `_` separators; null when not a finite number. */
export function parseNumber(text: string): number | null {
  const t = text.trim().replace(/_/g, '');
  if (t === '') return null;
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : Number(t);
  return Number.isFinite(n) ? n : null;
}

/** Help lines for a flag list, aligned. */
export function formatFlags(specs: readonly FlagSpec[]): string {
  const left = specs.map((s) => {
    const long = `--${s.name}${s.arg ? ` ${s.arg}` : ''}`;
    return s.short ? `-${s.short}, ${long}` : `    ${long}`;
  });
  const width = Math.min(34, Math.max(...left.map((l) => l.length)) + 2);
  return specs
    .map((s, i) => {
      const l = left[i];
      const pad = l.length + 2 > width ? `\n${' '.repeat(width + 2)}` : ' '.repeat(width - l.length);
      return `  ${l}${pad}${s.help.replace(/\n/g, `\n${' '.repeat(width + 2)}`)}`;
    })
    .join('\n');
}

/** The flag name closest to `word` (edit distance at most 2, and less than half its length), or null. */
export function nearest(word: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.min(3, Math.ceil(word.length / 2));
  for (const name of names) {
    const d = editDistance(word, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
