// What `evalpred compare` prints and writes: the summary table, and the changed samples as JSONL (never over
// a file evalpred did not write).
import fs from 'node:fs';
import { EvalpredError } from '../errors';
import type { ChangedSample, Comparison } from './compare';

function num(v: number | string | undefined): string {
  if (v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return String(+v.toPrecision(6));
}

function signed(d: number | undefined): string {
  if (d === undefined) return '';
  if (d === 0) return '0';
  return (d > 0 ? '+' : '') + String(+d.toPrecision(4));
}

function indices(list: ChangedSample[], change: ChangedSample['change']): string {
  const xs = list.filter((c) => c.change === change).map((c) => `#${c.index}`);
  return xs.length > 30 ? `${xs.slice(0, 30).join(' ')} … (${xs.length - 30} more)` : xs.join(' ');
}

/** The summary `evalpred compare` prints. */
export function comparisonText(c: Comparison): string {
  const lines = [`A: ${c.a}`, `B: ${c.b}`, `${c.task} · ${c.numSamples} samples`, ''];
  const w = Math.max(6, ...c.metrics.map((m) => m.key.length));
  const cols = c.metrics.map((m) => [m.key, num(m.a), num(m.b), signed(m.delta)]);
  const wa = Math.max(1, ...cols.map((r) => r[1].length));
  const wb = Math.max(1, ...cols.map((r) => r[2].length));
  lines.push(`${'metric'.padEnd(w)}  ${'A'.padStart(wa)}  ${'B'.padStart(wb)}  B - A`);
  for (const [k, x, y, d] of cols) lines.push(`${k.padEnd(w)}  ${x.padStart(wa)}  ${y.padStart(wb)}  ${d}`);
  lines.push('');
  if (c.correct.known) {
    const fixed = c.changed.filter((s) => s.change === 'fixed').length;
    const broken = c.changed.length - fixed;
    lines.push(`correct: A ${c.correct.a}/${c.correct.known}, B ${c.correct.b}/${c.correct.known}`);
    lines.push(`fixed (wrong in A, right in B): ${fixed}${fixed ? `  ${indices(c.changed, 'fixed')}` : ''}`);
    lines.push(`broken (right in A, wrong in B): ${broken}${broken ? `  ${indices(c.changed, 'broken')}` : ''}`);
  }
  for (const n of c.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

const CHANGES = new Set(['fixed', 'broken']);

/** A file evalpred compare wrote: every line one changed-sample record. */
function writtenByCompare(file: string): boolean {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return true; // an empty file holds nothing to lose (and is what a compare without changes writes)
  return text
    .split('\n')
    .filter((l) => l !== '')
    .every((l) => {
      try {
        const r = JSON.parse(l);
        return r && typeof r === 'object' && Number.isInteger(r.index) && CHANGES.has(r.change) && typeof r.correct_a === 'boolean' && typeof r.correct_b === 'boolean';
      } catch {
        return false;
      }
    });
}

/** Write the changed samples as JSONL (one record a line, sample order); refuses to replace a file evalpred did not write. */
export function writeChangedJsonl(file: string, changed: ChangedSample[]): void {
  if (fs.existsSync(file)) {
    if (fs.statSync(file).isDirectory()) throw new EvalpredError(`--out ${file} is a folder; give a file name such as changed.jsonl.`, { file });
    if (!writtenByCompare(file)) {
      throw new EvalpredError(`--out ${file} exists and was not written by evalpred compare; evalpred never overwrites a file it did not write. Choose another file name.`, { file });
    }
  }
  const tmp = `${file}.${process.pid}.partial`;
  fs.writeFileSync(tmp, changed.map((c) => JSON.stringify(c)).join('\n') + (changed.length ? '\n' : ''));
  fs.renameSync(tmp, file);
}
