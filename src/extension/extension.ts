// Activation: wires the commands, the debug adapter (provider, factory, tracker), editor features for the
// metric file, the status bar and rerun-on-save. Each piece lives in its own module; this file only connects.
import * as vscode from 'vscode';
import { EvalpredAdapterFactory } from './adapterFactory';
import { clearCache, importDumpCommand, openPredictionView, openVariableInPredictionView } from './cacheCommands';
import { CAPTURE_COPIED_MESSAGE, CAPTURE_SNIPPET } from './captureSnippet';
import { CommandArgs, CommandId, Commands, DEBUG_TYPE } from './contributions';
import { runDemo } from './demo';
import { EvalpredConfigurationProvider, EvalpredDynamicProvider } from './debugConfig';
import { METRIC_FILES, MetricCodeLens, MetricHover, MetricInlineValues, showMetricFileOnStart } from './editorProviders';
import { log } from './log';
import { NOTEBOOK_CELLS, NotebookMetricCodeLens, runNotebookCell } from './notebook';
import { PredictionViewPanel } from './predictionView';
import { PYTHON_SOURCE_KEY, metricPython, onDidChangeSelectedPython } from './python';
import { CompareViewPanel, compareWith } from './predictionViewCompare';
import { closeRerunRunners, rerunMetrics, rerunOnSave } from './rerun';
import { runEvaluation } from './runEvaluation';
import { SeriesEditorProvider, openSeries } from './seriesView';
import { Sessions } from './sessions';
import { DapRequests } from '../shared/dapProtocol';
import { dapRequest } from './dapClient';
import { setting } from './settings';
import { cancelEvaluation, statusBar } from './statusBar';

type Handlers = { [K in CommandId]: (...args: CommandArgs[K]) => unknown };

/** Every command's handler; the mapped type makes tsc fail when a command has none. */
export function commandHandlers(context: vscode.ExtensionContext, sessions: Sessions): Handlers {
  return {
    [Commands.RunEvaluation]: (preset) => runEvaluation(context.workspaceState, preset),
    [Commands.RerunMetrics]: (file) => rerunMetrics(sessions, file),
    [Commands.OpenPredictionView]: (dir) => openPredictionView(context, sessions, dir),
    [Commands.ImportDump]: (src) => importDumpCommand(context, sessions, src),
    [Commands.ClearCache]: () => clearCache(sessions),
    [Commands.CancelEvaluation]: () => cancelEvaluation(sessions),
    [Commands.OpenVariableInPredictionView]: (arg) => openVariableInPredictionView(context, sessions, arg),
    [Commands.ShowLog]: () => log().show(),
    [Commands.CopyCaptureSnippet]: () => copyCaptureSnippet(context, sessions),
    [Commands.RunDemo]: () => runDemo(),
    [Commands.RunNotebookCell]: (uri, fn) => runNotebookCell(sessions, uri, fn),
    [Commands.CompareWith]: (clicked, selected) => compareWith(context, clicked, selected),
    [Commands.OpenSeries]: (target) => openSeries(target),
  };
}

export function activate(context: vscode.ExtensionContext): void {
  // The extension's own activation time (docs/packaging.md: cheap activation), logged for the e2e to report.
  const t0 = performance.now();
  const sessions = new Sessions(context.workspaceState);
  const handlers = commandHandlers(context, sessions);
  for (const [id, fn] of Object.entries(handlers) as [CommandId, (...a: unknown[]) => unknown][]) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => fn(...args)));
  }
  context.subscriptions.push(
    log(),
    sessions,
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new EvalpredConfigurationProvider(context.workspaceState)),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new EvalpredDynamicProvider(context.workspaceState), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new EvalpredAdapterFactory(context.extensionPath)),
    vscode.languages.registerCodeLensProvider(METRIC_FILES, new MetricCodeLens(sessions)),
    vscode.languages.registerCodeLensProvider(NOTEBOOK_CELLS, new NotebookMetricCodeLens()),
    vscode.languages.registerInlineValuesProvider(METRIC_FILES, new MetricInlineValues(sessions)),
    vscode.languages.registerEvaluatableExpressionProvider(METRIC_FILES, new MetricHover(sessions)),
    showMetricFileOnStart(),
    PredictionViewPanel.registerSerializer(context),
    CompareViewPanel.registerSerializer(context),
    SeriesEditorProvider.register(context, sessions),
    sessions.onDidPrintMetrics(({ metrics }) => PredictionViewPanel.current?.addMetrics(metrics)),
    statusBar(sessions),
    sessions.onDidStop((st) => {
      if (st.stopReason !== 'exception' && st.cacheDir && setting('openPredictionViewOnStop', st.session.workspaceFolder)) void openPredictionView(context, sessions, st.cacheDir);
    }),
    rerunOnSave(sessions),
    onDidChangeSelectedPython(() => void restartPythonWorkers(sessions)),
  );
  const ms = performance.now() - t0;
  log().info(`EvalPred ${context.extension.packageJSON.version} activated in ${ms.toFixed(1)} ms (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'not trusted: metric code will not run'})`);
}

/** Palette: the two capture lines to the clipboard, with what to do next (README "Bringing an evaluation from a real Trainer run"). */
async function copyCaptureSnippet(context: vscode.ExtensionContext, sessions: Sessions): Promise<void> {
  await vscode.env.clipboard.writeText(CAPTURE_SNIPPET);
  log().info(`copied the capture snippet:\n${CAPTURE_SNIPPET}`);
  const pick = await vscode.window.showInformationMessage(CAPTURE_COPIED_MESSAGE, 'Import Dump…');
  if (pick) await importDumpCommand(context, sessions, undefined);
}

/**
 * The user selected another interpreter in the Python extension: the warm Python workers that used the
 * selection end, and the next metric run starts in the new interpreter (reruns without a session, and each
 * session whose "python" came from the selection; a launch.json "python" stays as written).
 */
async function restartPythonWorkers(sessions: Sessions): Promise<void> {
  await closeRerunRunners();
  for (const st of sessions.all()) {
    if (st.session.configuration[PYTHON_SOURCE_KEY] !== 'pythonExtension') continue;
    const chosen = await metricPython(st.session.workspaceFolder);
    try {
      const { restarted } = await dapRequest(st.session, DapRequests.SetPython, { python: chosen.python });
      if (restarted) log().info(`session ${st.session.name}: metric runs now use ${chosen.python ?? 'python3 on PATH'}`);
    } catch (e) {
      log().warn(`session ${st.session.name}: could not switch the Python interpreter (${e instanceof Error ? e.message : String(e)})`);
    }
  }
}

export async function deactivate(): Promise<void> {
  await closeRerunRunners(); // the metric processes started for reruns without a session
}
