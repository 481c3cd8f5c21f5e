// "EvalPred: Run Evaluation": quick picks for the model folder, the dataset (file or `save_to_disk` folder
// + split), what the detected task needs (columns, generate or teacher-forced, generation length; pre-filled
// by runPlan.ts from the dataset's columns) and the metric file + function, remembered per workspace; then
// run it, or save it as a launch configuration (launchJson.ts), or both.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './contributions';
import { TASK_NAMES, TaskName, isTaskName } from '../core/tasks';
import { addLaunchConfiguration } from './launchJson';
import { findMetricFunctions } from './metricSource';
import { LAYOUT_NAMES, Prefill, datasetFileVerdict, detectFolderTask, folderColumns, prefill } from './runPlan';

export interface RunChoices extends Prefill {
  model: string;
  dataset: string;
  split?: string;
  metrics?: string;
  function?: string;
  /** Only when the folder does not tell (the run detects the rest itself). */
  task?: TaskName;
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
  const items: Item[] = [];
  for (const d of dirs) {
    const found = detectFolderTask(d);
    if (!found) continue; // e.g. a folder with only an encoder, or ONNX files that are not a model export
    items.push({
      label: path.basename(d),
      description: `${rel(folder, d)} · ${found.task ?? 'task from the outputs'} · ${LAYOUT_NAMES[found.layout]}`,
      detail: fs.existsSync(path.join(d, 'tokenizer.json')) ? undefined : 'no tokenizer.json here',
      value: d,
    });
  }
  return items;
}

async function datasetItems(folder?: vscode.WorkspaceFolder): Promise<Item[]> {
  const files = await vscode.workspace.findFiles('**/*.{jsonl,json,csv,tsv,parquet,arrow}', EXCLUDE, 500);
  const dictDirs = new Set<string>();
  const items: Item[] = [];
  for (const u of files) {
    const base = path.basename(u.fsPath);
    if (base === 'dataset_dict.json') dictDirs.add(path.dirname(u.fsPath));
    if (NOT_DATA.test(base) || /\.vscode|\.evalpred/.test(u.fsPath)) continue;
    if (detectFolderTask(path.dirname(u.fsPath))) continue; // files of a model folder
    if (base.endsWith('.arrow')) continue; // shown through their save_to_disk folder
    if (!datasetFileVerdict(u.fsPath).ok) continue; // logs, trainer state, configs: judged by content
    items.push({ label: base, description: rel(folder, path.dirname(u.fsPath)), value: u.fsPath });
  }
  for (const d of dictDirs) items.push({ label: path.basename(d), description: `${rel(folder, d)} · datasets folder`, value: d });
  return items.sort((a, b) => (a.value! < b.value! ? -1 : 1));
}

export async function metricItems(folder?: vscode.WorkspaceFolder): Promise<Item[]> {
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
  const detected = detectFolderTask(model);
  let task: TaskName | undefined = preset.task ?? detected?.task ?? undefined;
  if (!task && !detected?.task) {
    const items: Item[] = [{ label: 'Detect from the model outputs', value: '' }, ...TASK_NAMES.map((t) => ({ label: t, value: t }))];
    const chosen = await pick(`${title}: task`, `${path.basename(model)}/config.json names no architectures`, items);
    if (chosen === undefined) return undefined;
    task = isTaskName(chosen) ? chosen : undefined;
  }
  const asked = await askTaskSettings(title, task ?? null, dataset, split, preset);
  if (!asked) return undefined;
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
  const choices: RunChoices = { model, dataset, split, metrics, function: fn, ...asked, task: detected?.task ? undefined : task };
  await memento.update(DEFAULTS_KEY, choices);
  return choices;
}

const SETTING_KEYS = ['task', 'textColumn', 'textPairColumn', 'textTemplate', 'labelColumn', 'predictWithGenerate', 'generationMaxLength', 'maxNewTokens'] as const;

