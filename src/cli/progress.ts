// Progress and logs on stderr (stdout carries only the metrics JSON): a redrawn line on a terminal,
// plain lines every 10% otherwise (CI logs).
import type { LoopProgress } from '../core/loop/types';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: LoopProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const pct = p.numSamples ? (100 * p.samples) / p.numSamples : 100;
    const rate = p.elapsedMs > 0 ? (p.samples / p.elapsedMs) * 1000 : 0;
    const line = `batch ${p.batch}/${p.numBatches}  ${p.samples}/${p.numSamples} samples  ${pct.toFixed(0)}%  ${rate.toFixed(0)} samples/s`;
    if (stream.isTTY) {
      stream.write(`\r${line}\x1b[K`);
      if (p.batch === p.numBatches) stream.write('\n');
    } else {
      const decile = Math.floor(pct / 10);
      if (decile !== lastDecile || p.batch === p.numBatches) {
        lastDecile = decile;
        stream.write(line + '\n');
      }
    }
  };
}
