// "EvalPred: Run Evaluation": quick picks for the model folder, the dataset (file or `save_to_disk` folder
// + split) and the metric file + function, remembered per workspace, then an `evalpred` debug session.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './contributions';
import { findMetricFunctions } from './metricSource';

export interface RunChoices {
  model: string;
  dataset: string;
  split?: string;
  metrics?: string;
  function?: string;
}

const DEFAULTS_KEY = 'evalpred.lastRun';
const EXCLUDE = '{**/node_modules/**,**/.evalpred/**,**/.git/**,**/.venv/**,**/__pycache__/**}';
const NOT_DATA = /^(config|tokenizer|tokenizer_config|special_tokens_map|generation_config|manifest|package|package-lock|tsconfig|dataset_info|state|dataset_dict|vocab|added_tokens|preprocessor_config|launch|settings|tasks)\.json$/i;
const BROWSE = '$(folder-opened) Browse…';
const NONE = '$(circle-slash) No metric file (built-in metrics)';

type Item = vscode.QuickPickItem & { value?: string };

export function lastChoices(memento: vscode.Memento): Partial<RunChoices> {
  return memento.get<Partial<RunChoices>>(DEFAULTS_KEY, {});
}

/** Put the remembered value first, marked, and keep the rest in order. */
function withDefault(items: Item[], last: string | undefined): Item[] {
  if (!last) return items;
  const i = items.findIndex((x) => x.value === last);
  const item = i >= 0 ? items.splice(i, 1)[0] : { label: path.basename(last), value: last };
  return [{ ...item, description: [item.description, 'last used'].filter(Boolean).join(' · ') }, ...items];
}

async function pick(title: string, placeHolder: string, items: Item[], browse?: vscode.OpenDialogOptions): Promise<string | null | undefined> {
  const all: Item[] = browse ? [...items, { label: BROWSE }] : items;
  const chosen = await vscode.window.showQuickPick(all, { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true });
  if (!chosen) return undefined;
  if (chosen.label === BROWSE) {
    const uris = await vscode.window.showOpenDialog({ ...browse, title });
    return uris?.[0]?.fsPath;
  }
  return chosen.value ?? null;
}

function rel(folder: vscode.WorkspaceFolder | undefined, p: string): string {
  return folder ? path.relative(folder.uri.fsPath, p) || '.' : p;
}

async function modelItems(folder?: vscode.WorkspaceFolder): Promise<Item[]> {
  const files = await vscode.workspace.findFiles('**/*.onnx', EXCLUDE, 200);
  const dirs = [...new Set(files.map((u) => path.dirname(u.fsPath)))].sort();
  return dirs.map((d) => ({
    label: path.basename(d),
    description: rel(folder, d),
    detail: fs.existsSync(path.join(d, 'tokenizer.json')) ? undefined : 'no tokenizer.json here',
    value: d,
  }));
}

async function datasetItems(folder?: vscode.WorkspaceFolder): Promise<Item[]> {
  const files = await vscode.workspace.findFiles('**/*.{jsonl,json,csv,tsv,parquet,arrow}', EXCLUDE, 500);
  const dictDirs = new Set<string>();
  const items: Item[] = [];
  for (const u of files) {
    const base = path.basename(u.fsPath);
    if (base === 'dataset_dict.json') dictDirs.add(path.dirname(u.fsPath));
    if (NOT_DATA.test(base) || /\.vscode|\.evalpred/.test(u.fsPath)) continue;
    if (fs.existsSync(path.join(path.dirname(u.fsPath), 'model.onnx'))) continue; // files of a model folder
    if (base.endsWith('.arrow')) continue; // shown through their save_to_disk folder
    items.push({ label: base, description: rel(folder, path.dirname(u.fsPath)), value: u.fsPath });
  }
  for (const d of dictDirs) items.push({ label: path.basename(d), description: `${rel(folder, d)} · datasets folder`, value: d });
  return items.sort((a, b) => (a.value! < b.value! ? -1 : 1));
}

