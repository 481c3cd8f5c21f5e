// `evalpred compare CACHE_A CACHE_B [--metrics FILE [--function NAME]] [--out changed.jsonl] [--json]`: the
// metrics of two caches of the same dataset with the difference, and the samples whose correctness changed.
import { compareCaches } from '../../core/compare/compare';
import { comparisonText, writeChangedJsonl } from '../../core/compare/report';
import { parseArgs } from '../args';
import { printable } from '../terminalText';
import { EvalpredError } from '../../core/errors';
import { MetricRunners } from '../../core/metrics/runMetrics';
import { MEMORY_LIMIT_FLAG, PYTHON_FLAG, memoryLimitFromFlags, pythonFromFlags } from '../runFlags';

export async function compareCommand(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    [
      { name: 'metrics', type: 'string', help: 'metric file (.ts/.js/.py) run on both caches (default: the built-in metrics of the task)' },
      { name: 'out', type: 'string', help: 'write the samples whose correctness changed as JSONL to this file' },
      { name: 'json', type: 'bool', help: 'print the comparison as JSON instead of a table' },
      MEMORY_LIMIT_FLAG,
      PYTHON_FLAG,
    ],
    'compare',
    [
      { name: 'CACHE_A', help: 'the first cache folder (the baseline)' },
      { name: 'CACHE_B', help: 'the second cache folder' },
    ],
  );
  const [a, b] = p.positional;
  if (!a || !b) throw new EvalpredError('evalpred compare needs two cache folders: evalpred compare CACHE_A CACHE_B.');
  const runners = new MetricRunners({ memoryLimitMb: memoryLimitFromFlags(p), python: pythonFromFlags(p) });
  let c;
  try {
    c = await compareCaches(runners, a, b, { metrics: p.flags.metrics as string | undefined });
  } finally {
    await runners.close();
  }
  const out = p.flags.out as string | undefined;
  if (out) writeChangedJsonl(out, c.changed);
  if (p.flags.json) process.stdout.write(JSON.stringify(c, null, 2) + '\n');
  else process.stdout.write(printable(comparisonText(c)) + '\n');
  if (out) process.stderr.write(`${c.changed.length} changed sample(s) written to ${out}\n`);
  return 0;
}
