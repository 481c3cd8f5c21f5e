// Generation on tiny seq2seq exports built from code: KV cache vs no cache, three-file vs merged layout,
// beam width 1 vs greedy, eos stopping, and a NumPy re-implementation of the forward pass and greedy decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkGenerationOptions, effectiveConfig, readGenerationConfig, trainerPadWidth } from '../../src/core/generate/generationConfig';
import { generateSeq2Seq } from '../../src/core/generate/generate';
import { Seq2SeqModel } from '../../src/core/generate/seq2seqModel';
import { Tensor } from '../../src/core/tensor/tensor';
import { runPython } from '../helpers/python';
import { EOS, PAD, runNumpyReference, weightsJson, writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';
import { tempDir } from '../helpers/tempDir';

const tmp = () => tempDir();

/** 5 rows of encoder input, right-padded with 0 (mask 0 there). */
function encoderBatch(): { ids: Tensor; mask: Tensor; rows: number[][] } {
  const rows = [
    [2, 10, 11, 12, 3],
    [2, 20, 3],
    [2, 5, 6, 7, 8, 9, 3],
    [2, 15, 16, 3],
    [2, 23, 22, 21, 3],
  ];
  const S = Math.max(...rows.map((r) => r.length));
  const ids = Tensor.full('int64', [rows.length, S]);
  const mask = Tensor.full('int64', [rows.length, S]);
  rows.forEach((r, i) => r.forEach((v, j) => (ids.set(i * S + j, v), mask.set(i * S + j, 1))));
  return { ids, mask, rows };
}

const rowsOf = (t: Tensor) => t.toArray() as number[][];

test('three-file layout: greedy ids with the KV cache equal the ids without it; the cache is really used', async () => {
  const dir = tmp();
  try {
    writeSeq2SeqModel(dir, 'three-file');
    const model = await Seq2SeqModel.open(dir);
    assert.equal(model.files.layout, 'three-file');
    const gc = effectiveConfig(readGenerationConfig(dir), { maxNewTokens: 16 }, 1);
    assert.equal(gc.maxLength, 17);
    const { ids, mask } = encoderBatch();
    const cached = await generateSeq2Seq(model, ids, mask, gc);
    const plain = await generateSeq2Seq(model, ids, mask, gc, { useCache: false });
    assert.deepEqual(rowsOf(cached), rowsOf(plain));
    // every row starts with decoder_start_token_id
    for (const r of rowsOf(cached)) assert.equal(r[0], PAD);
    const enc = await model.encode(ids, mask);
    const st = model.stepper(enc, true);
    await st.next(Tensor.from('int64', [5, 1], [0, 0, 0, 0, 0]), null);
    await st.next(Tensor.from('int64', [5, 2], [0, 5, 0, 5, 0, 5, 0, 5, 0, 5]), null);
    assert.deepEqual(st.stats, { runs: 2, cachedRuns: 1 });
    await model.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('merged layout (If on use_cache_branch) gives the same ids as the three-file layout, cached and uncached', async () => {
  const a = tmp(), b = tmp();
  try {
    writeSeq2SeqModel(a, 'three-file', { seed: 5 });
    writeSeq2SeqModel(b, 'merged', { seed: 5 });
    const m1 = await Seq2SeqModel.open(a);
    const m2 = await Seq2SeqModel.open(b);
    assert.equal(m2.files.layout, 'merged');
    assert.ok(m2.hasCache);
    const gc = effectiveConfig(readGenerationConfig(a), { maxNewTokens: 12 }, 1);
    const { ids, mask } = encoderBatch();
    const ref = rowsOf(await generateSeq2Seq(m1, ids, mask, gc));
    assert.deepEqual(rowsOf(await generateSeq2Seq(m2, ids, mask, gc)), ref);
    assert.deepEqual(rowsOf(await generateSeq2Seq(m2, ids, mask, gc, { useCache: false })), ref);
    await m1.close();
    await m2.close();
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});

test('eos stops each row on its own: pad after eos, rows of different lengths, stop once all are done', async () => {
  const dir = tmp();
  try {
    writeSeq2SeqModel(dir, 'three-file', { seed: 3 });
    const model = await Seq2SeqModel.open(dir);
    const gc = effectiveConfig(readGenerationConfig(dir), { maxLength: 60 }, 1);
    const { ids, mask } = encoderBatch();
    const out = rowsOf(await generateSeq2Seq(model, ids, mask, gc));
    const eosAt = out.map((r) => r.indexOf(EOS));
    assert.ok(eosAt.every((i) => i > 0), `every row reaches eos within 60 tokens: ${JSON.stringify(out)}`);
    assert.ok(new Set(eosAt).size > 1, `rows stop at different steps: ${eosAt}`);
    out.forEach((r) => r.slice(r.indexOf(EOS) + 1).forEach((v) => assert.equal(v, PAD)));
    // generation stops as soon as the last row has its eos: that row ends the output
    assert.equal(out[0].length, Math.max(...eosAt) + 1);
    assert.ok(out[0].length < 60);
    await model.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Greedy rows as beam search fills them: after the eos, `fill` (transformers' `pad_token_id or eos_token_id[0]`: eos when pad is 0). */
function filledAfterEos(rows: number[][], fill: number): number[][] {
  return rows.map((r) => (r.indexOf(EOS) < 0 ? r : r.map((v, j) => (j > r.indexOf(EOS) ? fill : v))));
}

test('beam search of width 1 equals greedy (lengths, eos included; beam search fills with eos where the pad id is 0)', async () => {
  const dir = tmp();
  try {
    writeSeq2SeqModel(dir, 'three-file', { seed: 3 });
    const model = await Seq2SeqModel.open(dir);
    const { ids, mask } = encoderBatch();
    for (const maxLength of [60, 7]) {
      const gc = effectiveConfig(readGenerationConfig(dir), { maxLength }, 1);
      const greedy = rowsOf(await generateSeq2Seq(model, ids, mask, gc));
      const beam1 = rowsOf(await generateSeq2Seq(model, ids, mask, { ...gc, numBeams: 1 }, {}));
      // numBeams 1 dispatches to greedy in generateSeq2Seq; call the beam path directly too
      const { beamSearch } = await import('../../src/core/generate/search');
      const enc = await model.encode(ids, mask);
      const viaBeam = rowsOf(await beamSearch(model.stepper(enc), greedy.map(() => [PAD]), { ...gc, numBeams: 1 }));
      assert.deepEqual(beam1, greedy);
      assert.deepEqual(viaBeam, filledAfterEos(greedy, EOS), `maxLength ${maxLength}`);
    }
    await model.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("Seq2SeqTrainer's padding width comes from model.generation_config (docs/trainer-semantics.md#generation-padding step 4)", () => {
  const base = { maxLength: 20, maxNewTokens: null } as const;
  const gc = { ...effectiveConfig({ ...readGenerationConfigDefaults(), ...base }, {}, 1) };
  // §6.4: widths 37, 15, 64 with gc.max_length 20 -> 37, 20, 64
  assert.equal(trainerPadWidth(gc, 37), 37);
  assert.equal(trainerPadWidth(gc, 15), 20);
  assert.equal(trainerPadWidth(gc, 64), 64);
  // max_new_tokens 40 -> width below 41 is padded to 41 once it is at least max_length
  const g2 = { ...gc, maxNewTokens: 40 };
  assert.equal(trainerPadWidth(g2, 25), 41);
  assert.equal(trainerPadWidth(g2, 10), 20);
  assert.equal(trainerPadWidth(g2, 41), 41);
});

function readGenerationConfigDefaults() {
  const dir = tmp();
  try {
    return readGenerationConfig(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('generation_config.json: eos lists, early_stopping, defaults; config.json fallback', () => {
  const dir = tmp();
  try {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ decoder_start_token_id: 2, eos_token_id: 2, pad_token_id: 1, max_length: 62 }));
    let gc = readGenerationConfig(dir);
    assert.deepEqual([gc.decoderStartTokenId, gc.eosTokenIds, gc.padTokenId, gc.maxLength, gc.numBeams], [2, [2], 1, 62, 1]);
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: 0, eos_token_id: [1, 5], num_beams: 4, early_stopping: 'never', length_penalty: 0.6 }));
    gc = readGenerationConfig(dir);
    assert.deepEqual([gc.decoderStartTokenId, gc.eosTokenIds, gc.maxLength, gc.numBeams, gc.earlyStopping, gc.lengthPenalty], [0, [1, 5], 20, 4, 'never', 0.6]);
    // pad falls back to config.json's
    assert.equal(gc.padTokenId, 1);
    assert.deepEqual(gc.unsupported, []);
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ do_sample: false, temperature: 0.7, num_beam_groups: 1, diversity_penalty: 0.5, repetition_penalty: 1.2, num_return_sequences: 2, min_length: 5, bad_words_ids: [[4], [5, 6]] }));
    gc = readGenerationConfig(dir);
    assert.deepEqual(gc.unsupported, ['diversity_penalty=0.5'], 'neutral values (num_beam_groups 1) are not reported; applied options are not unsupported');
    assert.deepEqual([gc.minLength, gc.repetitionPenalty, gc.numReturnSequences, gc.badWordsIds, gc.sampling], [5, 1.2, 2, [[4], [5, 6]], []], 'temperature without do_sample changes nothing');
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ do_sample: true, temperature: 0.7, top_p: 0.9 }));
    gc = readGenerationConfig(dir);
    assert.deepEqual(gc.sampling, ['do_sample=true', 'temperature=0.7', 'top_p=0.9']);
    assert.throws(() => checkGenerationOptions(gc, {}), /generation_config\.json sets do_sample=true, temperature=0\.7, top_p=0\.9: generate\(\) would sample with PyTorch's random number generator, which evalpred cannot reproduce.*"do_sample": false/);
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bad_words_ids: [5, 6] }));
    assert.throws(() => readGenerationConfig(dir), /generation_config\.json: "bad_words_ids" must be a non-empty list of token id lists such as \[\[5\], \[7, 8\]\] \(ids >= 0\), got \[5,6\]/);
    fs.writeFileSync(path.join(dir, 'generation_config.json'), '{"eos_token_id": "x"}');
    assert.throws(() => readGenerationConfig(dir), /generation_config\.json: "eos_token_id" must be a token id/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function numpyReference(dir: string, job: Record<string, unknown>): unknown {
  return runNumpyReference(dir, job, (code) => runPython(code));
}

/** Right-pad rows with `pad` to the longest (the reference decodes row by row, generate() pads the batch). */
function padRows(rows: number[][], pad: number): number[][] {
  const w = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => [...r, ...Array(w - r.length).fill(pad)]);
}

test('cross-check: greedy and beam ids (3-file cached, merged cached) equal an independent NumPy forward pass + decoding', async () => {
  const dir = tmp();
  const mdir = path.join(dir, 'm'), mdir2 = path.join(dir, 'merged');
  try {
    const w = writeSeq2SeqModel(mdir, 'three-file', { seed: 3 });
    writeSeq2SeqModel(mdir2, 'merged', { seed: 3 });
    const { ids, mask, rows } = encoderBatch();
    const masks = rows.map((r) => r.map(() => 1));
    const base = { kind: 'seq2seq', weightsJson: weightsJson(w), eos: EOS, pad: PAD, start: PAD, rows, masks };
    const models = [await Seq2SeqModel.open(mdir), await Seq2SeqModel.open(mdir2)];
    const gc0 = effectiveConfig(readGenerationConfig(mdir), { maxLength: 40 }, 1);
    const beamCases = [[3, 1.0, false, 20], [4, 0.6, true, 20], [2, 2.0, false, 9]] as const;
    // teacher-forced logits with a padded encoder row (mask 0) are checked too
    const dec = [[0, 5, 6, 7], [0, 8, 9, 3], [0, 1, 2, 3], [0, 4, 4, 4], [0, 22, 23, 3]];
    // one Python process for every job (NumPy's import dominates otherwise)
    const [greedyRef, ...rest] = numpyReference(dir, {
      ...base,
      jobs: [
        { op: 'greedy', max_length: 40 },
        ...beamCases.map(([k, lp, early, maxLength]) => ({ op: 'beam', max_length: maxLength, num_beams: k, length_penalty: lp, early_stopping: early })),
        { op: 'logits', decoder_inputs: dec, rows: rowsOf(ids), masks: rowsOf(mask) },
      ],
    }) as unknown[];
    const expectGreedy = padRows(greedyRef as number[][], PAD);
    for (const m of models) assert.deepEqual(rowsOf(await generateSeq2Seq(m, ids, mask, gc0)), expectGreedy, m.files.layout);
    for (const [i, [k, lp, early, maxLength]] of beamCases.entries()) {
      const gc = { ...effectiveConfig(readGenerationConfig(mdir), { maxLength, numBeams: k }, 1), lengthPenalty: lp, earlyStopping: early };
      // the reference appends eos to a shorter hypothesis; beam search fills the rest with eos too (pad id 0 is falsy there)
      const expected = padRows(rest[i] as number[][], EOS);
      for (const m of models) assert.deepEqual(rowsOf(await generateSeq2Seq(m, ids, mask, gc)), expected, `beams ${k}, lp ${lp}, early ${early}, ${m.files.layout}`);
      if (k === 3) assert.notDeepEqual(expected, padRows((greedyRef as number[][]).map((r) => r.slice(0, 20)), PAD), 'beam search finds other sequences than greedy on this model');
    }
    const got = await models[0].forward(Tensor.from('int64', [5, 4], dec.flat()), await models[0].encode(ids, mask));
    const want = (rest[beamCases.length] as number[][][]).flat(2);
    want.forEach((v, i) => assert.ok(Math.abs(got.at(i) - v) < 1e-4 * Math.max(1, Math.abs(v)), `logit ${i}: ${got.at(i)} vs ${v}`));
    for (const m of models) await m.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('logits processors: no_repeat_ngram_size bans the completing token; forced bos at step 1, forced eos at max_length - 1', async () => {
  const { processLogits } = await import('../../src/core/generate/search');
  const gc = { ...readGenerationConfigDefaults(), maxLength: 6 };
  const V = 5;
  // n=2 on [0,1,2,1]: the bigrams starting with the last token 1 are (1,2) -> 2 is banned
  let s = new Float32Array(V);
  processLogits(s, [[0, 1, 2, 1]], V, { ...gc, noRepeatNgramSize: 2 });
  assert.deepEqual(Array.from(s), [0, 0, -Infinity, 0, 0]);
  // n=3 on [1,2,1,2]: the trigram (1,2,1) starts with the last two tokens (1,2) -> 1 is banned; two rows independent
  s = new Float32Array(2 * V);
  processLogits(s, [[1, 2, 1, 2], [0, 0, 0, 0]], V, { ...gc, noRepeatNgramSize: 3 });
  assert.deepEqual(Array.from(s), [0, -Infinity, 0, 0, 0, -Infinity, 0, 0, 0, 0]);
  // too short to complete an n-gram: nothing banned
  s = new Float32Array(V);
  processLogits(s, [[1]], V, { ...gc, noRepeatNgramSize: 3 });
  assert.deepEqual(Array.from(s), [0, 0, 0, 0, 0]);
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0]], V, { ...gc, forcedBosTokenId: 3 });
  assert.deepEqual(Array.from(s), [-Infinity, -Infinity, -Infinity, 0, -Infinity]);
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0, 1, 1, 1, 1]], V, { ...gc, forcedEosTokenIds: [1] });
  assert.deepEqual(Array.from(s), [-Infinity, 0, -Infinity, -Infinity, -Infinity]);
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0, 1, 1, 1]], V, { ...gc, forcedEosTokenIds: [1] });
  assert.deepEqual(Array.from(s), [1, 2, 3, 4, 5], 'not yet at max_length - 1');
  // min_length 4 with eos 1: banned while the sequence (start token included) is shorter than 4
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0, 7, 7]], V, { ...gc, eosTokenIds: [1], minLength: 4 });
  assert.deepEqual(Array.from(s), [1, -Infinity, 3, 4, 5]);
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0, 7, 7, 7]], V, { ...gc, eosTokenIds: [1], minLength: 4 });
  assert.deepEqual(Array.from(s), [1, 2, 3, 4, 5]);
  // min_new_tokens 3 counts after the 1-token prompt: [0, 7, 7] has 2 new tokens -> still banned
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0, 7, 7]], V, { ...gc, eosTokenIds: [1], minNewTokens: 3 });
  assert.deepEqual(Array.from(s), [1, -Infinity, 3, 4, 5]);
  // forced eos comes after min length in transformers' list, so at max_length - 1 eos is still forced
  s = Float32Array.from([1, 2, 3, 4, 5]);
  processLogits(s, [[0, 7, 7, 7, 7]], V, { ...gc, eosTokenIds: [1], minLength: 10, forcedEosTokenIds: [1] });
  assert.deepEqual(Array.from(s), [-Infinity, 0, -Infinity, -Infinity, -Infinity]);
});

