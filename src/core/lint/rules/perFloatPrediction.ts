// Rules that look at one float prediction array at a time; combined so the findings stay grouped per array.
import { statsOf, TensorStats } from '../../tensor/stats';
import type { Tensor } from '../../tensor/tensor';
import { isFloat } from '../context';
import type { Lint, LintContext, LintRule } from '../types';

export interface FloatPredictionRule {
  readonly ids: readonly string[];
  check(name: string, t: Tensor, stats: TensorStats, ctx: LintContext): Lint | undefined;
}

export function perFloatPrediction(...rules: FloatPredictionRule[]): LintRule {
  return {
    ids: rules.flatMap((r) => r.ids),
    *scan(ctx) {
      const out: Lint[] = [];
      for (const [name, t] of ctx.predTensors) {
        if (!isFloat(t)) continue;
        const stats = yield* statsOf(t);
        for (const r of rules) {
          const l = r.check(name, t, stats, ctx);
          if (l) out.push(l);
        }
      }
      return out;
    },
  };
}
