// Pitfall detectors (docs/trainer-semantics.md#pitfalls): warnings about an EvalPrediction, the metric function's source and the
// settings, each with the fix in words. Each rule is its own pure function in rules/; views and the CLI show the findings.
import { runSliced } from '../expr/slices';
import { Gen, runToEnd } from '../tensor/blocks';
import { lintContext } from './context';
import { LINT_RULES } from './rules';
import type { Lint, LintContext, LintInput, LintRule } from './types';

export type { Lint, LintInput, LintRule } from './types';

/**
 * Every rule's findings, as a pass that yields between slices: the rules that read array data (statistics,
 * argmax) go through file-backed arrays block by block (docs/cache-format.md#arrays-larger-than-memory).
 */
export function* lintPass(input: LintInput): Gen<Lint[]> {
  const ctx = lintContext(input);
  const out: Lint[] = [];
  for (const r of LINT_RULES) out.push(...(yield* findingsOf(r, ctx)));
  return out;
}

/** One rule's findings as a pass (a `check` rule's at once, a `scan` rule's in slices). */
export function* findingsOf(rule: LintRule, ctx: LintContext): Gen<Lint[]> {
  return 'scan' in rule ? yield* rule.scan(ctx) : rule.check(ctx);
}

/**
 * The lints, computed in slices with the event loop given a turn every few milliseconds (../expr/slices.ts):
 * what the CLI, the debug adapter and the view use, so a pass over gigabytes does not stall them.
 */
export function lintEvalPredictionSliced(input: LintInput, signal?: AbortSignal): Promise<Lint[]> {
  return runSliced(lintPass(input), signal);
}

/** The same lints in one synchronous pass (tests and in-memory arrays; the same rules, the same order). */
export function lintEvalPrediction(input: LintInput): Lint[] {
  return runToEnd(lintPass(input));
}
