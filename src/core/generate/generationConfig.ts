// generation_config.json (falling back to config.json's generation fields, as GenerationConfig.from_model_config
// does) and the per-call arguments Seq2SeqTrainer passes to generate (docs/trainer-semantics.md#generation-arguments). Two configs matter:
// `model` (model.generation_config: decides Seq2SeqTrainer's padding width, docs/trainer-semantics.md#generation-padding step 4) and the
// effective one generate() runs with (explicit kwargs > model.generation_config > GenerationConfig defaults).
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../errors';

export interface GenerationConfig {
  decoderStartTokenId: number | null;
  bosTokenId: number | null;
  /** One or several; [] when none. */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** Total length limit (for encoder-decoders it counts the decoder start token). GenerationConfig default 20. */
  maxLength: number;
  /** Whether generation_config.json (or config.json) sets max_length; transformers 5 treats an unset one apart (defaultNewTokens). */
  maxLengthSet?: boolean;
  maxNewTokens: number | null;
  numBeams: number;
  lengthPenalty: number;
  /** true, false or 'never' (transformers' three values). */
  earlyStopping: boolean | 'never';
  forcedBosTokenId: number | null;
  forcedEosTokenIds: number[];
  noRepeatNgramSize: number;
  /** RepetitionPenaltyLogitsProcessor's penalty (1 = off). */
  repetitionPenalty: number;
  /** NoBadWordsLogitsProcessor's sequences as given (null = off); eos-only entries are dropped when applied. */
  badWordsIds: number[][] | null;
  /**
   * transformers 4.57's SequenceBiasLogitsProcessor skips a bad word longer than the sequence so far; 5.x only one
   * whose prefix is longer (so a 2-token bad word can match the decoder start token). Set from the profile.
   */
  badWordsNeedLongerContext?: boolean;
  /** Rows generate() returns per input (beam search only; the best first). */
  numReturnSequences: number;
  /** do_sample and the sampling settings beside it, for the refusal (docs/trainer-semantics.md#generation-options). */
  sampling: string[];
  /** MinLengthLogitsProcessor / MinNewTokensLengthLogitsProcessor: eos is banned until reached (0 / null = off). */
  minLength: number;
  minNewTokens: number | null;
  /** The prompt's length for this call (1 for encoder-decoders; set by effectiveConfig; min_new_tokens counts after it). */
  promptLength?: number;
  /** Settings present in the file that change transformers' output and that evalpred does not apply. */
  unsupported: string[];
  /** Where each field came from, for notes. */
  source: string;
}

const DEFAULTS = { maxLength: 20, numBeams: 1, lengthPenalty: 1, earlyStopping: false as boolean | 'never', noRepeatNgramSize: 0, repetitionPenalty: 1, numReturnSequences: 1 };

type Json = Record<string, unknown>;

/** Generation settings that change the ids and are not emulated, with their neutral value. */
const UNSUPPORTED: [string, unknown][] = [
  ['num_beam_groups', 1],
  ['diversity_penalty', 0],
  ['suppress_tokens', null],
  ['begin_suppress_tokens', null],
  ['forced_decoder_ids', null],
  ['encoder_no_repeat_ngram_size', 0],
  ['exponential_decay_length_penalty', null],
  ['penalty_alpha', null],
];

/** The sampling settings named when do_sample is refused (they only act with do_sample). */
const SAMPLING = ['temperature', 'top_k', 'top_p', 'typical_p', 'min_p'];
/** generate()'s sampling options as a user may try to pass them (flags / launch attributes are refused with the reason). */
export const SAMPLING_OPTIONS = ['do_sample', ...SAMPLING];
/** Why sampling is refused, wherever it is asked for (docs/trainer-semantics.md#generation-options). */
export const SAMPLING_REFUSAL =
  "generate() would sample with PyTorch's random number generator, which evalpred cannot reproduce, so no prediction could match Trainer's";

/**
 * bad_words_ids as transformers validates it: a non-empty list of non-empty lists of token ids (>= 0). null when
 * absent. `what` names the file and field (or the flag) in the error.
 */
