// Generation options (issue 16 item 5): repetition_penalty, no_repeat_ngram_size, bad_words_ids and
// num_return_sequences, each checked against test/helpers/generation_reference.py, a NumPy transcription of the
// transformers code paths (logits processors, _sample, the vectorised _beam_search) fed the same model outputs:
// integers bit-exact, floats within 1e-6. The "model" is a deterministic function of the prefix built to make
// the options matter (tokens already in the row are attractive, scores of both signs, eos likelier with length).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../src/demo/prng';
import { GenerationConfig, checkGenerationOptions, effectiveConfig, readGenerationConfig } from '../../src/core/generate/generationConfig';
import { beamSearch, greedySearch, processLogits } from '../../src/core/generate/search';
import { Stepper } from '../../src/core/generate/stepper';
import { Tensor } from '../../src/core/tensor/tensor';
import { pythonWith } from '../helpers/python';
import { tempDir } from '../helpers/tempDir';

const V = 12;
const EOS = 2;
const REFERENCE = path.join(__dirname, '..', '..', '..', 'test', 'helpers', 'generation_reference.py');

/** A model whose last-position logits are a fixed function of the sequence; it records every sequence it ran. */
class PrefixModel implements Stepper {
  readonly vocabSize = V;
  readonly stats = { runs: 0, cachedRuns: 0 };
  readonly seen = new Map<string, number[]>();
  constructor(private readonly seed: number) {}

  logits(seq: number[]): Float32Array {
    let h = this.seed;
    for (const t of seq) h = Math.imul(h ^ (t + 1), 0x9e3779b1) >>> 0;
    const rng = mulberry32(h);
    const out = new Float32Array(V);
    for (let v = 0; v < V; v++) out[v] = (rng() * 2 - 1) * 3 + 1.2 * seq.filter((t) => t === v).length;
    out[EOS] += (seq.length - 6) * 0.5;
    return out;
  }

  async next(sequences: Tensor, _beamIdx: Int32Array | null): Promise<Float32Array> {
    this.stats.runs++;
    const rows = sequences.toArray() as number[][];
    const out = new Float32Array(rows.length * V);
    rows.forEach((r, i) => {
      const l = this.logits(r);
      this.seen.set(JSON.stringify(r), Array.from(l));
      out.set(l, i * V);
    });
    return out;
  }
}

