// Flag parsing for the evalpred CLI (README "Command line"), on node:util parseArgs' tokens: `--flag value` and
// `--flag=value`, booleans without a value. Strict: an unknown flag, a one-dash flag (`-out X`), a flag given
// twice and a stray positional argument are errors naming what was typed; `--help`/`-h` anywhere asks for help.
import { parseArgs as tokenize } from 'node:util';
import { EvalpredError } from '../core/errors';

export interface FlagSpec {
  name: string; // kebab-case, without dashes
  type: 'string' | 'int' | 'number' | 'bool' | 'list';
  help: string;
  /** Smallest value an int flag takes (default 1: counts and sizes). */
  min?: number;
}

export interface PositionalSpec {
  name: string;
  help: string;
}

export type Parsed = { positional: string[]; flags: Record<string, string | number | boolean | string[]> };

/** Thrown when --help or -h is among the arguments: the CLI prints `text` on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

/**
 * Parse `argv` for `evalpred <command>`. `positionals` lists the positional arguments the command takes
 * (none by default); more than that is an error.
 */
export function parseArgs(argv: string[], specs: FlagSpec[], command: string, positionals: PositionalSpec[] = []): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const options = Object.fromEntries(specs.map((s) => [s.name, { type: s.type === 'bool' ? ('boolean' as const) : ('string' as const) }]));
  const { tokens } = tokenize({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  const seeHelp = `(see evalpred ${command} --help)`;
  const out: Parsed = { positional: [], flags: {} };
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help' && (t.rawName === '--help' || t.rawName === '-h'))) {
    throw new HelpRequested(usage(command, specs, positionals));
  }
  const reported = new Set<number>();
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      out.positional.push(t.value);
      continue;
    }
    const typed = argv[t.index];
    if (reported.has(t.index)) continue;
    reported.add(t.index);
    if (!typed.startsWith('--')) {
      const asLong = typed.replace(/^-+/, '').split('=')[0];
      const hint = byName.has(asLong) || asLong === 'help' ? `flags take two dashes: --${asLong}` : knownFlags(specs);
      throw new EvalpredError(`unknown flag ${typed}; ${hint} ${seeHelp}.`);
    }
    const spec = byName.get(t.name);
    if (!spec) throw new EvalpredError(`unknown flag --${t.name}; ${knownFlags(specs)} ${seeHelp}.`);
    if (spec.name in out.flags) throw new EvalpredError(`--${spec.name} is given twice; give it once.`);
    if (spec.type === 'bool') {
      if (t.value === undefined) out.flags[spec.name] = true;
      else if (/^(true|1|yes)$/i.test(t.value)) out.flags[spec.name] = true;
      else if (/^(false|0|no)$/i.test(t.value)) out.flags[spec.name] = false;
      else throw new EvalpredError(`--${spec.name} is a switch and takes no value, got "${t.value}".`);
      continue;
    }
    const value = t.value;
    if (value === undefined) throw new EvalpredError(`--${spec.name} needs a value (${spec.help}).`);
    if (spec.type === 'int') {
      const min = spec.min ?? 1;
      const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (Number.isFinite(n) && !Number.isSafeInteger(n)) throw new EvalpredError(`--${spec.name} is too large: ${value}.`);
      if (!Number.isSafeInteger(n) || n < min) {
        throw new EvalpredError(`--${spec.name} takes a whole number${min > 0 ? ` of at least ${min}` : ' (0 or more)'}, got "${value}".`);
      }
      out.flags[spec.name] = n;
    } else if (spec.type === 'number') {
      const n = Number(value);
      if (!value.trim() || !Number.isFinite(n)) throw new EvalpredError(`--${spec.name} takes a number, got "${value}".`);
      out.flags[spec.name] = n;
    } else if (spec.type === 'list') out.flags[spec.name] = value.split(',').map((s) => s.trim()).filter(Boolean);
    else out.flags[spec.name] = value;
  }
  if (out.positional.length > positionals.length) {
    const extra = out.positional.slice(positionals.length);
    const takes = positionals.length ? `takes ${positionals.map((p) => p.name).join(' ')} and flags` : 'takes only flags';
    throw new EvalpredError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => JSON.stringify(a)).join(' ')}: evalpred ${command} ${takes} ${seeHelp}.`);
  }
  return out;
}

function knownFlags(specs: FlagSpec[]): string {
  return `known flags: ${specs.map((s) => '--' + s.name).join(', ')}`;
}

export function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()); // version-2-with-negative -> version2WithNegative
}

/** The text of `evalpred <command> --help`: the synopsis, then each flag on one line. */
export function usage(command: string, specs: FlagSpec[], positionals: PositionalSpec[] = []): string {
  const arg = (s: FlagSpec) => `--${s.name}${s.type === 'bool' ? '' : s.type === 'int' || s.type === 'number' ? ' N' : s.type === 'list' ? ' A,B' : ' VALUE'}`;
  const width = Math.max(...[...specs.map(arg), ...positionals.map((p) => p.name), '--help'].map((a) => a.length));
  return [
    `usage: evalpred ${command}${positionals.map((p) => ' ' + p.name).join('')}${specs.length ? ' [flags]' : ''}`,
    '',
    ...positionals.map((p) => `  ${p.name.padEnd(width)}  ${p.help}`),
    ...specs.map((s) => `  ${arg(s).padEnd(width)}  ${s.help}`),
    `  ${'--help'.padEnd(width)}  show this help`,
  ].join('\n');
}
