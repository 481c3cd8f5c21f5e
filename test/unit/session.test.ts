// The ONNX session wrapper: metadata, tensor conversion both ways, and the error messages a user sees for
// a missing / corrupt model file, inputs evalpred cannot build, mismatched feeds and out-of-vocabulary ids.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { embeddingRows } from '../../src/core/model/onnx/embeddingRows';
import { BUILDABLE_INPUTS, openModel, toOrt } from '../../src/core/model/session';
import { GraphBuilder } from '../../src/core/model/onnx/builder';
import { ProtoWriter } from '../../src/core/model/onnx/protobuf';
import { rejectsWith } from '../helpers/errors';
import { Tensor } from '../../src/core/tensor/tensor';
import { halfToFloat } from '../../src/core/tensor/dtype';
import { writeCorruptModel, writeSeqClsModel } from '../fixtures/models';
import { referenceForward } from '../fixtures/reference';
import { tempDir } from '../helpers/tempDir';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const dir = (name: string) => path.join(root, `${name}-${counter++}`);

const ids = (rows: number[][]) => Tensor.from('int64', [rows.length, rows[0].length], rows.flat());

test('opens a model folder: names, metadata, and a run that matches the reference forward pass', async () => {
  const d = dir('seq');
  const w = writeSeqClsModel(d, { vocabSize: 10, hidden: 4, numLabels: 3, extraOutputs: true });
  const s = await openModel(d);
  try {
    assert.equal(s.modelFile, path.join(d, 'model.onnx'));
    assert.deepEqual(s.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual(s.outputNames, ['logits', 'pooled']);
    assert.deepEqual(s.inputs[0], { name: 'input_ids', type: 'int64', dims: ['batch', 'sequence'] });
    assert.deepEqual(s.outputs[0], { name: 'logits', type: 'float32', dims: ['batch', 3] });
    assert.deepEqual(s.vocab, { size: 10, source: `vocab_size in ${path.join(d, 'config.json')}` });
    const inputIds = [
      [1, 5, 9, 0],
      [2, 3, 0, 0],
    ];
    const mask = [
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ];
    const out = await s.run({ input_ids: ids(inputIds), attention_mask: ids(mask), unused_column: ids([[1]]) });
    assert.deepEqual(Object.keys(out), ['logits', 'pooled']);
    assert.equal(out.logits.dtype, 'float32');
    assert.deepEqual(out.logits.shape, [2, 3]);
    const ref = referenceForward(w, { inputIds, attentionMask: mask });
    ref.logits.flat().forEach((v, i) => assert.ok(Math.abs(out.logits.at(i) - v) < 1e-5, `logit ${i}: ${out.logits.at(i)} vs ${v}`));
  } finally {
    await s.close();
  }
});

test('feeds share memory with ORT tensors (int64 as BigInt64Array, float16 as bits)', () => {
  const t = ids([[1, 2]]);
  assert.equal(toOrt(t).data, t.data);
  const h = Tensor.from('float16', [2], [0.5, -2]);
  const o = toOrt(h);
  assert.equal(o.type, 'float16');
  assert.equal(o.data, h.data);
});

test('float16 logits come back as float16 (Trainer keeps them)', async () => {
  const d = dir('f16');
  const w = writeSeqClsModel(d, { vocabSize: 6, hidden: 3, numLabels: 2, float16Logits: true });
  const s = await openModel(d);
  try {
    const out = await s.run({ input_ids: ids([[1, 2, 3]]), attention_mask: ids([[1, 1, 1]]) });
    assert.equal(out.logits.dtype, 'float16');
    assert.ok(out.logits.data instanceof Uint16Array);
    const ref = referenceForward(w, { inputIds: [[1, 2, 3]], attentionMask: [[1, 1, 1]] });
    // half precision: ~1e-3 relative
    ref.logits[0].forEach((v, i) => assert.ok(Math.abs(halfToFloat(out.logits.data[i] as number) - v) < 2e-3 * Math.max(1, Math.abs(v))));
  } finally {
    await s.close();
  }
});

test('a folder without model.onnx: the error names the folder, lists its files and optimum names', async () => {
  const d = dir('nomodel');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'config.json'), '{}');
  fs.writeFileSync(path.join(d, 'model_quantized.onnx'), 'x');
  const { message: msg } = await rejectsWith(openModel(d), /has no model\.onnx/, /config\.json, model_quantized\.onnx/, /optimum/);
  assert.ok(msg.includes(d), msg);
  // An empty folder suggests the export command.
  const e = dir('empty');
  fs.mkdirSync(e);
  await rejectsWith(openModel(e), /holds nothing/, /optimum-cli export onnx/);
  // A path that does not exist.
  await rejectsWith(openModel(path.join(root, 'nope')), /does not exist/);
});