async function metricItems(folder?: vscode.WorkspaceFolder): Promise<Item[]> {
  const files = await vscode.workspace.findFiles('**/*.{py,ts,js,mjs}', EXCLUDE, 400);
  const items: Item[] = [];
  for (const u of files) {
    let text: string;
    try {
      if (fs.statSync(u.fsPath).size > 512 * 1024) continue;
      text = fs.readFileSync(u.fsPath, 'utf8');
    } catch {
      continue;
    }
    const fns = findMetricFunctions(text, u.fsPath);
    if (!fns.length) continue;
    items.push({ label: path.basename(u.fsPath), description: `${rel(folder, path.dirname(u.fsPath))} · ${fns.map((f) => f.name).join(', ')}`, value: u.fsPath });
  }
  return items.sort((a, b) => (a.value! < b.value! ? -1 : 1));
}

/** The splits of a `DatasetDict.save_to_disk` folder (dataset_dict.json), else none. */
export function splitsOf(dataset: string): string[] {
  try {
    const dd = JSON.parse(fs.readFileSync(path.join(dataset, 'dataset_dict.json'), 'utf8'));
    return Array.isArray(dd.splits) ? dd.splits.map(String) : [];
  } catch {
    return [];
  }
}

/** Asks for everything missing from `preset`; undefined when the user cancels. */
export async function chooseRun(memento: vscode.Memento, folder: vscode.WorkspaceFolder | undefined, preset: Partial<RunChoices> = {}): Promise<RunChoices | undefined> {
  const last = lastChoices(memento);
  const title = 'EvalPred: Run Evaluation';
  const model =
    preset.model ??
    (await pick(`${title} (1/3): model folder`, 'Folder with model.onnx and tokenizer.json', withDefault(await modelItems(folder), last.model), {
      canSelectFolders: true,
      canSelectFiles: false,
    }));
  if (!model) return undefined;
  const dataset =
    preset.dataset ??
    (await pick(`${title} (2/3): dataset`, 'jsonl / json / csv / parquet file, or a datasets save_to_disk folder', withDefault(await datasetItems(folder), last.dataset), {
      canSelectFolders: true,
      canSelectFiles: true,
    }));
  if (!dataset) return undefined;
  let split = preset.split;
  const splits = splitsOf(dataset);
  if (!split && splits.length) {
    const order = ['validation', 'test', 'eval'].filter((s) => splits.includes(s));
    const items = [...order, ...splits.filter((s) => !order.includes(s))].map((s) => ({ label: s, value: s }));
    split = (await pick(`${title}: split`, 'Which split Trainer evaluates on', withDefault(items, last.split))) ?? undefined;
    if (!split) return undefined;
  }
  let metrics: string | undefined = preset.metrics;
  if (metrics === undefined) {
    const items = withDefault(await metricItems(folder), last.metrics);
    const chosen = await pick(`${title} (3/3): metric file`, 'The file with compute_metrics(eval_pred)', [...items, { label: NONE }], {
      canSelectFiles: true,
      canSelectFolders: false,
      filters: { 'Metric file': ['py', 'ts', 'js', 'mjs'] },
    });
    if (chosen === undefined) return undefined;
    metrics = chosen ?? undefined;
  }
  let fn = preset.function;
  if (metrics && !fn) {
    const fns = findMetricFunctions(fs.readFileSync(metrics, 'utf8'), metrics);
    if (fns.length > 1) {
      const items = fns.map((f) => ({ label: f.name, description: `line ${f.line + 1}`, value: f.name }));
      const chosen = await pick(`${title}: metric function`, 'Which function is your compute_metrics', withDefault(items, last.function));
      if (!chosen) return undefined;
      fn = chosen;
    } else fn = fns[0]?.name;
  }
  const choices: RunChoices = { model, dataset, split, metrics, function: fn };
  await memento.update(DEFAULTS_KEY, choices);
  return choices;
}

export function launchConfig(c: RunChoices): vscode.DebugConfiguration {
  const cfg: vscode.DebugConfiguration = { type: DEBUG_TYPE, request: 'launch', name: `EvalPred: ${path.basename(c.model)} on ${path.basename(c.dataset)}`, model: c.model, dataset: c.dataset };
  if (c.split) cfg.split = c.split;
  if (c.metrics) cfg.metrics = c.metrics;
  if (c.function && !['compute_metrics', 'computeMetrics'].includes(c.function)) cfg.function = c.function;
  return cfg;
}

export async function runEvaluation(memento: vscode.Memento, preset?: Partial<RunChoices>): Promise<boolean> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const choices = await chooseRun(memento, folder, preset);
  if (!choices) return false;
  return vscode.debug.startDebugging(folder, launchConfig(choices));
}
