// One run note in both front ends' words: `evalpred run` names the flag (--label-column), while VS Code — the
// debug adapter's run scope, lints request and Debug Console lines, and the prediction view's notes — names the
// launch attribute ("labelColumn"). The wording comes from OPTION_NAMES (src/core/runtime/launchSettings.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { LoopRecord } from '../../src/core/loop/types';
import { readCache } from '../../src/core/cache/reader';
import { distFile } from '../../src/core/paths';
import { inLaunchTerms } from '../../src/core/runtime/launchSettings';
import type { ToWebview } from '../../src/shared/protocol';
import { PredictionViewModel, viewInputFor } from '../../src/core/view/viewModel';
import { seqClsWorkspace, writeJsonl } from '../fixtures/workspace';
import { launch, withAdapter } from './client';

const CLI_NOTE = /no label column .* Pass --label-column\./;
const LAUNCH_NOTE = /no label column .* Pass "labelColumn"\./;

async function overviewNotes(cacheDir: string, wording?: (t: string) => string): Promise<string[]> {
  const read = readCache(cacheDir);
  const evaluation = { cacheDir, fromCache: true, manifest: read.manifest, evalPred: read.evalPred, loop: read.manifest.loop as LoopRecord };
  const posted: ToWebview[] = [];
  const model = new PredictionViewModel(await viewInputFor(evaluation, { wording }), (m) => posted.push(m));
  model.receive({ type: 'ready' });
  const init = posted.find((m) => m.type === 'init');
  assert.ok(init && init.type === 'init');
  return init.overview.notes;
}

test('a run note names --label-column in the CLI, "labelColumn" in the debug adapter and the prediction view', () =>
  withAdapter(async (dc, dir) => {
    const { modelDir, texts } = seqClsWorkspace(dir, { n: 6 });
    const dataset = writeJsonl(path.join(dir, 'unlabelled.jsonl'), texts.map((t) => ({ sentence: t })));
    const cache = path.join(dir, 'cache');
    // The CLI: the note with the flag.
    const cli = spawnSync(process.execPath, [distFile('cli.js'), 'run', '--model', modelDir, '--dataset', dataset, '--out', cache], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, CLI_NOTE);
    assert.doesNotMatch(cli.stderr, /"labelColumn"/);
    // The prediction view: the extension passes inLaunchTerms; without it the note keeps the CLI's words.
    assert.ok((await overviewNotes(cache)).some((n) => CLI_NOTE.test(n)));
    const viewNotes = await overviewNotes(cache, inLaunchTerms);
    assert.ok(viewNotes.some((n) => LAUNCH_NOTE.test(n)), viewNotes.join('\n'));
    assert.ok(!viewNotes.some((n) => n.includes('--label-column')), viewNotes.join('\n'));
    // The debug adapter, on the same settings (the cache is reused): the run scope's notes in launch words.
    const stopped = dc.waitForEvent('stopped');
    await launch(dc, { model: modelDir, dataset, cache });
    await stopped;
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    const run = (await dc.scopesRequest({ frameId: frame.id })).body.scopes.find((s) => s.name === 'run');
    assert.ok(run);
    const vars = (await dc.variablesRequest({ variablesReference: run.variablesReference })).body.variables;
    const notes = vars.find((v) => v.name === 'notes');
    assert.ok(notes, vars.map((v) => v.name).join(', '));
    const lines = (await dc.variablesRequest({ variablesReference: notes.variablesReference })).body.variables.map((v: DebugProtocol.Variable) => v.value);
    assert.ok(lines.some((n) => LAUNCH_NOTE.test(n)), lines.join('\n'));
    assert.ok(!lines.some((n) => n.includes('--label-column')), lines.join('\n'));
    fs.rmSync(cache, { recursive: true, force: true });
  }));
