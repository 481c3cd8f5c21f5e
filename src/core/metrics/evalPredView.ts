// The object a TS/JS compute_metrics receives: the four EvalPrediction fields with our Tensor class,
// tuples and lists as JS arrays marked with `kind` ('tuple' | 'list'). Iterating it yields the same items
// as Python's EvalPrediction (predictions, label_ids, then inputs and losses when present), so
// `const [preds, labels] = evalPred` works. Reading a well-known misspelling (`labels`, `prediction`)
// throws a TypeError naming the right field instead of handing back undefined (the attribute-typo pitfall, docs/trainer-semantics.md#pitfalls).
import { Tensor, TensorNode, EvalPredictionData } from '../tensor/tensor';

export type NodeView = Tensor | TupleView | ListView;
export type TupleView = NodeView[] & { readonly kind: 'tuple' };
export type ListView = NodeView[] & { readonly kind: 'list' };

export interface EvalPredView {
  readonly predictions: NodeView | null;
  readonly labelIds: NodeView | null;
  readonly label_ids: NodeView | null;
  /** batch_eval_metrics: the batch mapping ({input_ids, attention_mask, ...}); otherwise the input ids. */
  readonly inputs: NodeView | Readonly<Record<string, NodeView>> | null;
  readonly losses: NodeView | null;
  [Symbol.iterator](): Iterator<NodeView | Readonly<Record<string, NodeView>>>;
}

function marked(items: NodeView[], kind: 'tuple' | 'list'): NodeView[] {
  Object.defineProperty(items, 'kind', { value: kind, enumerable: false });
  return items;
}

export function nodeView(node: TensorNode): NodeView {
  if (node instanceof Tensor) return node;
  if ('tuple' in node) return marked(node.tuple.map(nodeView), 'tuple') as TupleView;
  return marked(node.list.map(nodeView), 'list') as ListView;
}

export function isTupleView(x: unknown): x is TupleView {
  return Array.isArray(x) && (x as { kind?: string }).kind === 'tuple';
}

export function isListView(x: unknown): x is ListView {
  return Array.isArray(x) && (x as { kind?: string }).kind === 'list';
}

const TYPOS: Record<string, string> = {
  prediction: 'predictions',
  preds: 'predictions',
  logits: 'predictions',
  labels: 'labelIds (or label_ids)',
  label: 'labelIds (or label_ids)',
  labelId: 'labelIds (or label_ids)',
  label_id: 'labelIds (or label_ids)',
  labelsIds: 'labelIds (or label_ids)',
  input: 'inputs',
  loss: 'losses',
};

/**
 * run_qa with a doc stride (docs/trainer-semantics.md#question-answering-with-doc-stride): QuestionAnsweringTrainer
 * hands compute_metrics the post-processed answers and references as plain lists, in place of the arrays.
 */
export interface PlainFields {
  predictions: unknown[];
  labelIds: unknown[];
}

/** `batchInputs`: one batch_eval_metrics call's batch mapping, which is its `inputs` (docs/trainer-semantics.md#batch_eval_metrics). */
export function buildEvalPredView(ep: EvalPredictionData, plain?: PlainFields, batchInputs?: Record<string, NodeView>): EvalPredView {
  const f = (n: TensorNode | null) => (n ? nodeView(n) : null);
  // A fresh copy per run, as the arrays are: a metric that edits the lists never changes the next run's.
  const predictions = plain ? (structuredClone(plain.predictions) as unknown as NodeView) : f(ep.predictions);
  const labelIds = plain ? (structuredClone(plain.labelIds) as unknown as NodeView) : f(ep.labelIds);
  const inputs = batchInputs ?? f(ep.inputs);
  const losses = f(ep.losses);
  // Fixed at construction, as EvalPrediction.elements is.
  const elements = [predictions, labelIds, ...(inputs ? [inputs] : []), ...(losses ? [losses] : [])] as unknown[];
  const target = {
    predictions,
    labelIds,
    label_ids: labelIds,
    inputs,
    losses,
    [Symbol.iterator]: () => elements[Symbol.iterator](),
  };
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'string' && !(prop in t) && Object.prototype.hasOwnProperty.call(TYPOS, prop)) {
        throw new TypeError(`evalPred has no property '${prop}': did you mean ${TYPOS[prop]}?`);
      }
      return Reflect.get(t, prop, receiver);
    },
  }) as EvalPredView;
}