test('generation with forced_eos_token_id ends every unfinished row with eos at max_length; no_repeat_ngram_size holds', async () => {
  const dir = tmp();
  try {
    writeSeq2SeqModel(dir, 'three-file', { seed: 3, generationConfig: { forced_eos_token_id: EOS, no_repeat_ngram_size: 2, max_length: 7 } });
    const model = await Seq2SeqModel.open(dir);
    const gc = effectiveConfig(readGenerationConfig(dir), {}, 1);
    assert.deepEqual([gc.forcedEosTokenIds, gc.noRepeatNgramSize, gc.maxLength], [[EOS], 2, 7]);
    const { ids, mask } = encoderBatch();
    for (const numBeams of [1, 3]) {
      const out = rowsOf(await generateSeq2Seq(model, ids, mask, { ...gc, numBeams }));
      for (const r of out) {
        assert.ok(r.includes(EOS), `${numBeams} beams: ${r}`);
        const body = r.slice(0, r.indexOf(EOS) + 1);
        const bigrams = body.slice(1).map((t, i) => `${body[i]},${t}`);
        assert.equal(new Set(bigrams).size, bigrams.length, `no repeated bigram in ${body}`);
      }
      assert.ok(out[0].length <= 7);
    }
    await model.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('decoder-only generation (left-padded prompts): cache = no cache = NumPy; the prompt stays in front; beam 1 = greedy', async () => {
  const { CausalLmModel } = await import('../../src/core/generate/causalModel');
  const { generateCausal } = await import('../../src/core/generate/generate');
  const { beamSearch } = await import('../../src/core/generate/search');
  const dir = tmp();
  try {
    const mdir = path.join(dir, 'm');
    const w = writeCausalLmModel(mdir, true, { seed: 9 });
    const model = await CausalLmModel.open(mdir);
    assert.ok(model.hasPastInputs);
    const prompts = [[0, 0, 2, 10, 11], [2, 5, 6, 7, 8], [0, 0, 0, 2, 20]];
    const masks = prompts.map((r) => r.map((v) => (v === 0 ? 0 : 1)));
    const ids = Tensor.from('int64', [3, 5], prompts.flat());
    const mask = Tensor.from('int64', [3, 5], masks.flat());
    const gc = effectiveConfig({ ...readGenerationConfigDefaults(), eosTokenIds: [EOS], padTokenId: PAD }, { maxNewTokens: 20 }, 5);
    assert.equal(gc.maxLength, 25);
    const cached = rowsOf(await generateCausal(model, ids, mask, gc));
    assert.deepEqual(rowsOf(await generateCausal(model, ids, mask, gc, { useCache: false })), cached);
    cached.forEach((r, i) => assert.deepEqual(r.slice(0, 5), prompts[i], 'generate() returns the prompt first'));
    const ref = runNumpyReference(dir, { kind: 'causal', weightsJson: weightsJson(w), eos: EOS, pad: PAD, op: 'causal_greedy', rows: prompts, masks, max_length: 25 }, (c) => runPython(c)) as number[][];
    assert.deepEqual(cached, padRows(ref, PAD));
    const viaBeam = rowsOf(await beamSearch(model.stepper(mask), prompts, { ...gc, numBeams: 1 }));
    assert.deepEqual(viaBeam, filledAfterEos(cached, EOS).map((r, i) => [...prompts[i], ...r.slice(5)]));
    const beams = rowsOf(await generateCausal(model, ids, mask, { ...gc, numBeams: 3 }));
    assert.deepEqual(rowsOf(await generateCausal(model, ids, mask, { ...gc, numBeams: 3 }, { useCache: false })), beams, 'beam search with the reordered cache = without');
    await model.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
