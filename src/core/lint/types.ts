// What a lint is, what the lints read, and the shape of one rule (docs/trainer-semantics.md#pitfalls lists every rule).
import type { Gen } from '../tensor/blocks';
import type { EvalPredictionData, Tensor } from '../tensor/tensor';
import type { RunSettings } from '../loop/settings';

export interface Lint {
  id: string;
  severity: 'warning' | 'info';
  message: string;
  fix: string;
  /** 1-based line in the metric source, when the lint points at one. */
  line?: number;
  /** The issue or pull request that explains it (the pitfalls table in docs/trainer-semantics.md lists every lint). */
  reference?: string;
}

export interface LintInput {
  evalPred: EvalPredictionData;
  numSamples?: number;
  settings?: Partial<RunSettings>;
  /** The metric file's text, when there is one. */
  source?: string;
  task?: string;
  /**
   * The model's generation_config (model.generation_config: decides Seq2SeqTrainer's padding width, docs/trainer-semantics.md#generation-padding
   * step 4); undefined when unknown. Used by the generation lints (generation-width, generation-capped-20) with settings.predictWithGenerate.
   */
  generation?: { maxLength?: number; maxNewTokens?: number | null; numReturnSequences?: number };
}

/** A LintInput with what every rule would otherwise recompute: the source text and the named tensors of each field. */
export interface LintContext extends LintInput {
  src: string;
  /** [name, tensor] pairs of each field (a tuple's members named like predictions[0]). */
  predTensors: [string, Tensor][];
  labelTensors: [string, Tensor][];
  inputTensors: [string, Tensor][];
}

/**
 * One pitfall detector: pure over the context, returns its findings (usually none or one). A rule that reads
 * array data (statistics, argmax) is a `scan`: a generator that yields between slices of its pass (../tensor/blocks.ts),
 * so the CLI, the adapter and the view run it without holding the event loop over a file-backed array of gigabytes.
 */
export type LintRule = {
  /** The lint ids this rule can emit (most rules emit one). */
  readonly ids: readonly string[];
} & ({ check(ctx: LintContext): Lint[] } | { scan(ctx: LintContext): Gen<Lint[]> });
