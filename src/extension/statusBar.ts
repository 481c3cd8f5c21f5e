// One status bar item for evalpred sessions: a spinner with progress while the model loop runs (click to
// cancel), and the paused state with the last metric (click to rerun) at the compute_metrics boundary.
import * as vscode from 'vscode';
import { Commands } from './contributions';
import { cancelProgress } from './dapClient';
import { summarizeMetrics } from './metricSource';
import { Sessions } from './sessions';

export function statusBar(sessions: Sessions): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('evalpred.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'EvalPred';
  const update = () => {
    const run = sessions.running();
    if (run?.progress) {
      const p = run.progress;
      const pct = typeof p.percentage === 'number' ? ` ${Math.round(p.percentage)}%` : '';
      item.text = `$(loading~spin) EvalPred:${pct}${p.message ? ` ${p.message}` : ` ${p.title}`}`;
      item.tooltip = `${p.title} — click to cancel the evaluation`;
      item.command = Commands.CancelEvaluation;
      item.show();
      return;
    }
    const paused = sessions.pausedFor(undefined);
    if (paused) {
      const last = summarizeMetrics(paused.lastMetrics);
      item.text = `$(debug-pause) EvalPred${paused.numSamples !== undefined ? `: ${paused.numSamples} samples` : ''}${last ? ` · ${last}` : ''}`;
      item.tooltip = 'Paused at compute_metrics — click to rerun the metric on the cached predictions';
      item.command = Commands.RerunMetrics;
      item.show();
      return;
    }
    item.hide();
  };
  const sub = sessions.onDidChange(update);
  update();
  return vscode.Disposable.from(item, sub);
}

/** Cancel the running loop: DAP `cancel` of its progress (the adapter aborts between batches), else stop the session. */
export async function cancelEvaluation(sessions: Sessions): Promise<void> {
  const run = sessions.running() ?? sessions.current();
  if (!run) return;
  if (run.progress) {
    try {
      await cancelProgress(run.session, run.progress.id);
      return;
    } catch {
      /* fall through: an adapter without cancel support still stops */
    }
  }
  await vscode.debug.stopDebugging(run.session);
}