function defaults(): GenerationConfig {
  const dir = tempDir();
  try {
    return readGenerationConfig(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Our config in transformers' names, for the reference. */
function asTransformers(gc: GenerationConfig, line: '4.57' | '5'): Record<string, unknown> {
  return {
    num_beams: gc.numBeams,
    num_return_sequences: gc.numReturnSequences,
    max_length: gc.maxLength,
    eos_token_id: gc.eosTokenIds,
    pad_token_id: gc.padTokenId,
    length_penalty: gc.lengthPenalty,
    early_stopping: gc.earlyStopping,
    repetition_penalty: gc.repetitionPenalty,
    no_repeat_ngram_size: gc.noRepeatNgramSize,
    bad_words_ids: gc.badWordsIds,
    min_length: gc.minLength,
    min_new_tokens: gc.minNewTokens,
    prompt_length: gc.promptLength ?? 1,
    forced_bos_token_id: gc.forcedBosTokenId,
    forced_eos_token_id: gc.forcedEosTokenIds.length ? gc.forcedEosTokenIds : null,
    line,
  };
}

type RefOut = { ok: unknown } | { error: string };

function reference(cases: unknown[]): RefOut[] {
  const dir = tempDir();
  try {
    const job = path.join(dir, 'job.json');
    fs.writeFileSync(job, JSON.stringify({ cases }));
    return JSON.parse(execFileSync(pythonWith(), [REFERENCE, job], { encoding: 'utf8', maxBuffer: 64 << 20 })) as RefOut[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const decode = (v: number | string) => (typeof v === 'number' ? v : v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity);

function gcWith(o: Partial<GenerationConfig>): GenerationConfig {
  return { ...defaults(), eosTokenIds: [EOS], padTokenId: 0, decoderStartTokenId: 0, maxLength: 14, promptLength: 1, ...o };
}

test('logits processors equal the transformers transcription on the same scores (floats within 1e-6, bans exact), both lines', () => {
  const rng = mulberry32(7);
  const configs: [string, Partial<GenerationConfig>][] = [
    ['repetition_penalty 1.3', { repetitionPenalty: 1.3 }],
    ['repetition_penalty 0.77 (rewards repeats)', { repetitionPenalty: 0.77 }],
    ['no_repeat_ngram_size 2', { noRepeatNgramSize: 2 }],
    ['no_repeat_ngram_size 1', { noRepeatNgramSize: 1 }],
    ['bad_words_ids: single tokens, eos (dropped), two- and three-token words', { badWordsIds: [[5], [EOS], [3, 4], [4, 6, 7], [0, 8]] }],
    ['every option at once, with min_length and forced eos', { repetitionPenalty: 1.5, noRepeatNgramSize: 3, badWordsIds: [[9], [3, 4]], minLength: 6, forcedEosTokenIds: [EOS], maxLength: 7 }],
  ];
  const cases: unknown[] = [];
  const ours: Float32Array[] = [];
  for (const line of ['4.57', '5'] as const) {
    for (const [, o] of configs) {
      // rows of lengths 1 (the start token alone), 2 and 6, with repeats so that every processor has work
      for (const rows of [[[0], [0]], [[0, 8], [0, 4]], [[0, 3, 4, 3, 4, 6], [0, 4, 6, 7, 4, 6]]]) {
        const scores = Float32Array.from({ length: rows.length * V }, () => (rng() * 2 - 1) * 5);
        const gc = gcWith({ ...o, badWordsNeedLongerContext: line === '4.57' });
        cases.push({ op: 'processors', config: asTransformers(gc, line), input_ids: rows, scores: rows.map((_, r) => Array.from(scores.subarray(r * V, (r + 1) * V))) });
        const mine = Float32Array.from(scores);
        processLogits(mine, rows, V, gc);
        ours.push(mine);
      }
    }
  }
  const ref = reference(cases);
  let banned = 0, changed = 0;
  ref.forEach((r, i) => {
    assert.ok('ok' in r, JSON.stringify(r));
    const want = (r.ok as (number | string)[][]).flat().map(decode);
    const before = (cases[i] as { scores: number[][] }).scores.flat();
    want.forEach((w, j) => {
      const got = ours[i][j];
      if (!Number.isFinite(w)) assert.ok(Object.is(got, w) || (Number.isNaN(w) && Number.isNaN(got)), `case ${i} [${j}]: ${got} vs ${w}`);
      else assert.ok(Math.abs(got - w) <= 1e-6, `case ${i} [${j}]: ${got} vs ${w}`);
      if (w === -Infinity) banned++;
      else if (w !== before[j]) changed++;
    });
  });
  assert.ok(banned > 40 && changed > 20, `the cases exercise bans (${banned}) and penalties (${changed})`);
  // the one place the lines differ: a two-token bad word whose prefix is the whole sequence so far
  const gc57 = gcWith({ badWordsIds: [[0, 8]], badWordsNeedLongerContext: true });
  const gc5 = gcWith({ badWordsIds: [[0, 8]] });
  const s57 = new Float32Array(V), s5 = new Float32Array(V);
  processLogits(s57, [[0]], V, gc57);
  processLogits(s5, [[0]], V, gc5);
  assert.deepEqual([s57[8], s5[8]], [0, -Infinity]);
});

test('greedy and beam search with the options give the ids of the transformers transcription, fed the same logits', async () => {
  const prompts1 = [[0], [0], [0]];
  const promptsLm = [[5, 6, 5], [7, 7, 3], [1, 4, 9]];
  const settings: [string, Partial<GenerationConfig>, number[][]][] = [
    ['greedy', {}, prompts1],
    ['greedy, repetition_penalty 1.4', { repetitionPenalty: 1.4 }, prompts1],
    ['greedy, no_repeat_ngram_size 2', { noRepeatNgramSize: 2 }, prompts1],
    ['greedy, bad words', { badWordsIds: [[4], [3, 5], [0, 7]] }, prompts1],
    ['greedy decoder-only prompts, all three', { repetitionPenalty: 1.2, noRepeatNgramSize: 2, badWordsIds: [[8, 8]], promptLength: 3 }, promptsLm],
    ['beam 3', { numBeams: 3 }, prompts1],
    ['beam 4 returning 4, repetition_penalty 1.3', { numBeams: 4, numReturnSequences: 4, repetitionPenalty: 1.3 }, prompts1],
    ['beam 3 returning 2, no_repeat_ngram_size 2, length_penalty 0.6, early stopping', { numBeams: 3, numReturnSequences: 2, noRepeatNgramSize: 2, lengthPenalty: 0.6, earlyStopping: true }, prompts1],
    ['beam 3 returning 3, bad words, early_stopping never, length_penalty 1.5', { numBeams: 3, numReturnSequences: 3, badWordsIds: [[5], [6, 7]], earlyStopping: 'never', lengthPenalty: 1.5 }, prompts1],
    ['beam 2 returning 2, two eos ids, pad 1', { numBeams: 2, numReturnSequences: 2, eosTokenIds: [EOS, 11], padTokenId: 1, repetitionPenalty: 0.9 }, prompts1],
    ['beam 3 returning 2, decoder-only prompts', { numBeams: 3, numReturnSequences: 2, repetitionPenalty: 1.25, promptLength: 3, maxLength: 16 }, promptsLm],
  ];
  const cases: unknown[] = [];
  const ours: number[][][] = [];
  for (const line of ['4.57', '5'] as const) {
    for (const [i, [, o, prompts]] of settings.entries()) {
      const gc = gcWith({ ...o, badWordsNeedLongerContext: line === '4.57' });
      const model = new PrefixModel(1000 + i);
      const out = gc.numBeams > 1 ? await beamSearch(model, prompts, gc) : await greedySearch(model, prompts, gc);
      ours.push(out.toArray() as number[][]);
      cases.push({ op: 'generate', config: asTransformers(gc, line), prompts: gc.numBeams > 1 ? prompts : prompts, model: [...model.seen].map(([k, v]) => [JSON.parse(k), v]) });
    }
  }
  const ref = reference(cases);
  ref.forEach((r, i) => {
    const name = `${settings[i % settings.length][0]} (line ${i < settings.length ? '4.57' : '5'})`;
    assert.ok('ok' in r, `${name}: ${JSON.stringify(r)}`);
    assert.deepEqual(ours[i], r.ok, name);
  });
  // rows × n: each input's n best in a block, as generate() returns them
  const four = ours[6];
  assert.equal(four.length, 3 * 4);
  assert.equal(new Set(four.slice(0, 4).map((r) => JSON.stringify(r))).size, 4, 'four different hypotheses for the first input');
  // the options change the ids (else these cases would prove nothing)
  assert.notDeepEqual(ours[1], ours[0], 'repetition_penalty changes greedy ids');
  assert.notDeepEqual(ours[2], ours[0], 'no_repeat_ngram_size changes greedy ids');
  assert.notDeepEqual(ours[3], ours[0], 'bad words change greedy ids');
  for (const r of ours[2]) {
    const body = r.slice(0, r.indexOf(EOS) < 0 ? r.length : r.indexOf(EOS) + 1);
    const grams = body.slice(1).map((t, j) => `${body[j]},${t}`);
    assert.equal(new Set(grams).size, grams.length, `no repeated bigram in ${body}`);
  }
  for (const r of ours[3]) assert.ok(!r.includes(4) && !r.join(',').includes('3,5'), `no bad word in ${r}`);
});

test('num_return_sequences and repetition_penalty: the checks generate() makes, naming the flag or the file', () => {
  const gc = gcWith({});
  assert.throws(() => checkGenerationOptions(effectiveConfig(gc, { numReturnSequences: 2 }, 1), { numReturnSequences: 2 }), /--num-return-sequences is 2, but greedy search returns one sequence per input.*add --num-beams 2 or more/);
  assert.throws(() => checkGenerationOptions(effectiveConfig(gc, { numReturnSequences: 4, numBeams: 3 }, 1), { numReturnSequences: 4, numBeams: 3 }), /--num-return-sequences \(4\) must be at most the number of beams \(3\)/);
  const fromFile = { ...gc, numReturnSequences: 3, source: '/m/generation_config.json' };
  assert.throws(() => checkGenerationOptions(effectiveConfig(fromFile, {}, 1), {}), /num_return_sequences in \/m\/generation_config\.json is 3, but greedy search/);
  assert.throws(() => checkGenerationOptions(effectiveConfig(gc, { repetitionPenalty: 0 }, 1), { repetitionPenalty: 0 }), /--repetition-penalty must be a positive number \(1 = no penalty\), got 0/);
  assert.throws(() => checkGenerationOptions(effectiveConfig(gc, { badWordsIds: [[EOS]] }, 1), { badWordsIds: [[EOS]] }), /--bad-words-ids holds only eos ids/);
  checkGenerationOptions(effectiveConfig(gc, { numReturnSequences: 3, numBeams: 3, repetitionPenalty: 1.1 }, 1), { numReturnSequences: 3, numBeams: 3 });
  const s = new Float32Array(V);
  assert.throws(() => processLogits(s, [[0]], V, gcWith({ badWordsIds: [[V + 3]] })), new RegExp(`bad_words_ids names token ids the model's vocabulary \\(${V} tokens\\) does not have: ${V + 3}`));
});

test('sampling is refused wherever it is asked for, with the reason: CLI flags, launch attributes', async () => {
  const { runCommand } = await import('../../src/cli/commands/run');
  const { parseLaunchArgs } = await import('../../src/core/runtime/launchSettings');
  const { localIO } = await import('../../src/core/runtime/io');
  for (const flag of ['--do-sample', '--temperature=0.7', '--top-k', '--top-p']) {
    await assert.rejects(runCommand(['--model', 'm', '--dataset', 'd', '--predict-with-generate', flag, ...(flag.includes('=') || flag === '--do-sample' ? [] : ['5'])]), new RegExp(`^EvalpredError: ${flag.split('=')[0]}: generate\\(\\) would sample with PyTorch's random number generator, which evalpred cannot reproduce`));
  }
  const dir = tempDir();
  try {
    fs.mkdirSync(path.join(dir, 'model'));
    fs.writeFileSync(path.join(dir, 'd.jsonl'), '{}\n');
    const base = { cwd: dir, model: 'model', dataset: 'd.jsonl' };
    assert.throws(() => parseLaunchArgs({ ...base, doSample: true }, localIO), /"doSample" asks for sampling: generate\(\) would sample with PyTorch's random number generator/);
    assert.throws(() => parseLaunchArgs({ ...base, topP: 0.9 }, localIO), /"topP" asks for sampling/);
    assert.deepEqual(parseLaunchArgs({ ...base, doSample: false }, localIO).warnings, ['launch configuration: unknown attribute "doSample" ignored']);
    assert.deepEqual(parseLaunchArgs({ ...base, badWordsIds: [[5], [7, 8]], numReturnSequences: 2 }, localIO).run.badWordsIds, [[5], [7, 8]]);
    assert.throws(() => parseLaunchArgs({ ...base, badWordsIds: [5] }, localIO), /launch configuration: "badWordsIds" must be a non-empty list of token id lists/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
