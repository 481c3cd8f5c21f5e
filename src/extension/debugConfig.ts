// The `evalpred` DebugConfigurationProvider: an initial launch.json entry guessed from the workspace, dynamic
// entries for the Run and Debug dropdown, and resolution that fills in what is missing (F5 with no
// launch.json asks through the Run Evaluation quick picks), resolves paths against the folder, pins the
// cache folder (so the extension knows where predictions live) and applies Workspace Trust.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { RunSettings } from '../core/loop/settings';
import { core } from './core';
import { DEBUG_TYPE } from './contributions';
import { log } from './log';
import { findMetricFunctions, pickMetricFunction } from './metricSource';
import { RunChoices, chooseRun, lastChoices, launchConfig, portableConfig, workspaceConfigs } from './runEvaluation';
import { PYTHON_SOURCE_KEY, metricPython } from './python';
import { metricMemoryLimitMb, metricTimeoutMs } from './settings';
import { mayRunMetricCode } from './trust';

const PATH_FIELDS = ['model', 'dataset', 'metrics', 'cache', 'cwd'] as const;

export function runSettingsOf(cfg: vscode.DebugConfiguration): RunSettings {
  // RunSettings fields a launch config may carry (the rest of the config is the client's or the adapter's): the launch table's.
  const runFields = Object.keys(core().RUN_SETTINGS_FIELDS) as (keyof RunSettings)[];
  const picked = Object.fromEntries(runFields.filter((k) => cfg[k] !== undefined).map((k) => [k, cfg[k]]));
  return core().withDefaults(picked as Partial<RunSettings> & Pick<RunSettings, 'model' | 'dataset'>);
}

export class EvalpredConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly memento: vscode.Memento) {}

  /**
   * launch.json's entries ("create a launch.json file"): complete ones for the models and datasets in the
   * workspace (workspaceConfigs), the last run's first when there is one; a template with placeholders only
   * when the workspace holds no model or no dataset, so the selected entry always runs.
   */
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const last = lastChoices(this.memento);
    const found = await workspaceConfigs(folder);
    const lastCfg = last.model && last.dataset && fs.existsSync(last.model) && fs.existsSync(last.dataset) ? [portableConfig(launchConfig(last as RunChoices), folder)] : [];
    const all = [...lastCfg, ...found.filter((c) => !lastCfg.some((l) => l.name === c.name))];
    if (all.length) return all;
    return [
      {
        type: DEBUG_TYPE,
        request: 'launch',
        name: 'EvalPred: evaluate and pause at compute_metrics',
        model: '${workspaceFolder}/model',
        dataset: '${workspaceFolder}/data/validation.jsonl',
        metrics: '${workspaceFolder}/metrics.py',
      },
    ];
  }

  /** F5 with no launch.json, or a partial entry: fill in from the active metric file and the last choices; ask for the rest. */
  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, cfg: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!cfg.type && !cfg.request && !cfg.name) {
      const editor = vscode.window.activeTextEditor;
      const file = editor?.document.uri.scheme === 'file' ? editor.document.uri.fsPath : undefined;
      const fn = file ? pickMetricFunction(findMetricFunctions(editor!.document.getText(), file)) : undefined;
      const choices = await chooseRun(this.memento, folder, fn && file ? { metrics: file, function: fn.name } : {});
      return choices ? launchConfig(choices) : undefined;
    }
    cfg.type ??= DEBUG_TYPE;
    cfg.request ??= 'launch';
    cfg.name ??= 'EvalPred';
    if (cfg.cache === undefined && (cfg.model === undefined || cfg.dataset === undefined)) {
      const choices = await chooseRun(this.memento, folder, { model: cfg.model, dataset: cfg.dataset, split: cfg.split, metrics: cfg.metrics ?? undefined, function: cfg.function });
      if (!choices) return undefined;
      Object.assign(cfg, { ...launchConfig(choices), ...cfg, model: choices.model, dataset: choices.dataset });
      if (choices.metrics && !cfg.metrics) cfg.metrics = choices.metrics;
    }
    return cfg;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, cfg: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const base = typeof cfg.cwd === 'string' ? path.resolve(folder?.uri.fsPath ?? '', cfg.cwd) : folder?.uri.fsPath;
    if (base) {
      cfg.cwd ??= base;
      for (const f of PATH_FIELDS) if (typeof cfg[f] === 'string' && cfg[f]) cfg[f] = path.resolve(base, cfg[f]);
    }
    if (cfg.metrics && !mayRunMetricCode(`The evaluation runs and pauses so you can inspect the predictions, but ${path.basename(cfg.metrics)} will not run.`)) {
      delete cfg.metrics;
      delete cfg.function;
    }
    // The metric runner's settings become launch attributes unless launch.json sets them itself. The
    // interpreter: the setting, else the Python extension's selection, else PATH (./python.ts); the setting
    // is restricted (Workspace Trust). Where it came from travels along, so a change of the selected
    // interpreter can restart this session's worker (extension.ts) and leaves a launch.json "python" alone.
    if (cfg.python === undefined && cfg.metrics && /\.py$/i.test(cfg.metrics) && vscode.workspace.isTrusted) {
      const chosen = await metricPython(folder);
      if (chosen.python) cfg.python = chosen.python;
      cfg[PYTHON_SOURCE_KEY] = chosen.source;
    }
    cfg.metricTimeoutSeconds ??= metricTimeoutMs(folder) / 1000;
    cfg.metricMemoryLimitMb ??= metricMemoryLimitMb(folder);
    if (cfg.cache === undefined && typeof cfg.model === 'string' && typeof cfg.dataset === 'string' && fs.existsSync(cfg.model) && fs.existsSync(cfg.dataset)) {
      // Pin the cache folder the adapter would pick by default (same key as the CLI), so the views know it.
      try {
        const { key } = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: 'EvalPred: hashing model and dataset' },
          () => core().evaluationKey(runSettingsOf(cfg)),
        );
        cfg.cache = core().defaultCacheDir(key, base ?? process.cwd());
      } catch (e) {
        log().warn(`could not compute the cache key (${e instanceof Error ? e.message : String(e)}); the adapter picks the cache folder`);
      }
    }
    log().info(`launch ${cfg.name}: ${JSON.stringify(Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('__'))))}`);
    return cfg;
  }
}

/** Run and Debug dropdown entries: the remembered run, one per model folder in the workspace, and one that asks. */
export class EvalpredDynamicProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly memento: vscode.Memento) {}

  async provideDebugConfigurations(folder?: vscode.WorkspaceFolder): Promise<vscode.DebugConfiguration[]> {
    const last = lastChoices(this.memento);
    const out: vscode.DebugConfiguration[] = [];
    if (last.model && last.dataset) out.push(launchConfig(last as RunChoices));
    // complete entries for what the workspace holds (model folders with their task's settings)
    for (const c of await workspaceConfigs(folder)) if (!out.some((o) => o.name === c.name)) out.push(c);
    out.push({ type: DEBUG_TYPE, request: 'launch', name: 'EvalPred: choose model, dataset and metric file…' });
    return out;
  }
}
