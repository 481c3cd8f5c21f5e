// The ONNX writer (protobuf + GraphBuilder) and the tiny test models: onnxruntime loads and runs what we
// write, and its outputs match an independent float64 forward pass (test/fixtures/reference.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ProtoWriter } from '../../src/core/model/onnx/protobuf';
import { GraphBuilder, attr } from '../../src/core/model/onnx/builder';
import { Tensor } from '../../src/core/tensor/tensor';
import { halfToFloat } from '../../src/core/tensor/dtype';
import { writeCorruptModel, writeQaModel, writeSeqClsModel, writeTokenClsModel } from '../fixtures/models';
import { ReferenceInputs, referenceForward } from '../fixtures/reference';
import { tempDir } from '../helpers/tempDir';

function int64(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
}

function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: onnxruntime ${actual[i]} vs reference ${expected[i]}`);
  }
}

test('protobuf varints match the wire format documentation', () => {
  // protobuf docs' example: field 1 = 150 is 08 96 01.
  assert.deepEqual([...new ProtoWriter().int(1, 150).finish()], [0x08, 0x96, 0x01]);
  // A negative int64 is 10 bytes of two's complement: -1 = ff x9 then 01.
  assert.deepEqual([...new ProtoWriter().int(2, -1).finish()], [0x10, ...Array(9).fill(0xff), 0x01]);
  // Strings are length-delimited (wire type 2): field 2 "hi" = 12 02 68 69.
  assert.deepEqual([...new ProtoWriter().string(2, 'hi').finish()], [0x12, 0x02, 0x68, 0x69]);
  // Floats are fixed32 little-endian (wire type 5): 1.0f = 00 00 80 3f.
  assert.deepEqual([...new ProtoWriter().float(2, 1).finish()], [0x15, 0x00, 0x00, 0x80, 0x3f]);
});

test('onnxruntime runs an Add + MatMul graph with symbolic dims', async () => {
  const g = new GraphBuilder('matmul');
  g.input('x', 'float32', ['batch', 3]);
  g.initializer('W', Tensor.from('float32', [3, 2], [1, 2, 3, 4, 5, 6]));
  g.initializer('b', Tensor.from('float32', [2], [0.5, -0.5]));
  g.node('MatMul', ['x', 'W'], ['xw']);
  g.node('Add', ['xw', 'b'], ['y']);
  g.output('y', 'float32', ['batch', 2]);
  const s = await ort.InferenceSession.create(g.toModel({ opset: 17 }));
  assert.deepEqual(s.inputNames, ['x']);
  assert.deepEqual(s.outputNames, ['y']);
  const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 0, 1, 0, 1, 0, 2, 2, 2]), [3, 3]) });
  // By hand: [1,0,1]W = [1+5, 2+6] = [6,8]; [0,1,0]W = [3,4]; [2,2,2]W = [18,24]; then + b.
  assert.deepEqual(r.y.dims, [3, 2]);
  assert.deepEqual([...(r.y.data as Float32Array)], [6.5, 7.5, 3.5, 3.5, 18.5, 23.5]);
  const meta = (s as unknown as { inputMetadata?: { shape?: unknown[] }[] }).inputMetadata;
  if (meta) assert.deepEqual(meta[0].shape, ['batch', 3]);
  await s.release();
});

test('attributes of every kind reach onnxruntime (int, float, ints, floats, string, tensor)', async () => {
  const g = new GraphBuilder('attrs');
  g.input('ids', 'int64', ['n']);
  g.input('x', 'float32', [3]);
  g.initializer('table', Tensor.from('float32', [2, 3], [1, 2, 3, 10, 20, 30]));
  // int: Gather along axis 1 picks columns.
  g.node('Gather', ['table', 'ids'], ['cols'], { axis: 1 });
  // float: LeakyRelu alpha 0.5 (forced float even though it could look integral elsewhere).
  g.node('LeakyRelu', ['x'], ['leaky'], { alpha: attr.float(0.5) });
  // ints: Transpose perm.
  g.node('Transpose', ['table'], ['tableT'], { perm: [1, 0] });
  // floats: Constant value_floats.
  g.node('Constant', [], ['cf'], { value_floats: attr.floats([1.5, 2.5]) });
  // string: Pad mode 'edge' (pads as an input since opset 11).
  g.initializer('pads', Tensor.from('int64', [2], [1, 2]));
  g.node('Pad', ['x', 'pads'], ['padded'], { mode: 'edge' });
  // tensor: Constant value.
  g.node('Constant', [], ['ct'], { value: Tensor.from('int32', [2, 2], [1, -2, 3, -4]) });
  g.output('cols', 'float32', [2, 'n']);
  g.output('leaky', 'float32', [3]);
  g.output('tableT', 'float32', [3, 2]);
  g.output('cf', 'float32', [2]);
  g.output('padded', 'float32', [6]);
  g.output('ct', 'int32', [2, 2]);
  const s = await ort.InferenceSession.create(g.toModel());
  const r = await s.run({
    ids: new ort.Tensor('int64', BigInt64Array.from([2n, 0n]), [2]),
    x: new ort.Tensor('float32', Float32Array.from([-2, 1, 4]), [3]),
  });
  assert.deepEqual([...(r.cols.data as Float32Array)], [3, 1, 30, 10]);
  assert.deepEqual([...(r.leaky.data as Float32Array)], [-1, 1, 4]);
  assert.deepEqual([...(r.tableT.data as Float32Array)], [1, 10, 2, 20, 3, 30]);
  assert.deepEqual([...(r.cf.data as Float32Array)], [1.5, 2.5]);
  assert.deepEqual([...(r.padded.data as Float32Array)], [-2, -2, 1, 4, 4, 4]);
  assert.deepEqual([...(r.ct.data as Int32Array)], [1, -2, 3, -4]);
  await s.release();
});

test('initializers of each dtype round-trip through raw_data', async () => {
  const g = new GraphBuilder('dtypes');
  const cases: [string, Tensor, (d: ort.Tensor['data']) => unknown[]][] = [
    ['f32', Tensor.from('float32', [3], [1.25, -0.5, 3e-8]), (d) => [...(d as Float32Array)]],
    ['f64', Tensor.from('float64', [2], [Math.PI, -1e300]), (d) => [...(d as Float64Array)]],
    ['f16', Tensor.from('float16', [3], [0.5, -2, 65504]), (d) => [...(d as Uint16Array)].map(halfToFloat)],
    ['i64', Tensor.from('int64', [3], [-(2n ** 40n), 0n, 2n ** 62n]), (d) => [...(d as BigInt64Array)]],
    ['i32', Tensor.from('int32', [2], [-7, 2 ** 30]), (d) => [...(d as Int32Array)]],
    ['u8', Tensor.from('uint8', [2], [0, 255]), (d) => [...(d as Uint8Array)]],
    ['b', Tensor.from('bool', [3], [1, 0, 1]), (d) => [...(d as Uint8Array)].map((v) => !!v)],
  ];
  g.input('unused', 'float32', [1]);
  for (const [name, t] of cases) {
    g.initializer(`${name}_init`, t);
    g.node('Identity', [`${name}_init`], [name]);
    g.output(name, t.dtype, [...t.shape]);
  }
  const s = await ort.InferenceSession.create(g.toModel());
  const r = await s.run({ unused: new ort.Tensor('float32', Float32Array.from([0]), [1]) });
  assert.deepEqual(cases.map(([n]) => r[n].type), ['float32', 'float64', 'float16', 'int64', 'int32', 'uint8', 'bool']);
  assert.deepEqual(r.f32.data, Float32Array.from([1.25, -0.5, 3e-8]));
  assert.deepEqual(cases[1][2](r.f64.data), [Math.PI, -1e300]);
  assert.deepEqual(cases[2][2](r.f16.data), [0.5, -2, 65504]);
  assert.deepEqual(cases[3][2](r.i64.data), [-(2n ** 40n), 0n, 2n ** 62n]);
  assert.deepEqual(cases[4][2](r.i32.data), [-7, 2 ** 30]);
  assert.deepEqual(cases[5][2](r.u8.data), [0, 255]);
  assert.deepEqual(cases[6][2](r.b.data), [true, false, true]);
  await s.release();
});

test('corrupt model files give onnxruntime errors the model module can recognise', async () => {
  const dir = tempDir();
  try {
    for (const [kind, pattern] of [
      ['truncated', /protobuf parsing failed/i],
      ['garbage', /protobuf parsing failed/i],
      ['empty', /ModelProto does not have a graph/],
      ['invalid-graph', /Node input 'missing' is not a graph input, initializer, or output of a previous node/],
    ] as const) {
      const file = writeCorruptModel(path.join(dir, kind), kind);
      assert.ok(fs.existsSync(path.join(dir, kind, 'config.json')), `${kind}: config.json is written`);
      await assert.rejects(ort.InferenceSession.create(file), (e: Error) => {
        assert.match(e.message, pattern, `${kind}: ${e.message}`);
        return true;
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Ragged rows: real tokens then padding (id 0, mask 0), one row with nothing masked, one fully padded.
const RAGGED: ReferenceInputs = {
  inputIds: [
    [2, 7, 9, 3, 0, 0],
    [2, 5, 6, 11, 8, 3],
    [2, 3, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
  ],
  tokenTypeIds: [
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1],
    [0, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
  ],
};

function feeds(x: ReferenceInputs, withTokenTypes: boolean): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = { input_ids: int64(x.inputIds), attention_mask: int64(x.attentionMask) };
  if (withTokenTypes) f.token_type_ids = int64(x.tokenTypeIds!);
  return f;
}

test('sequence classification model matches the reference (token types, extra output, ragged masks)', async () => {
  const dir = tempDir();
  try {
    const w = writeSeqClsModel(dir, { vocabSize: 12, hidden: 5, numLabels: 3, tokenTypeIds: true, extraOutputs: true, problemType: 'single_label_classification', seed: 7 });
    const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
    assert.deepEqual(s.inputNames, ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.deepEqual(s.outputNames, ['logits', 'pooled']);
    const r = await s.run(feeds(RAGGED, true));
    const ref = referenceForward(w, RAGGED);
    assert.deepEqual(r.logits.dims, [4, 3]);
    assert.deepEqual(r.pooled.dims, [4, 5]);
    assertClose(r.logits.data as Float32Array, ref.logits.flat(), 1e-5, 'logits');
    assertClose(r.pooled.data as Float32Array, ref.pooled.flat(), 1e-5, 'pooled');
    // The fully padded row pools to zeros, so its logits are the bias (not NaN).
    assertClose((r.logits.data as Float32Array).subarray(9, 12), [...w.classifierBias], 1e-7, 'all-padding row');
    // Rows differ from each other (the weights are not degenerate).
    assert.notEqual(ref.logits[0][0], ref.logits[1][0]);

    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['BertForSequenceClassification']);
    assert.equal(cfg.model_type, 'bert');
    assert.deepEqual(cfg.id2label, { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' });
    assert.deepEqual(cfg.label2id, { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 });
    assert.equal(cfg.num_labels, 3);
    assert.equal(cfg.problem_type, 'single_label_classification');
    assert.equal(cfg.vocab_size, 12);
    assert.equal(cfg.pad_token_id, 0);
    assert.equal(typeof cfg.max_position_embeddings, 'number');
    await s.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('padding does not change a row: the same sentence alone and in a longer padded batch', async () => {
  const dir = tempDir();
  try {
    writeSeqClsModel(dir, { vocabSize: 12, hidden: 4, numLabels: 2 });
    const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
    const alone = await s.run(feeds({ inputIds: [[2, 7, 9, 3]], attentionMask: [[1, 1, 1, 1]] }, false));
    const padded = await s.run(feeds({ inputIds: [[2, 7, 9, 3, 0, 0, 0]], attentionMask: [[1, 1, 1, 1, 0, 0, 0]] }, false));
    assertClose(padded.logits.data as Float32Array, [...(alone.logits.data as Float32Array)], 1e-6, 'padded vs alone');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).problem_type, undefined);
    await s.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('float16 logits: the graph casts at the end and the values match the reference rounded to half', async () => {
  const dir = tempDir();
  try {
    const w = writeSeqClsModel(dir, { vocabSize: 12, hidden: 6, numLabels: 4, float16Logits: true, seed: 3, labels: ['a', 'b', 'c', 'd'] });
    const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
    const r = await s.run(feeds(RAGGED, false));
    assert.equal(r.logits.type, 'float16');
    const ref = referenceForward(w, RAGGED);
    // Half has an 11-bit significand: relative error <= 2^-11 after rounding.
    const got = [...(r.logits.data as Uint16Array)].map(halfToFloat);
    ref.logits.flat().forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= Math.abs(v) * 2 ** -11 + 1e-6, `logits[${i}] ${got[i]} vs ${v}`));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).id2label, { 0: 'a', 1: 'b', 2: 'c', 3: 'd' });
    await s.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('token classification model matches the reference per token', async () => {
  const dir = tempDir();
  try {
    const w = writeTokenClsModel(dir, { vocabSize: 12, hidden: 5, numLabels: 3, seed: 11 });
    const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
    assert.deepEqual(s.outputNames, ['logits']);
    const r = await s.run(feeds(RAGGED, false));
    assert.deepEqual(r.logits.dims, [4, 6, 3]);
    assertClose(r.logits.data as Float32Array, referenceForward(w, RAGGED).logits.flat(2), 1e-5, 'token logits');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).architectures, ['BertForTokenClassification']);
    await s.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('question answering model matches the reference (start and end logits)', async () => {
  const dir = tempDir();
  try {
    const w = writeQaModel(dir, { vocabSize: 12, hidden: 5, tokenTypeIds: true, seed: 5 });
    const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
    assert.deepEqual(s.outputNames, ['start_logits', 'end_logits']);
    const r = await s.run(feeds(RAGGED, true));
    const ref = referenceForward(w, RAGGED);
    assert.deepEqual(r.start_logits.dims, [4, 6]);
    assert.deepEqual(r.end_logits.dims, [4, 6]);
    assertClose(r.start_logits.data as Float32Array, ref.startLogits.flat(), 1e-5, 'start_logits');
    assertClose(r.end_logits.data as Float32Array, ref.endLogits.flat(), 1e-5, 'end_logits');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).architectures, ['BertForQuestionAnswering']);
    await s.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
