// Language-model perplexity from the losses Trainer collects (include_for_metrics=["loss"]).
import { EvalpredError } from '../../errors';
import { NumericInput, toNumbers } from './values';

/** exp(mean loss): perplexity from per-sample (or per-token) cross-entropy losses in nats. */
export function perplexity(losses: NumericInput): number {
  const l = toNumbers(losses, 'losses');
  if (l.length === 0) throw new EvalpredError('losses is empty: perplexity needs at least one loss', { tensor: 'losses' });
  let s = 0;
  for (const v of l) s += v;
  return Math.exp(s / l.length);
}
