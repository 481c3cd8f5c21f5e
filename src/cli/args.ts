// A small flag parser for the evalpred CLI contract (design.md "CLI"): `--flag value` and `--flag=value`,
// booleans without a value, every unknown flag an error that lists the known ones.
import { EvalpredError } from '../core/errors';

export interface FlagSpec {
  name: string; // kebab-case, without dashes
  type: 'string' | 'int' | 'number' | 'bool' | 'list';
  help: string;
}

export type Parsed = { positional: string[]; flags: Record<string, string | number | boolean | string[]> };

export function parseArgs(argv: string[], specs: FlagSpec[], command: string): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: Parsed = { positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      throw new EvalpredError(`evalpred ${command}: unknown flag --${name}. Known flags: ${specs.map((s) => '--' + s.name).join(', ')}.`);
    }
    if (spec.type === 'bool') {
      out.flags[name] = eq < 0 ? true : !/^(false|0|no)$/i.test(a.slice(eq + 1));
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new EvalpredError(`evalpred ${command}: --${name} needs a value (${spec.help}).`);
    if (spec.type === 'int') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new EvalpredError(`evalpred ${command}: --${name} takes a whole number, got "${value}".`);
      out.flags[name] = n;
    } else if (spec.type === 'number') {
      const n = Number(value);
      if (!value.trim() || !Number.isFinite(n)) throw new EvalpredError(`evalpred ${command}: --${name} takes a number, got "${value}".`);
      out.flags[name] = n;
    } else if (spec.type === 'list') out.flags[name] = value.split(',').map((s) => s.trim()).filter(Boolean);
    else out.flags[name] = value;
  }
  return out;
}

export function camel(kebab: string): string {
  return kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function usage(command: string, specs: FlagSpec[]): string {
  return [`usage: evalpred ${command}`, ...specs.map((s) => `  --${s.name}${s.type === 'bool' ? '' : ' ' + s.type.toUpperCase()}  ${s.help}`)].join('\n');
}