export function idLists(v: unknown, what: string, where: { file?: string; column?: string } = {}): number[][] | null {
  if (v === undefined || v === null) return null;
  const ok = Array.isArray(v) && v.length > 0 && v.every((w) => Array.isArray(w) && w.length > 0 && w.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0));
  if (!ok) throw new EvalpredError(`${what} must be a non-empty list of token id lists such as [[5], [7, 8]] (ids >= 0), got ${JSON.stringify(v)}.`, where);
  return v as number[][];
}

function readJson(file: string): Json | null {
  if (!fs.existsSync(file)) return null;
  const text = fs.readFileSync(file, 'utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new EvalpredError(`${file} is not valid JSON (${(e as Error).message}).`, { file }, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EvalpredError(`${file} must hold a JSON object.`, { file });
  return v as Json;
}

/** model.generation_config for the model folder (generation_config.json, else config.json's fields, else defaults). */
export function readGenerationConfig(modelDir: string): GenerationConfig {
  const genFile = path.join(modelDir, 'generation_config.json');
  const cfgFile = path.join(modelDir, 'config.json');
  const gen = readJson(genFile);
  const cfg = readJson(cfgFile) ?? {};
  // from_model_config copies these from config.json; generation_config.json, when present, is what is loaded.
  const src = gen ?? cfg;
  const file = gen ? genFile : cfgFile;
  const int = (k: string, from: Json = src): number | null => {
    const v = from[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new EvalpredError(`${file}: "${k}" must be an integer, got ${JSON.stringify(v)}.`, { file, column: k });
    return v;
  };
  const ids = (k: string): number[] => {
    const v = src[k];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (list.some((x) => typeof x !== 'number' || !Number.isInteger(x))) {
      throw new EvalpredError(`${file}: "${k}" must be a token id or a list of ids, got ${JSON.stringify(v)}.`, { file, column: k });
    }
    return list as number[];
  };
  const num = (k: string, d: number): number => {
    const v = src[k];
    if (v === undefined || v === null) return d;
    if (typeof v !== 'number') throw new EvalpredError(`${file}: "${k}" must be a number, got ${JSON.stringify(v)}.`, { file, column: k });
    return v;
  };
  const es = src.early_stopping;
  if (es !== undefined && es !== null && es !== true && es !== false && es !== 'never') {
    throw new EvalpredError(`${file}: "early_stopping" must be true, false or "never", got ${JSON.stringify(es)}.`, { file, column: 'early_stopping' });
  }
  // decoder_start_token_id: generate() falls back to bos_token_id when the config has none.
  const decoderStart = int('decoder_start_token_id') ?? int('decoder_start_token_id', cfg) ?? int('bos_token_id');
  const gc: GenerationConfig = {
    decoderStartTokenId: decoderStart,
    bosTokenId: int('bos_token_id'),
    eosTokenIds: ids('eos_token_id'),
    padTokenId: int('pad_token_id') ?? int('pad_token_id', cfg),
    maxLength: int('max_length') ?? DEFAULTS.maxLength,
    maxLengthSet: int('max_length') !== null && int('max_length') !== undefined,
    maxNewTokens: int('max_new_tokens'),
    numBeams: int('num_beams') ?? DEFAULTS.numBeams,
    lengthPenalty: num('length_penalty', DEFAULTS.lengthPenalty),
    earlyStopping: (es as boolean | 'never' | undefined | null) ?? DEFAULTS.earlyStopping,
    forcedBosTokenId: int('forced_bos_token_id'),
    forcedEosTokenIds: ids('forced_eos_token_id'),
    noRepeatNgramSize: int('no_repeat_ngram_size') ?? DEFAULTS.noRepeatNgramSize,
    repetitionPenalty: num('repetition_penalty', DEFAULTS.repetitionPenalty),
    badWordsIds: idLists(src.bad_words_ids, `${file}: "bad_words_ids"`, { file, column: 'bad_words_ids' }),
    numReturnSequences: int('num_return_sequences') ?? DEFAULTS.numReturnSequences,
    sampling: src.do_sample === true ? ['do_sample=true', ...SAMPLING.filter((k) => src[k] !== undefined && src[k] !== null).map((k) => `${k}=${JSON.stringify(src[k])}`)] : [],
    minLength: int('min_length') ?? 0,
    minNewTokens: int('min_new_tokens'),
    unsupported: UNSUPPORTED.filter(([k, neutral]) => src[k] !== undefined && src[k] !== null && JSON.stringify(src[k]) !== JSON.stringify(neutral)).map(
      ([k]) => `${k}=${JSON.stringify(src[k])}`,
    ),
    source: gen ? genFile : fs.existsSync(cfgFile) ? `${cfgFile} (no generation_config.json)` : 'GenerationConfig defaults',
  };
  return gc;
}

/** Per-call arguments as Seq2SeqTrainer builds gen_kwargs from its args (docs/trainer-semantics.md#generation-arguments). */
export interface GenerateArgs {
  maxLength?: number;
  maxNewTokens?: number;
  numBeams?: number;
  /** evaluate(**gen_kwargs) beyond the Seq2SeqTrainingArguments ones (docs/trainer-semantics.md#generation-options). */
  numReturnSequences?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  badWordsIds?: number[][];
}

/**
 * The effective config for one generate() call. `promptLength` is the decoder prompt's length (1 for an
 * encoder-decoder: the start token; the prompt width for a decoder-only model): max_new_tokens wins over
 * max_length and becomes max_length = max_new_tokens + promptLength, as generate() does.
 */
export function effectiveConfig(
  model: GenerationConfig,
  args: GenerateArgs,
  promptLength: number,
  maxPositions?: number,
  /** generate() would make the default max_length count new tokens (defaultNewTokens). */
  newTokensByDefault = false,
): GenerationConfig {
  const gc = { ...model };
  // generate()'s _prepare_generated_length: with no max_length passed and a default max_length, it generates
  // 20 NEW tokens: max_length = 20 + prompt length (the decoder start token for an encoder-decoder), capped by
  // config.max_position_embeddings. Found by the real-Trainer cross-check (test/trainer, case t5-generate).
  if (newTokensByDefault && args.maxLength === undefined && args.maxNewTokens === undefined && gc.maxNewTokens === null && gc.maxLength === DEFAULTS.maxLength) {
    gc.maxLength = DEFAULTS.maxLength + promptLength;
    if (maxPositions !== undefined && Number.isInteger(maxPositions) && maxPositions > 0) gc.maxLength = Math.min(gc.maxLength, maxPositions);
  }
  // generate() lets max_new_tokens win even over an explicit max_length (it only warns), including a
  // max_new_tokens that comes from the model's generation_config.
  if (args.maxLength !== undefined) gc.maxLength = args.maxLength;
  if (args.maxNewTokens !== undefined) gc.maxNewTokens = args.maxNewTokens;
  if (args.numBeams !== undefined) gc.numBeams = args.numBeams;
  if (args.numReturnSequences !== undefined) gc.numReturnSequences = args.numReturnSequences;
  if (args.repetitionPenalty !== undefined) gc.repetitionPenalty = args.repetitionPenalty;
  if (args.noRepeatNgramSize !== undefined) gc.noRepeatNgramSize = args.noRepeatNgramSize;
  if (args.badWordsIds !== undefined) gc.badWordsIds = args.badWordsIds;
  if (gc.maxNewTokens !== null) gc.maxLength = gc.maxNewTokens + promptLength;
  gc.promptLength = promptLength;
  for (const [k, v] of [['max length', gc.maxLength], ['num_beams', gc.numBeams]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new EvalpredError(`generation ${k} must be a positive integer, got ${v}.`);
  }
  return gc;
}

/**
 * GenerationConfig.validate's errors for the options evalpred applies, naming where each value came from (a flag
 * when one was given, else the model's generation_config).
 */
export function checkGenerationOptions(gc: GenerationConfig, args: GenerateArgs): void {
  if (gc.sampling.length) {
    throw new EvalpredError(
      `${gc.source} sets ${gc.sampling.join(', ')}: ${SAMPLING_REFUSAL}. ` +
        `Set "do_sample": false there to evaluate with greedy or beam search (what trainer.evaluate(do_sample=False) runs; see docs/trainer-semantics.md#generation-options).`,
      { file: gc.source.split(' ')[0] },
    );
  }
  const from = (flag: string, given: unknown, attr: string) => (given !== undefined ? flag : `${attr} in ${gc.source}`);
  const nrs = from('--num-return-sequences', args.numReturnSequences, 'num_return_sequences');
  if (!Number.isInteger(gc.numReturnSequences) || gc.numReturnSequences < 1) throw new EvalpredError(`${nrs} must be a positive integer, got ${gc.numReturnSequences}.`);
  if (gc.numReturnSequences > 1 && gc.numBeams === 1) {
    throw new EvalpredError(
      `${nrs} is ${gc.numReturnSequences}, but greedy search returns one sequence per input (transformers: "Greedy methods without beam search do not support num_return_sequences different than 1"): add --num-beams ${gc.numReturnSequences} or more.`,
    );
  }
  if (gc.numReturnSequences > gc.numBeams) {
    throw new EvalpredError(`${nrs} (${gc.numReturnSequences}) must be at most the number of beams (${gc.numBeams}), as transformers requires: raise --num-beams.`);
  }
  if (!(typeof gc.repetitionPenalty === 'number' && gc.repetitionPenalty > 0 && Number.isFinite(gc.repetitionPenalty))) {
    throw new EvalpredError(`${from('--repetition-penalty', args.repetitionPenalty, 'repetition_penalty')} must be a positive number (1 = no penalty), got ${gc.repetitionPenalty}.`);
  }
  if (!Number.isInteger(gc.noRepeatNgramSize) || gc.noRepeatNgramSize < 0) {
    throw new EvalpredError(`${from('--no-repeat-ngram-size', args.noRepeatNgramSize, 'no_repeat_ngram_size')} must be a whole number (0 = off), got ${gc.noRepeatNgramSize}.`);
  }
  if (gc.badWordsIds && !gc.badWordsIds.some((w) => !(w.length === 1 && gc.eosTokenIds.includes(w[0])))) {
    // NoBadWordsLogitsProcessor drops [eos] entries, and an empty list is then a ValueError in transformers
    throw new EvalpredError(`${from('--bad-words-ids', args.badWordsIds, 'bad_words_ids')} holds only eos ids (${JSON.stringify(gc.badWordsIds)}), which transformers drops, leaving no bad words: generate() would raise. Remove it or name other tokens.`);
  }
}

/**
 * Whether batch `batchIndex`'s generate() call counts the default max_length (20) as new tokens, by the
 * transformers line the profile imitates (docs/trainer-semantics.md#generation-arguments; both checked against
 * the real Seq2SeqTrainer, test/trainer):
 * - "v4.57": whenever max_length is 20 (generate's has_default_max_length: no max_length argument), every batch;
 * - "current" (5.x): only while model.generation_config.max_length is unset, and Seq2SeqTrainer's prediction_step
 *   writes the defaults (max_length 20) into model.generation_config after the first batch: so the first batch
 *   generates 20 new tokens, the others 20 in all;
 * - older profiles: never (not checked against a real Trainer).
 */
export function defaultNewTokens(profile: string | undefined, model: GenerationConfig, batchIndex: number): boolean {
  const p = profile ?? 'current';
  if (p === 'v4.57') return model.maxLength === DEFAULTS.maxLength;
  if (p === 'current') return !model.maxLengthSet && batchIndex === 0;
  return false;
}

/**
 * Seq2SeqTrainer._pad_tensors_to_max_len's target width from model.generation_config: max_length when the
 * generated width is below it, else max_new_tokens + 1 when set and larger; else no padding (docs/trainer-semantics.md#generation-padding step 4).
 */
export function trainerPadWidth(model: GenerationConfig, width: number): number {
  if (width < model.maxLength) return model.maxLength;
  if (model.maxNewTokens !== null && width < model.maxNewTokens + 1) return model.maxNewTokens + 1;
  return width;
}
