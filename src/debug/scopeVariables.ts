// The `sample` and `run` scopes as DAP variables, built from the runtime's plain answers (sample(i),
// runInfo(), lints()). Translation only: what a sample or a run is belongs to src/core/runtime.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Lint } from '../core/lint/lints';
import type { BatchCall, RuntimeRunInfo, RuntimeSample } from '../core/runtime/evalRuntime';
import type { Gen } from '../core/tensor/blocks';
import type { VariableStore } from './variables';

/** The `sample` scope: the selected row's decoded text, prediction and label, then each field's row. */
export function sampleVariables(store: VariableStore, sample: RuntimeSample | undefined): DebugProtocol.Variable[] {
  if (!sample) return [];
  const { index: i, view } = sample;
  const out: DebugProtocol.Variable[] = [{ name: 'index', value: String(i), variablesReference: 0, evaluateName: 'sample' }];
  if (view?.input !== undefined) out.push({ name: 'input', value: JSON.stringify(view.input), variablesReference: 0, evaluateName: `decode(inputs[${i}])` });
  out.push({ name: 'prediction', value: view?.prediction ? JSON.stringify(view.prediction) : 'n/a', variablesReference: 0 });
  // num_return_sequences: every sequence of the sample, ranked, with the predictions row it decodes
  const seqs = view?.sequences;
  if (seqs && seqs.length > 1) {
    const base = i * seqs.length;
    out.push({
      name: 'sequences',
      value: `${seqs.length} sequences (num_return_sequences), best first: predictions[${base}:${base + seqs.length}]`,
      variablesReference: store.record(() => seqs.map((p, j) => ({ name: `#${j + 1}`, value: JSON.stringify(p), variablesReference: 0, evaluateName: `decode(predictions[${base + j}])` }))),
    });
  }
  if (view?.label !== undefined) out.push({ name: 'label', value: JSON.stringify(view.label), variablesReference: 0 });
  if (view?.correct !== undefined) out.push({ name: 'correct', value: view.correct ? 'True' : 'False', variablesReference: 0 });
  for (const row of sample.rows) out.push(store.forValue(row.name, row.value, row.name));
  return out;
}

/** The `run` scope: cache, settings, timings, notes, the last metrics, and the lints (computed in slices when opened). */
export function runVariables(store: VariableStore, info: RuntimeRunInfo | undefined, lints: () => Gen<Lint[]>): DebugProtocol.Variable[] {
  if (!info) return [];
  const out: DebugProtocol.Variable[] = [
    { name: 'cacheDir', value: info.cacheDir, variablesReference: 0 },
    { name: 'cacheKey', value: info.cacheKey, variablesReference: 0 },
    { name: 'fromCache', value: info.fromCache ? 'True' : 'False', variablesReference: 0 },
    { name: 'numSamples', value: String(info.numSamples), variablesReference: 0 },
    { name: 'settings', value: 'launch settings', variablesReference: store.record(() => plainVariables(info.settings as unknown as Record<string, unknown>)) },
  ];
  if (info.timings) {
    const timings = info.timings;
    out.push({ name: 'timings', value: `${timings.runtimeSeconds.toFixed(3)} s`, variablesReference: store.record(() => plainVariables(timings)) });
  }
  if (info.notes?.length) {
    const notes = info.notes;
    out.push({ name: 'notes', value: `${notes.length} notes`, variablesReference: store.record(() => plainVariables(notes)) });
  }
  if (info.lastMetrics) {
    const m = info.lastMetrics.metrics;
    out.push({ name: 'metrics', value: info.lastMetrics.json.replace(/\s+/g, ' '), variablesReference: store.record(() => plainVariables(m as Record<string, unknown>)) });
  }
  out.push({
    name: 'lints',
    value: 'pitfall checks',
    presentationHint: { lazy: true },
    variablesReference: store.lazy(function* () {
      const found = yield* lints();
      const value = found.length ? found.map((l) => `${l.id}: ${l.message}`).join(' | ') : 'no pitfalls found';
      return () => ({ name: 'lints', value, variablesReference: found.length ? store.record(() => found.map((l, k) => ({ name: `[${k}] ${l.id}`, value: `${l.message} Fix: ${l.fix}`, variablesReference: 0 }))) : 0 });
    }),
  });
  return out;
}

/** The `batch_eval_metrics` scope: the batch the paused EvalPrediction holds and the compute_result its call gets. */
export function batchCallVariables(call: BatchCall): DebugProtocol.Variable[] {
  return [
    { name: 'batch', value: `${call.index + 1} of ${call.count}`, variablesReference: 0 },
    { name: 'compute_result', value: call.computeResult ? 'True' : 'False', variablesReference: 0 },
  ];
}

/** JSON-ish values as a variable list (records and arrays expand only when asked). */
export function plainVariables(obj: object): DebugProtocol.Variable[] {
  return Object.entries(obj).map(([k, v]) => ({
    name: Array.isArray(obj) ? `[${k}]` : k,
    value: v === null || v === undefined ? 'None' : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'string' ? v : String(v),
    variablesReference: 0,
  }));
}
