// The extension's typed command ids, settings and context keys in one place (js-debug's contributionUtils):
// package.json must list exactly these, and test/unit/contributions.test.ts checks both directions.
// No `vscode` import here, so the test can load it in plain Node.

export const Commands = {
  RunEvaluation: 'evalpred.runEvaluation',
  RerunMetrics: 'evalpred.rerunMetrics',
  OpenPredictionView: 'evalpred.openPredictionView',
  ImportDump: 'evalpred.importDump',
  ClearCache: 'evalpred.clearCache',
  CancelEvaluation: 'evalpred.cancelEvaluation',
  OpenVariableInPredictionView: 'evalpred.openVariableInPredictionView',
  ShowLog: 'evalpred.showLog',
  CopyCaptureSnippet: 'evalpred.copyCaptureSnippet',
  RunDemo: 'evalpred.runDemo',
  RunNotebookCell: 'evalpred.runNotebookCell',
  CompareWith: 'evalpred.compareWith',
  OpenSeries: 'evalpred.openSeries',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Arguments each command accepts (from the palette they come without any). */
export interface CommandArgs {
  [Commands.RunEvaluation]: [preset?: { metrics?: string; function?: string }];
  [Commands.RerunMetrics]: [file?: string];
  [Commands.OpenPredictionView]: [cacheDir?: string];
  [Commands.ImportDump]: [source?: string];
  [Commands.ClearCache]: [];
  [Commands.CancelEvaluation]: [];
  [Commands.OpenVariableInPredictionView]: [context?: { sessionId?: string; variable?: { name?: string; evaluateName?: string } }];
  [Commands.ShowLog]: [];
  [Commands.CopyCaptureSnippet]: [];
  [Commands.RunDemo]: [];
  [Commands.RunNotebookCell]: [cellUri?: string, functionName?: string];
  /** From the explorer: the clicked folder and every selected one; from the palette or a view's title: nothing. */
  [Commands.CompareWith]: [clicked?: { fsPath: string } | string, selected?: ({ fsPath: string } | string)[]];
  /** From the explorer: the folder (or its series.json) as a Uri; from code: a path. */
  [Commands.OpenSeries]: [target?: string | { fsPath: string }];
}

export const DEBUG_TYPE = 'evalpred';
export const CATEGORY = 'EvalPred';

/** Settings under `evalpred.*`: the default of each, which is also what package.json declares. */
export const SettingDefaults = {
  pythonPath: '',
  rerunOnSave: true,
  metricTimeoutSeconds: 60,
  /** 0: half of physical memory (src/core/metrics/containment.ts). */
  metricMemoryLimitMb: 0,
  inlineAdapter: false,
  inlineValues: true,
  codeLens: true,
  openPredictionViewOnStop: false,
};

export type Settings = typeof SettingDefaults;
export type SettingName = keyof Settings;

/** Context keys the extension sets for `when` clauses. */
export const ContextKeys = {
  /** An evalpred debug session is paused at the compute_metrics boundary. */
  Paused: 'evalpred.paused',
  /** An evaluation (the model loop) is running. */
  Running: 'evalpred.running',
  /** The workspace's training-series folders (a series.json evalpred wrote), for the explorer's context menu. */
  SeriesFolders: 'evalpred.seriesFolders',
} as const;
