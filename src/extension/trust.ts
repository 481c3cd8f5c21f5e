// Workspace Trust: metric files are code (Python or TypeScript), so in an untrusted workspace none of them
// runs. The model loop itself (ONNX + tokenizer + data) still may, so people can inspect predictions.
import * as vscode from 'vscode';

const WHY =
  'EvalPred does not run compute_metrics (or preprocess_logits_for_metrics) from an untrusted workspace, because the metric file is code from that workspace.';

/** True when metric code may run; otherwise tells the user why not (once per call site) and offers to manage trust. */
export function mayRunMetricCode(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${WHY} ${what}`, 'Manage Workspace Trust').then((pick) => {
    if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
