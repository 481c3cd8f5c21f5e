// The task names, defined once. The CLI's --task values, the launch schema's `task` enum (package.json,
// checked against this list by test/adapter/launchSchema.test.ts), the encoder heads, the generative loop
// and the view protocol all derive from these lists. No imports: every layer, the webview included, may use it.

/** Tasks of the encoder heads (src/core/model/heads): one forward pass gives the logits. */
export const CLASSIFIER_TASKS = ['sequence-classification', 'token-classification', 'question-answering'] as const;
/** Tasks of the generative loop (src/core/generate), usually detected from the model folder. */
export const GENERATIVE_TASKS = ['causal-lm', 'seq2seq-lm'] as const;
/** Every task `--task` (launch attribute `task`) accepts. */
export const TASK_NAMES = [...CLASSIFIER_TASKS, ...GENERATIVE_TASKS] as const;

export type ClassifierTaskName = (typeof CLASSIFIER_TASKS)[number];
export type GenerativeTaskName = (typeof GENERATIVE_TASKS)[number];
export type TaskName = (typeof TASK_NAMES)[number];

export function isTaskName(s: unknown): s is TaskName {
  return (TASK_NAMES as readonly unknown[]).includes(s);
}

export function isClassifierTask(s: unknown): s is ClassifierTaskName {
  return (CLASSIFIER_TASKS as readonly unknown[]).includes(s);
}

export function isGenerativeTask(s: unknown): s is GenerativeTaskName {
  return (GENERATIVE_TASKS as readonly unknown[]).includes(s);
}

/** config.json architectures[0] suffixes of the encoder heads (HF's …ForXxx class names). */
export const CLASSIFIER_ARCHITECTURE_SUFFIXES: readonly [string, ClassifierTaskName][] = [
  ['ForSequenceClassification', 'sequence-classification'],
  ['ForTokenClassification', 'token-classification'],
  ['ForQuestionAnswering', 'question-answering'],
];
/** Decoder-only language models (run_clm's AutoModelForCausalLM classes). */
export const CAUSAL_LM_ARCHITECTURES: readonly RegExp[] = [/ForCausalLM$/, /LMHeadModel$/];

/** The task config.json's architectures[0] names, or null when it is not one evalpred runs from model.onnx alone. */
export function taskOfArchitecture(arch: string): ClassifierTaskName | 'causal-lm' | null {
  for (const [suffix, task] of CLASSIFIER_ARCHITECTURE_SUFFIXES) if (arch.endsWith(suffix)) return task;
  return CAUSAL_LM_ARCHITECTURES.some((r) => r.test(arch)) ? 'causal-lm' : null;
}