/** What the task needs, each pre-filled from the dataset's columns (Enter keeps the guess). Undefined: cancelled. */
async function askTaskSettings(title: string, task: TaskName | null, dataset: string, split: string | undefined, preset: Partial<RunChoices>): Promise<Prefill | undefined> {
  const verdict = fs.existsSync(dataset) && fs.statSync(dataset).isFile() ? datasetFileVerdict(dataset) : undefined;
  const columns = (verdict?.ok ? verdict.columns : folderColumns(dataset, split)) ?? [];
  const row = verdict?.ok ? verdict.row : undefined;
  const guess = prefill(task, columns, row);
  const out: Prefill = {};
  for (const k of SETTING_KEYS) if (k !== 'task' && preset[k] !== undefined) (out as Record<string, unknown>)[k] = preset[k];
  if (Object.keys(out).length) return { ...guess, ...out }; // a launch entry already says: do not ask again
  const NONE_COL = '';
  const columnPick = async (what: string, guessed: string | undefined, optional: boolean): Promise<string | null | undefined> => {
    if (!columns.length) {
      const v = await vscode.window.showInputBox({ title: `${title}: ${what}`, value: guessed ?? '', prompt: optional ? 'Leave empty for none' : undefined, ignoreFocusOut: true });
      return v === undefined ? undefined : v.trim() || null;
    }
    const items: Item[] = columns.map((c) => ({ label: c, value: c }));
    if (guessed && !columns.includes(guessed)) items.unshift({ label: guessed, value: guessed });
    const ordered = guessed ? [{ ...items.find((i) => i.value === guessed)!, description: 'guessed from the columns' }, ...items.filter((i) => i.value !== guessed)] : items;
    if (optional) ordered.push({ label: '(none)', value: NONE_COL });
    const chosen = await pick(`${title}: ${what}`, `Columns of ${path.basename(dataset)}`, ordered);
    return chosen === undefined ? undefined : chosen || null;
  };
  if (task === 'seq2seq-lm') {
    const items: Item[] = [];
    if (guess.textTemplate) items.push({ label: guess.textTemplate, description: 'template (guessed)', value: 'template:' + guess.textTemplate });
    items.push(...columns.map((c) => ({ label: c, description: c === guess.textColumn ? 'column (guessed)' : 'column', value: 'column:' + c })));
    items.push({ label: 'Template…', description: "e.g. 'summarize: {document}'", value: 'template?' });
    const chosen = await pick(`${title}: model input`, 'The text the encoder reads: a column, or a template over columns', items);
    if (!chosen) return undefined;
    if (chosen === 'template?') {
      const t = await vscode.window.showInputBox({ title: `${title}: input template`, value: guess.textTemplate ?? (columns[0] ? `{${columns[0]}}` : ''), ignoreFocusOut: true });
      if (!t) return undefined;
      out.textTemplate = t;
    } else if (chosen.startsWith('template:')) out.textTemplate = chosen.slice('template:'.length);
    else out.textColumn = chosen.slice('column:'.length);
    const label = await columnPick('target column (labels)', guess.labelColumn, true);
    if (label === undefined) return undefined;
    if (label) out.labelColumn = label;
  } else {
    const text = await columnPick(task === 'question-answering' ? 'question column' : 'text column', guess.textColumn, false);
    if (text === undefined) return undefined;
    if (text) out.textColumn = text;
    if (task === 'sequence-classification' || task === 'question-answering' || task === null) {
      const pair = await columnPick(task === 'question-answering' ? 'context column' : 'second text column (pairs)', guess.textPairColumn, task !== 'question-answering');
      if (pair === undefined) return undefined;
      if (pair) out.textPairColumn = pair;
    }
    if (task !== 'causal-lm') {
      const label = await columnPick('label column', guess.labelColumn, true);
      if (label === undefined) return undefined;
      if (label) out.labelColumn = label;
    }
  }
  if (task === 'seq2seq-lm' || task === 'causal-lm') {
    const gen = await pick(`${title}: predictions`, 'How Trainer produces the predictions', [
      { label: 'Generate', description: guess.predictWithGenerate ? 'predict_with_generate=True (Seq2SeqTrainer default for text metrics)' : 'predict_with_generate=True', value: 'generate' },
      { label: 'Teacher-forced', description: guess.predictWithGenerate ? 'logits of one forward pass' : 'logits of one forward pass (run_clm default)', value: 'forced' },
    ].sort((a, b) => (a.value === (guess.predictWithGenerate ? 'generate' : 'forced') ? -1 : b.value === (guess.predictWithGenerate ? 'generate' : 'forced') ? 1 : 0)));
    if (!gen) return undefined;
    out.predictWithGenerate = gen === 'generate';
    if (out.predictWithGenerate) {
      const key = task === 'causal-lm' ? 'maxNewTokens' : 'generationMaxLength';
      const items: Item[] = [
        { label: "The model's generation_config", description: 'generation_max_length=None: max_length from generation_config.json (20 when it sets none)', value: '' },
        ...[32, 64, 128, 256].map((n) => ({ label: String(n), description: task === 'causal-lm' ? 'max_new_tokens' : 'generation_max_length', value: String(n) })),
      ];
      const len = await pick(`${title}: generation length`, 'How long generated predictions may be', items);
      if (len === undefined) return undefined;
      if (len) out[key] = Number(len);
    }
  }
  return out;
}

