// compute_metrics in a Jupyter notebook cell (README "Notebooks"): a CodeLens "evalpred: Run on cache…" above
// the function in a Python cell of a .ipynb (the built-in jupyter-notebook type, cells in the
// vscode-notebook-cell scheme). It runs that cell's function, with the earlier cells' imports
// (./notebookCell.ts), on a picked cache in the warm Python worker, handled as a file metric's rerun: metrics
// in a message, the log and the prediction view; an error at the cell and line it is on. No kernel is needed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { isEvalpredError, messageOf } from '../core/errors';
import { pickCache } from './cacheCommands';
import { CommandArgs, Commands } from './contributions';
import { log } from './log';
import { findMetricFunctions, pickMetricFunction, summarizeMetrics } from './metricSource';
import { atCell, cellModule, originOf } from './notebookCell';
import { metricsOnCache, showError } from './rerun';
import { Sessions } from './sessions';
import { setting } from './settings';
import { mayRunMetricCode } from './trust';

/** Python cells of Jupyter notebooks (the CodeLens provider's selector). */
export const NOTEBOOK_CELLS: vscode.DocumentSelector = { notebookType: 'jupyter-notebook', language: 'python' };

export const NOTEBOOK_LENS_TITLE = 'evalpred: Run on cache…';

export class NotebookMetricCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (doc.uri.scheme !== 'vscode-notebook-cell' || !setting('codeLens', doc.uri)) return [];
    const fn = pickMetricFunction(findMetricFunctions(doc.getText(), 'cell.py'));
    if (!fn) return [];
    return [
      new vscode.CodeLens(new vscode.Range(fn.line, 0, fn.line, 0), {
        title: NOTEBOOK_LENS_TITLE,
        command: Commands.RunNotebookCell,
        arguments: [doc.uri.toString(), fn.name],
        tooltip: `Run ${fn.name} from this cell on cached predictions (with the imports of the cells above)`,
      }),
    ];
  }
}

let moduleDir: string | undefined;

/** The cell and its notebook: the argument's, else the active notebook editor's selected cell. */
function findCell(uri?: string): { notebook: vscode.NotebookDocument; cell: vscode.NotebookCell } | undefined {
  if (uri) {
    for (const notebook of vscode.workspace.notebookDocuments) {
      const cell = notebook.getCells().find((c) => c.document.uri.toString() === uri);
      if (cell) return { notebook, cell };
    }
    return undefined;
  }
  const ed = vscode.window.activeNotebookEditor;
  const cell = ed?.notebook.cellAt(ed.selection.start);
  return ed && cell ? { notebook: ed.notebook, cell } : undefined;
}

export async function runNotebookCell(sessions: Sessions, ...[uri, functionName]: CommandArgs[typeof Commands.RunNotebookCell]): Promise<void> {
  const found = findCell(uri);
  if (!found) {
    void vscode.window.showWarningMessage('EvalPred: put the cursor in the notebook cell that defines compute_metrics.');
    return;
  }
  const { notebook, cell } = found;
  const fn = functionName ?? pickMetricFunction(findMetricFunctions(cell.document.getText(), 'cell.py'))?.name;
  if (!fn) {
    void vscode.window.showWarningMessage(`EvalPred: cell ${cell.index + 1} defines no compute_metrics.`);
    return;
  }
  if (!mayRunMetricCode('The notebook cell will not run.')) return;
  const cacheDir = await pickCache(sessions, true);
  if (!cacheDir) return;
  const preceding = notebook
    .getCells()
    .filter((c) => c.index < cell.index && c.kind === vscode.NotebookCellKind.Code && c.document.languageId === 'python')
    .map((c) => ({ index: c.index, text: c.document.getText() }));
  const mod = cellModule(preceding, cell.index, cell.document.getText());
  // Our own file in our own temp folder (removed by nobody else; rewritten on each run of this cell).
  moduleDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-notebook-'));
  const base = path.basename(notebook.uri.path, '.ipynb').replace(/[^\w.-]+/g, '_') || 'notebook';
  const file = path.join(moduleDir, `${base}_cell${cell.index + 1}.py`);
  fs.writeFileSync(file, mod.text);
  const where = `${path.basename(notebook.uri.path)} cell ${cell.index + 1}`;
  log().info(`running ${fn} from ${where} on ${cacheDir} (module ${file})`);
  try {
    const out = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `EvalPred: running ${fn} from ${where} on cached predictions` }, () =>
      metricsOnCache(file, cacheDir, notebook.uri.scheme === 'file' ? notebook.uri : vscode.workspace.workspaceFolders?.[0], fn),
    );
    log().info(`metrics (${where}, ${out.durationMs.toFixed(0)} ms): ${out.json}`);
    if (out.stdout.trim()) log().info(`${where} printed:\n${out.stdout.trimEnd()}`);
    for (const w of out.warnings) log().warn(w);
    sessions.noteMetrics(out.metrics as Record<string, unknown>);
    void vscode.window.showInformationMessage(`EvalPred (${where}): ${summarizeMetrics(out.metrics as Record<string, unknown>) ?? out.json} (${out.durationMs.toFixed(0)} ms)`, 'Show Log').then((a) => {
      if (a) log().show(true);
    });
  } catch (e) {
    const place = isEvalpredError(e) ? e.place : undefined;
    const origin = place?.file && path.resolve(place.file) === file && place.line ? originOf(mod, place.line) : undefined;
    if (!origin) {
      showError(`EvalPred: ${fn} from ${where} failed`, e);
      return;
    }
    // The error at the notebook's cell and line, not at our temp module.
    const msg = atCell(messageOf(e), file, place!.line!, origin, path.basename(notebook.uri.path));
    log().error(`EvalPred: ${fn} from ${where} failed: ${msg}`);
    const pick = await vscode.window.showErrorMessage(`EvalPred: ${msg}`, 'Go to Line', 'Show Log');
    if (pick === 'Show Log') log().show(true);
    if (pick === 'Go to Line') {
      const target = notebook.cellAt(origin.cell).document;
      const line = Math.max(0, origin.line - 1);
      await vscode.window.showTextDocument(target, { selection: new vscode.Range(line, 0, line, 0) });
    }
  }
}
