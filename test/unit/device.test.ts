// --device (issue 12, item 5): the execution provider asked of onnxruntime-node, the CPU fallback with a note
// naming why, and the provider recorded in the loop info (so in the manifest). No accelerator here: the pure
// selection is tested against listed backends, and the real openModel against this build's list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEVICES, openModel, selectProvider } from '../../src/core/model/session';
import { onnxRuntime } from '../../src/core/native';
import { parseArgs } from '../../src/cli/args';
import { RUN_FLAGS } from '../../src/cli/runFlags';
import { settingsFromFlags } from '../../src/cli/commands/run';
import { writeSeqClsModel } from '../fixtures/models';
import { tempDir } from '../helpers/tempDir';
import { Tensor } from '../../src/core/tensor/tensor';
import { evaluate } from '../../src/core/evaluate';
import { withDefaults } from '../../src/core/loop/settings';
import { seqClsWorkspace } from '../fixtures/workspace';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('selectProvider: cpu (or nothing) asks for CPU with no note', () => {
  assert.deepEqual(selectProvider(undefined, []), { providers: ['cpu'], provider: 'cpu' });
  assert.deepEqual(selectProvider('cpu', [{ name: 'cpu' }]), { providers: ['cpu'], provider: 'cpu' });
});

test('selectProvider: a provider the build lists is asked for by its name', () => {
  const listed = [{ name: 'cpu' }, { name: 'cuda' }, { name: 'dml' }, { name: 'coreml' }];
  for (const d of ['cuda', 'dml', 'coreml'] as const) assert.deepEqual(selectProvider(d, listed), { providers: [d], provider: d });
});

test('selectProvider: a provider the build lacks falls back to CPU, naming the device, the platform and what is listed', () => {
  const c = selectProvider('coreml', [{ name: 'cpu' }, { name: 'cuda' }], 'linux-x64');
  assert.deepEqual(c.providers, ['cpu']);
  assert.equal(c.provider, 'cpu');
  assert.match(c.fallback!, /--device coreml: this onnxruntime-node build has no coreml execution provider on linux-x64 \(it lists cpu, cuda\); the model ran on the CPU\./);
});

test('openModel: a device this build does not list runs on CPU with the note, and gives the same outputs as CPU', async () => {
  const listed = onnxRuntime().listSupportedBackends().map((b) => b.name);
  const missing = DEVICES.find((d) => !listed.includes(d));
  assert.ok(missing, `this build lists every device (${listed.join(', ')}), so no fallback can be exercised`);
  const d = path.join(root, 'seq');
  writeSeqClsModel(d, { vocabSize: 10, hidden: 4, numLabels: 3 });
  const cpu = await openModel(d);
  const other = await openModel(d, { device: missing });
  try {
    assert.equal(cpu.provider, 'cpu');
    assert.deepEqual(cpu.notes, []);
    assert.equal(other.provider, 'cpu');
    assert.equal(other.notes.length, 1);
    assert.match(other.notes[0], new RegExp(`--device ${missing}: .*${missing} execution provider.*the model ran on the CPU`));
    const feeds = { input_ids: Tensor.from('int64', [1, 3], [1, 2, 3]), attention_mask: Tensor.from('int64', [1, 3], [1, 1, 1]) };
    const a = (await cpu.run(feeds)).logits as Tensor;
    const b = (await other.run(feeds)).logits as Tensor;
    assert.deepEqual(Array.from(b.data as Float32Array), Array.from(a.data as Float32Array));
  } finally {
    await cpu.close();
    await other.close();
  }
});

test('openModel: a listed provider that cannot start (no driver or library) falls back to CPU with its reason', async () => {
  // This build lists cuda without bundling it (the install step is skipped here), so asking for it fails at session creation.
  const listed = onnxRuntime().listSupportedBackends();
  const unstartable = listed.find((b) => b.name === 'cuda' && !b.bundled);
  assert.ok(unstartable || !listed.some((b) => b.name === 'cuda'), 'cuda is bundled here: this machine could really run it');
  const d = path.join(root, 'seq2');
  writeSeqClsModel(d, { vocabSize: 10, hidden: 4, numLabels: 3 });
  const s = await openModel(d, { device: 'cuda' });
  try {
    assert.equal(s.provider, 'cpu');
    assert.match(s.notes[0], /^--device cuda: .*the model ran on the CPU\.$/);
  } finally {
    await s.close();
  }
});

test('--device: parsed into the run settings, and a wrong value is refused naming the choices', () => {
  const base = ['--model', 'm', '--dataset', 'd.jsonl'];
  assert.equal(settingsFromFlags(parseArgs([...base, '--device', 'coreml'], RUN_FLAGS, 'run')).device, 'coreml');
  assert.equal(settingsFromFlags(parseArgs(base, RUN_FLAGS, 'run')).device, undefined);
  assert.throws(() => settingsFromFlags(parseArgs([...base, '--device', 'gpu'], RUN_FLAGS, 'run')), /--device must be one of cpu, cuda, coreml, dml, got "gpu"/);
});

test('the cache manifest records the provider the run used, after a fallback too', async () => {
  const ws = seqClsWorkspace(path.join(root, 'ws'), { n: 5 });
  const listed = onnxRuntime().listSupportedBackends().map((b) => b.name);
  const missing = DEVICES.find((d) => !listed.includes(d))!;
  const ev = await evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset, device: missing, cache: path.join(root, 'cache') }));
  const manifest = JSON.parse(fs.readFileSync(path.join(ev.cacheDir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.loop.info.executionProvider, 'cpu');
  assert.ok(manifest.loop.notes.some((n: string) => n.startsWith(`--device ${missing}:`)), JSON.stringify(manifest.loop.notes));
});
