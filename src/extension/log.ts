// The extension's LogOutputChannel ("EvalPred" in the Output view): metrics, reruns, errors with their place.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  return (channel ??= vscode.window.createOutputChannel('EvalPred', { log: true }));
}