test('corrupt model files: each error names the file and gives a reason', async () => {
  for (const kind of ['truncated', 'garbage', 'invalid-graph'] as const) {
    const file = writeCorruptModel(dir(kind), kind);
    const { message: msg } = await rejectsWith(
      openModel(path.dirname(file)),
      /is not a model onnxruntime can load: \S/,
      kind === 'invalid-graph' ? /Node input 'missing'/ : /cut short or is not an ONNX ModelProto/,
    );
    assert.ok(msg.startsWith(file), msg);
    assert.ok(!msg.includes('\n'), `one paragraph: ${msg}`);
  }
  const empty = writeCorruptModel(dir('empty'), 'empty');
  await rejectsWith(openModel(empty), /is empty \(0 bytes\)/);
  const lfs = path.join(dir('lfs'), 'model.onnx');
  fs.mkdirSync(path.dirname(lfs));
  fs.writeFileSync(lfs, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 438000000\n');
  await rejectsWith(openModel(lfs), /Git LFS pointer/, /git lfs pull/);
});

/** A tiny model whose inputs we choose: output = Cast(first input to float). */
function writeInputsModel(d: string, inputs: [string, 'int64' | 'int32' | 'float32', (number | string)[]][], vocab?: number): string {
  const g = new GraphBuilder('inputs');
  for (const [name, dtype, dims] of inputs) g.input(name, dtype, dims);
  if (vocab) {
    g.initializer('E', Tensor.full('float32', [vocab, 2], 1));
    g.node('Gather', ['E', 'input_ids'], ['emb']);
    g.node('ReduceSum', ['emb', g.constant(Tensor.from('int64', [1], [2]), 'axes')], ['logits'], { keepdims: 0 });
    g.output('logits', 'float32', ['batch', 'sequence']);
  } else {
    const others = inputs.slice(1).map(([n]) => n);
    let acc = g.op('Cast', [inputs[0][0]], { to: 1 });
    for (const o of others) acc = g.op('Add', [acc, g.op('Cast', [o], { to: 1 })]);
    g.node('Identity', [acc], ['logits']);
    g.output('logits', 'float32', ['batch', 'sequence']);
  }
  fs.mkdirSync(d, { recursive: true });
  const file = path.join(d, 'model.onnx');
  fs.writeFileSync(file, g.toModel());
  return file;
}

test('an input evalpred cannot build is named, with the list of what it can build', async () => {
  const d = dir('pixels');
  writeInputsModel(d, [
    ['input_ids', 'int64', ['batch', 'sequence']],
    ['decoder_input_ids', 'int64', ['batch', 'sequence']],
  ]);
  const s = await openModel(d);
  try {
    const { message: msg } = await rejectsWith(s.run({ input_ids: ids([[1, 2]]), attention_mask: ids([[1, 1]]) }), /needs an input "decoder_input_ids"/);
    for (const name of BUILDABLE_INPUTS) assert.ok(msg.includes(name), `${name} listed: ${msg}`);
  } finally {
    await s.close();
  }
});

test('attention_mask, token_type_ids and position_ids are filled in as transformers does (ones, zeros, arange) when absent', async () => {
  const d = dir('defaults');
  // output = input_ids + token_type_ids + position_ids
  writeInputsModel(d, [
    ['input_ids', 'int64', ['batch', 'sequence']],
    ['token_type_ids', 'int64', ['batch', 'sequence']],
    ['position_ids', 'int64', ['batch', 'sequence']],
  ]);
  const s = await openModel(d);
  try {
    const out = await s.run({ input_ids: ids([[10, 20, 30], [40, 50, 60]]) });
    // zeros + [0, 1, 2] per row
    assert.deepEqual(out.logits.toArray(), [
      [10, 21, 32],
      [40, 51, 62],
    ]);
    const given = await s.run({ input_ids: ids([[10, 20, 30]]), token_type_ids: ids([[1, 1, 1]]), position_ids: ids([[5, 5, 5]]) });
    assert.deepEqual(given.logits.toArray(), [[16, 26, 36]]);
  } finally {
    await s.close();
  }
  const m = dir('mask');
  writeInputsModel(m, [
    ['input_ids', 'int64', ['batch', 'sequence']],
    ['attention_mask', 'int64', ['batch', 'sequence']],
  ]);
  const s2 = await openModel(m);
  try {
    assert.deepEqual((await s2.run({ input_ids: ids([[10, 20]]) })).logits.toArray(), [[11, 21]]);
    await rejectsWith(s2.run({ attention_mask: ids([[1, 1]]) }), /needs "input_ids", and this batch has attention_mask/);
  } finally {
    await s2.close();
  }
});

test('dtype, rank and fixed-size mismatches name the input', async () => {
  const d = dir('fixed');
  writeInputsModel(d, [
    ['input_ids', 'int64', ['batch', 8]],
    ['attention_mask', 'int32', ['batch', 8]],
  ]);
  const s = await openModel(d);
  try {
    const eight = (v: number) => ids([Array(8).fill(v)]);
    await rejectsWith(s.run({ input_ids: Tensor.full('float32', [1, 8]), attention_mask: eight(1) }), /input "input_ids" must be int64/, /float32\[1, 8\]/);
    await rejectsWith(s.run({ input_ids: Tensor.full('int64', [8]), attention_mask: eight(1) }), /input "input_ids" has rank 2/, /rank-1/);
    await rejectsWith(s.run({ input_ids: ids([[1, 2, 3]]), attention_mask: ids([[1, 1, 1]]) }), /input "input_ids" was exported with a fixed size 8 on axis 1/, /--max-length 8/);
    // int64 attention_mask is narrowed to the model's int32: output = ids + mask.
    const out = await s.run({ input_ids: eight(3), attention_mask: eight(1) });
    assert.deepEqual(out.logits.toArray(), [Array(8).fill(4)]);
  } finally {
    await s.close();
  }
});

test('token ids beyond the vocabulary are caught before running, naming the id and the vocab size', async () => {
  // vocab_size from config.json
  const d = dir('vocab');
  writeSeqClsModel(d, { vocabSize: 8, hidden: 2, numLabels: 2 });
  const s = await openModel(d);
  try {
    await rejectsWith(
      s.run({ input_ids: ids([[1, 2], [7, 12]]), attention_mask: ids([[1, 1], [1, 1]]) }),
      /token id 12 \(batch row 1\)/,
      /vocabulary has 8 entries/,
      /vocab_size in .*config\.json/,
      /tokenizer does not fit the model/,
    );
    await rejectsWith(s.run({ input_ids: ids([[1, -1]]), attention_mask: ids([[1, 1]]) }), /negative token id -1/);
    // The check reads int64 ids as (low, high) 32-bit words: ids whose low word alone is in range are caught too.
    await rejectsWith(s.run({ input_ids: ids([[1, 8]]), attention_mask: ids([[1, 1]]) }), /token id 8 \(batch row 0\)/);
    await rejectsWith(s.run({ input_ids: ids([[1], [2 ** 32 + 3]]), attention_mask: ids([[1], [1]]) }), /token id 4294967299 \(batch row 1\)/);
    await rejectsWith(s.run({ input_ids: ids([[3 - 2 ** 32, 1]]), attention_mask: ids([[1, 1]]) }), /negative token id -4294967293/);
    await rejectsWith(s.run({ input_ids: new Tensor('int32', [1, 2], Int32Array.of(1, 9)), attention_mask: ids([[1, 1]]) }), /token id 9/);
    const ok = await s.run({ input_ids: ids([[0, 7]]), attention_mask: ids([[1, 1]]) });
    assert.deepEqual(ok.logits.shape, [1, 2]);
  } finally {
    await s.close();
  }
  // No config.json: the bound comes from the embedding initializer that input_ids indexes.
  const e = dir('vocab-graph');
  const file = writeInputsModel(e, [['input_ids', 'int64', ['batch', 'sequence']]], 5);
  assert.equal(embeddingRows(file), 5);
  const s2 = await openModel(e);
  try {
    assert.equal(s2.vocab?.size, 5);
    await rejectsWith(s2.run({ input_ids: ids([[4, 5]]) }), /token id 5/, /vocabulary has 5 entries/, /word-embedding initializer in model\.onnx/);
    const ok = await s2.run({ input_ids: ids([[4, 0]]) });
    assert.deepEqual(ok.logits.toArray(), [[2, 2]]);
  } finally {
    await s2.close();
  }
});

/** ModelProto by hand (the builder has no bfloat16): logits = Cast(x, to=BFLOAT16), declared bfloat16 [2]. */
function bfloat16Model(): Uint8Array {
  const valueInfo = (name: string, elemType: number) =>
    new ProtoWriter()
      .string(1, name)
      .message(2, new ProtoWriter().message(1, new ProtoWriter().int(1, elemType).message(2, new ProtoWriter().message(1, new ProtoWriter().int(1, 2))))); // shape [2]
  const to = new ProtoWriter().string(1, 'to').int(3, 16).int(20, 2);
  const node = new ProtoWriter().string(1, 'x').string(2, 'logits').string(3, 'cast').string(4, 'Cast').message(5, to);
  const graph = new ProtoWriter().message(1, node).string(2, 'bf16').message(11, valueInfo('x', 1)).message(12, valueInfo('logits', 16));
  return new ProtoWriter().int(1, 8).message(7, graph).message(8, new ProtoWriter().string(1, '').int(2, 17)).finish();
}

test('bfloat16 outputs are cast to float32 in the graph, as Trainer converts them', async () => {
  const d = dir('bf16');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'model.onnx'), bfloat16Model());
  const s = await openModel(d);
  try {
    assert.deepEqual(s.outputs, [{ name: 'logits', type: 'float32', dims: [2] }]);
    assert.match(s.notes.join(' '), /logits are bfloat16 .* cast to float32/);
    const out = await s.run({ x: Tensor.from('float32', [2], [1.5, 3.14159]) });
    assert.equal(out.logits.dtype, 'float32');
    // bfloat16 keeps float32's top 16 bits, rounded to nearest even: 3.14159 = 0x40490FD0 -> 0x4049 -> 3.140625; 1.5 is exact.
    assert.deepEqual([...(out.logits.data as Float32Array)], [1.5, 3.140625]);
  } finally {
    await s.close();
  }
});
