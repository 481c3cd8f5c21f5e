// Terminal rendering of an EvalPrediction summary (run, demo, inspect). Data in it (label names, texts,
// array names from a manifest) goes through printable(): no control character reaches the terminal raw.
import { ArraySummary, SampleView, structureOf } from '../core/inspect/describe';
import { EvalPredictionData } from '../core/tensor/tensor';
import { formatDecimal } from '../shared/format';
import { printable } from './terminalText';

// Statistics columns are narrow: exponent from 1e4 up.
const fmt = (v: number | null) => (v === null ? '-' : formatDecimal(v, 1e4));

export function formatStructure(ep: EvalPredictionData): string {
  return [
    `EvalPrediction(`,
    `  predictions = ${structureOf(ep.predictions)},`,
    `  label_ids   = ${structureOf(ep.labelIds)},`,
    `  inputs      = ${structureOf(ep.inputs)},`,
    `  losses      = ${structureOf(ep.losses)})`,
  ].join('\n');
}

export function formatArrays(rows: ArraySummary[]): string {
  const head = ['array', 'dtype', 'shape', 'min', 'max', 'mean', 'NaN', 'inf', '-100'];
  const body = rows.map((r) => [
    r.path,
    r.dtype,
    `[${r.shape.join(', ')}]`,
    fmt(r.stats.min),
    fmt(r.stats.max),
    fmt(r.stats.mean),
    String(r.stats.nanCount),
    String(r.stats.posInfCount + r.stats.negInfCount),
    String(r.stats.minus100Count),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return printable([line(head), ...body.map(line)].join('\n'));
}

export function formatSamples(samples: SampleView[]): string {
  return printable(formatSampleLines(samples));
}

function formatSampleLines(samples: SampleView[]): string {
  return samples
    .map((s) => {
      const mark = s.correct === undefined ? ' ' : s.correct ? '✓' : '✗';
      const input = s.input !== undefined ? `  ${JSON.stringify(s.input.length > 70 ? s.input.slice(0, 67) + '...' : s.input)}` : '';
      // num_return_sequences: the other sequences under the best, one line each in generate()'s order
      const others = (s.sequences ?? []).slice(1).map((p, j) => `\n     pred #${j + 2} of ${s.sequences!.length}=${JSON.stringify(p)}`).join('');
      if (s.text) return `${mark} #${s.index}  pred=${JSON.stringify(s.prediction)}${s.label !== undefined ? `  label=${JSON.stringify(s.label)}` : ''}${input}${others}`;
      return `${mark} #${s.index}  pred=${s.prediction}${s.label !== undefined ? `  label=${s.label}` : ''}${input}`;
    })
    .join('\n');
}