export function launchConfig(c: RunChoices): vscode.DebugConfiguration {
  const cfg: vscode.DebugConfiguration = { type: DEBUG_TYPE, request: 'launch', name: `EvalPred: ${path.basename(c.model)} on ${path.basename(c.dataset)}`, model: c.model, dataset: c.dataset };
  if (c.split) cfg.split = c.split;
  for (const k of SETTING_KEYS) if (c[k] !== undefined) cfg[k] = c[k];
  if (c.metrics) cfg.metrics = c.metrics;
  if (c.function && !['compute_metrics', 'computeMetrics'].includes(c.function)) cfg.function = c.function;
  return cfg;
}

/** The launch entry with paths relative to the workspace folder (${workspaceFolder}/…), as launch.json holds them. */
export function portableConfig(cfg: vscode.DebugConfiguration, folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration {
  if (!folder) return cfg;
  const out = { ...cfg };
  for (const k of ['model', 'dataset', 'metrics'] as const) {
    const p = out[k];
    if (typeof p === 'string' && path.isAbsolute(p) && !path.relative(folder.uri.fsPath, p).startsWith('..')) out[k] = '${workspaceFolder}/' + path.relative(folder.uri.fsPath, p).split(path.sep).join('/');
  }
  return out;
}

/** Writes the entry into .vscode/launch.json (appended, or updated by name); says why when the file cannot be edited. */
export async function saveLaunchConfiguration(folder: vscode.WorkspaceFolder, cfg: vscode.DebugConfiguration): Promise<boolean> {
  const file = path.join(folder.uri.fsPath, '.vscode', 'launch.json');
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  const edit = addLaunchConfiguration(existing, portableConfig(cfg, folder), file);
  if ('error' in edit) {
    const copy = 'Copy the configuration';
    if ((await vscode.window.showErrorMessage(edit.error, copy)) === copy) await vscode.env.clipboard.writeText(JSON.stringify(portableConfig(cfg, folder), null, 2));
    return false;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, edit.text);
  void vscode.window.showInformationMessage(`EvalPred: "${cfg.name}" ${edit.action === 'created' ? 'written to a new' : edit.action === 'updated' ? 'updated in' : 'added to'} .vscode/launch.json.`);
  return true;
}

export async function runEvaluation(memento: vscode.Memento, preset?: Partial<RunChoices>): Promise<boolean> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const choices = await chooseRun(memento, folder, preset);
  if (!choices) return false;
  const cfg = launchConfig(choices);
  if (folder) {
    const then = await pick('EvalPred: Run Evaluation: start', 'Run now, or keep it in .vscode/launch.json for F5', [
      { label: '$(play) Run', value: 'run' },
      { label: '$(save) Save as launch configuration and run', value: 'save-run' },
      { label: '$(save) Save as launch configuration', value: 'save' },
    ]);
    if (!then) return false;
    if (then !== 'run') await saveLaunchConfiguration(folder, cfg);
    if (then === 'save') return true;
  }
  return vscode.debug.startDebugging(folder, cfg);
}

/**
 * Complete launch entries for what the workspace holds: one per detected model folder, on the dataset file that
 * looks like the evaluation split, with what its task needs pre-filled from the dataset's columns and the
 * first metric file. Paths as ${workspaceFolder}/…; empty when there is no model or no dataset.
 */
export async function workspaceConfigs(folder: vscode.WorkspaceFolder | undefined, max = 4): Promise<vscode.DebugConfiguration[]> {
  const [models, datasets, metrics] = await Promise.all([modelItems(folder), datasetItems(folder), metricItems(folder)]);
  if (!models.length || !datasets.length) return [];
  const evalFirst = (d: Item) => (/valid|eval|dev|test/i.test(d.label) ? 0 : 1);
  const dataset = [...datasets].sort((a, b) => evalFirst(a) - evalFirst(b))[0].value!;
  const splits = splitsOf(dataset);
  const split = splits.length ? (['validation', 'test', 'eval'].find((s) => splits.includes(s)) ?? splits[0]) : undefined;
  const verdict = fs.statSync(dataset).isFile() ? datasetFileVerdict(dataset) : undefined;
  const columns = (verdict?.ok ? verdict.columns : folderColumns(dataset, split)) ?? [];
  const metricFile = metrics[0]?.value;
  const fns = metricFile ? findMetricFunctions(fs.readFileSync(metricFile, 'utf8'), metricFile) : [];
  return models.slice(0, max).map((m) => {
    const task = detectFolderTask(m.value!)?.task ?? null;
    const guess = Object.fromEntries(Object.entries(prefill(task, columns, verdict?.ok ? verdict.row : undefined)).filter(([, v]) => v !== undefined));
    return portableConfig(launchConfig({ model: m.value!, dataset, split, metrics: metricFile, function: fns[0]?.name, ...guess }), folder);
  });
}
