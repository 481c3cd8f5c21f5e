// Pitfall detectors (docs/trainer-semantics.md#pitfalls): warnings about an EvalPrediction, the metric function's source and the
// settings, each with the fix in words. Each rule is its own pure function in rules/; views and the CLI show the findings.
import { lintContext } from './context';
import { LINT_RULES } from './rules';
import type { Lint, LintInput } from './types';

export type { Lint, LintInput, LintRule } from './types';

export function lintEvalPrediction(input: LintInput): Lint[] {
  const ctx = lintContext(input);
  return LINT_RULES.flatMap((r) => r.check(ctx));
}
