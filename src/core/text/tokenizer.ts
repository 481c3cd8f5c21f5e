// Loading a model folder's tokenizer.json (+ tokenizer_config.json, special_tokens_map.json) into the
// small interface the loop uses. Encoding follows a HF *fast* tokenizer: @huggingface/tokenizers supplies
// the tokens, we add what it lacks (special-token templates for pairs, truncation, word ids, offsets).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { EvalpredError, messageOf } from '../errors';
import { SurfaceRules, TokenizerInternals, tokenizeSegment } from './alignment';
import { installLibraryFastPaths } from './libraryFastPaths';
import { Encoded, Segment, Template, TemplatePiece, Truncation, assemble, overflowWindows, specialCount, truncateSegments } from './encoded';

/**
 * The version of what evalpred's own tokenization makes of the same files (ids, word ids, offsets). It is part of the
 * prediction and tokenized-features cache keys (docs/cache-format.md#the-key), so caches made before a change are
 * not reused. 2: byte-level, Metaspace and Llama-style offsets as transformers gives them.
 */
export const TOKENIZATION_RULES = 2;

export interface LoadedTokenizer {
  readonly dir: string;
  readonly padTokenId: number;
  readonly padSide: 'right' | 'left';
  readonly modelMaxLength: number | null;
  readonly vocabSize: number;
  readonly specialIds: ReadonlySet<number>;
  /**
   * Whether transformers' tokenizer returns token_type_ids (its model_input_names): tokenizer_config.json's
   * model_input_names when saved; else false for transformers 5's generic "TokenizersBackend" class (whose
   * default names leave them out, so a BERT model gets zeros); else true. Found by the real-Trainer
   * cross-check (test/trainer, case qa under transformers 5).
   */
  readonly returnsTokenTypeIds: boolean;
  /** Things the user may want to know (e.g. no pad token, eos used instead). */
  readonly notes: readonly string[];
  /** `align: false` skips word ids and offsets (sequence classification needs neither; it is much faster). */
  encode(text: string, pair?: string, opts?: { maxLength?: number; truncation?: 'longest_first' | 'only_second'; align?: boolean }): Encoded;
  /**
   * A pair with overflowing windows, as run_qa's prepare_validation_features calls the tokenizer
   * (`truncation="only_second"` or `"only_first"`, `stride`, `return_overflowing_tokens=True`): the encoding, then each
   * overflowing window of the truncated text with the other text and the special tokens around it.
   */
  encodeOverflowing(text: string, pair: string, opts: { maxLength: number; stride: number; truncation: 'only_first' | 'only_second' }): Encoded[];
  /** `is_split_into_words=True`: each word tokenized on its own, word ids = word index, offsets within the word. */
  encodeWords(words: string[], opts?: { maxLength?: number }): Encoded;
  /** Like `tokenizer.decode`; negative ids (-100) are skipped, never a crash. */
  decode(ids: ArrayLike<number | bigint>, opts?: { skipSpecialTokens?: boolean }): string;
  idToToken(id: number): string | undefined;
  /** The id of a named special token ('eos_token', 'bos_token', …) as transformers resolves it, if any. */
  specialTokenId(name: string): number | undefined;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Read and parse a JSON file, naming the file and the line/column of a syntax error. */
function readJson(file: string): Json {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    const msg = messageOf(e);
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const p = Number(pos[1]);
      const before = text.slice(0, p).split('\n');
      where = ` at line ${before.length}, column ${before[before.length - 1].length + 1} (character ${p})`;
    }
    throw new EvalpredError(`${file} is not valid JSON${where}: ${msg}. Re-save the tokenizer with save_pretrained().`, {
      file,
      line: pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined,
    });
  }
}

function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content;
  return undefined;
}

function missingTokenizerError(dir: string): EvalpredError {
  let listing: string[] = [];
  try {
    listing = fs.readdirSync(dir).sort();
  } catch {
    return new EvalpredError(`${dir}: the model folder does not exist (looked for tokenizer.json there).`, { file: dir });
  }
  const slow = listing.filter((f) => /^(vocab\.txt|vocab\.json|merges\.txt|spiece\.model|sentencepiece\.bpe\.model|.*\.model)$/.test(f));
  return new EvalpredError(
    `${dir} has no tokenizer.json (the folder holds: ${listing.join(', ') || 'nothing'}). evalpred needs a fast ` +
      `tokenizer's tokenizer.json${slow.length ? `; ${slow.join(', ')} belong to a slow tokenizer, which is not enough` : ''}. ` +
      `Make one with Python: AutoTokenizer.from_pretrained("<model or this folder>", use_fast=True).save_pretrained("${dir}") ` +
      `(the fast tokenizer writes tokenizer.json).`,
    { file: path.join(dir, 'tokenizer.json') },
  );
}

function idOf(tok: Tokenizer, token: string | undefined): number | undefined {
  return token === undefined ? undefined : tok.token_to_id(token);
}

/**
 * Whether the pre-tokenizer puts a space before a text that does not start with one: ByteLevel's add_prefix_space;
 * Metaspace's prepend_scheme ("always", or "first": each text of a pair is pre-tokenized on its own), or in older
 * files its add_prefix_space (default true).
 */
function prefixesSpace(byteLevel: Json | undefined, metaspace: Json | undefined): boolean {
  if (byteLevel) return !!byteLevel.add_prefix_space;
  if (!metaspace) return false;
  if (typeof metaspace.prepend_scheme === 'string') return metaspace.prepend_scheme !== 'never';
  return metaspace.add_prefix_space !== false;
}

/** Tokenizer classes whose post-processor transformers rebuilds from trim_offsets and add_prefix_space arguments. */
const ROBERTA_LIKE_CLASS = /^(Roberta|Bart|Longformer|LED|Mvp|Blenderbot|LayoutLMv3|MarkupLM)Tokenizer(Fast)?$/;

/** The post-processor's template, and its offsets trimming (byte-level: trim_offsets, and add_prefix_space for the first token). */
interface PostProcessing {
  template: Template;
  trimOffsets: boolean;
  trimKeepsPrefixSpace: boolean;
}

/** The special-token layout from tokenizer.json's post_processor (what `Encoding` post-processing adds). */
function templateOf(pp: Json | null | undefined, tok: Tokenizer, file: string): PostProcessing {
  const none: Template = { single: [{ seq: 0, typeId: 0 }], pair: [{ seq: 0, typeId: 0 }, { seq: 1, typeId: 1 }] };
  const noTrim = { trimOffsets: false, trimKeepsPrefixSpace: false };
  if (!pp) return { template: none, ...noTrim };
  const specialId = (pair: unknown): number[] => {
    if (Array.isArray(pair) && typeof pair[1] === 'number') return [pair[1]];
    throw new EvalpredError(`${file}: post_processor ${pp.type} has a malformed cls/sep entry ${JSON.stringify(pair)}.`, { file });
  };
  switch (pp.type) {
    case 'TemplateProcessing': {
      const piece = (it: Json): TemplatePiece => {
        if (it.SpecialToken) {
          const name = it.SpecialToken.id as string;
          const ids: number[] | undefined = pp.special_tokens?.[name]?.ids ?? (tok.token_to_id(name) !== undefined ? [tok.token_to_id(name)!] : undefined);
          if (!ids) throw new EvalpredError(`${file}: the post_processor template uses special token ${name}, which has no id.`, { file });
          return { special: ids, typeId: it.SpecialToken.type_id ?? 0 };
        }
        return { seq: it.Sequence?.id === 'B' ? 1 : 0, typeId: it.Sequence?.type_id ?? 0 };
      };
      return { template: { single: (pp.single ?? []).map(piece), pair: (pp.pair ?? []).map(piece) }, ...noTrim };
    }
    case 'BertProcessing': {
      const cls = specialId(pp.cls), sep = specialId(pp.sep);
      return {
        template: {
          single: [{ special: cls, typeId: 0 }, { seq: 0, typeId: 0 }, { special: sep, typeId: 0 }],
          pair: [{ special: cls, typeId: 0 }, { seq: 0, typeId: 0 }, { special: sep, typeId: 0 }, { seq: 1, typeId: 1 }, { special: sep, typeId: 1 }],
        },
        ...noTrim,
      };
    }
    case 'RobertaProcessing': {
      // RoBERTa has a single token type (type_vocab_size 1): every type id is 0, as the Python tokenizer returns.
      const cls = specialId(pp.cls), sep = specialId(pp.sep);
      return {
        template: {
          single: [{ special: cls, typeId: 0 }, { seq: 0, typeId: 0 }, { special: sep, typeId: 0 }],
          pair: [{ special: cls, typeId: 0 }, { seq: 0, typeId: 0 }, { special: sep, typeId: 0 }, { special: sep, typeId: 0 }, { seq: 1, typeId: 0 }, { special: sep, typeId: 0 }],
        },
        trimOffsets: pp.trim_offsets ?? true,
        trimKeepsPrefixSpace: pp.add_prefix_space ?? true,
      };
    }
    case 'ByteLevel':
      return { template: none, trimOffsets: pp.trim_offsets ?? true, trimKeepsPrefixSpace: pp.add_prefix_space ?? true };
    case 'Sequence': {
      let result: PostProcessing = { template: none, ...noTrim };
      for (const p of (pp.processors ?? []) as Json[]) {
        const r = templateOf(p, tok, file);
        if (p.type === 'ByteLevel') result = { ...result, trimOffsets: r.trimOffsets, trimKeepsPrefixSpace: r.trimKeepsPrefixSpace };
        else result = r.trimOffsets ? r : { ...result, template: r.template };
      }
      return result;
    }
    default:
      throw new EvalpredError(`${file}: post_processor type "${pp.type}" is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence).`, { file });
  }
}

function hasType(node: Json | null | undefined, type: string): Json | undefined {
  if (!node) return undefined;
  if (node.type === type) return node;
  for (const k of ['pretokenizers', 'normalizers', 'decoders', 'processors']) {
    for (const c of (node[k] ?? []) as Json[]) {
      const f = hasType(c, type);
      if (f) return f;
    }
  }
  return undefined;
}

/** Tokens of aligned segments one loaded tokenizer keeps for texts seen again (~60 bytes each: ~30 MB at most). */
const SEGMENT_MEMO_TOKENS = 500_000;

function copySegment(s: Segment): Segment {
  return { ids: s.ids.slice(), wordIds: s.wordIds.slice(), offsets: s.offsets.map((o) => [o[0], o[1]]) };
}

/** Every file loadTokenizer reads from a model folder (the tokenized-features cache key hashes these). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

export async function loadTokenizer(dir: string): Promise<LoadedTokenizer> {
  return loadTokenizerSync(dir);
}

/** The same, synchronously: metric code calls it as `loadTokenizer(dir).batchDecode(...)` (library/tokenizer.ts). */
export function loadTokenizerSync(dir: string): LoadedTokenizer {
  const [tokenizerFile, configFile, mapFile] = TOKENIZER_FILES;
  const file = path.join(dir, tokenizerFile);
  if (!fs.existsSync(file)) throw missingTokenizerError(dir);
  const tj = readJson(file);
  const cfgFile = path.join(dir, configFile);
  const stmapFile = path.join(dir, mapFile);
  const config: Json = fs.existsSync(cfgFile) ? readJson(cfgFile) : {};
  const stmap: Json = fs.existsSync(stmapFile) ? readJson(stmapFile) : {};
  if (!tj.model || typeof tj.model !== 'object') {
    throw new EvalpredError(`${file} has no "model" section: it is not a tokenizers tokenizer.json.`, { file });
  }
  tj.added_tokens ??= [];
  // transformers rewrites the byte-level pre-tokenizer from tokenizer_config's add_prefix_space (RoBERTa-style).
  const byteLevelPre = hasType(tj.pre_tokenizer, 'ByteLevel');
  if (byteLevelPre && typeof config.add_prefix_space === 'boolean') byteLevelPre.add_prefix_space = config.add_prefix_space;

  const special = (name: string) => tokenString(config[name]) ?? tokenString(stmap[name]);
  // transformers (4.45 and later) cleans up spaces only when tokenizer_config.json asks; the JS library's default is true.
  const libConfig: Json = { ...config, clean_up_tokenization_spaces: config.clean_up_tokenization_spaces === true };
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const v = special(k);
    if (v !== undefined) libConfig[k] = v;
    else delete libConfig[k];
  }
  const extra = (config.additional_special_tokens ?? stmap.additional_special_tokens ?? []) as unknown[];
  libConfig.additional_special_tokens = extra.map(tokenString).filter((s): s is string => !!s);

  let tok: Tokenizer;
  try {
    // Loaded with the first tokenizer (not at activation of the extension host: docs/packaging.md).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const library = require('@huggingface/tokenizers') as typeof import('@huggingface/tokenizers');
    tok = new library.Tokenizer(tj, libConfig);
    installLibraryFastPaths(tok as unknown as TokenizerInternals, library);
  } catch (e) {
    throw new EvalpredError(`${file}: the tokenizer could not be built (${messageOf(e)}).`, { file }, { cause: e });
  }
  const internals = tok as unknown as TokenizerInternals;
  const post = templateOf(tj.post_processor, tok, file);
  const { template } = post;
  let { trimOffsets, trimKeepsPrefixSpace } = post;
  // RoBERTa's tokenizer class (and those built like it) rebuilds its post-processor from its own arguments, saved in
  // tokenizer_config.json or defaulted (trim_offsets=True, add_prefix_space=False), in transformers 4.57 and 5 alike.
  if (typeof config.tokenizer_class === 'string' && ROBERTA_LIKE_CLASS.test(config.tokenizer_class)) {
    trimOffsets = typeof config.trim_offsets === 'boolean' ? config.trim_offsets : true;
    trimKeepsPrefixSpace = config.add_prefix_space === true;
  }

  const model = tj.model as Json;
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : special('unk_token');
  const unkId = idOf(tok, unkToken) ?? 0;
  const metaspacePre = hasType(tj.pre_tokenizer, 'Metaspace');
  const metaspace = metaspacePre ?? hasType(tj.decoder, 'Metaspace');
  const prepend = hasType(tj.normalizer, 'Prepend');
  const rules: SurfaceRules = {
    byteLevel: !!byteLevelPre || !!hasType(tj.decoder, 'ByteLevel'),
    metaspace: metaspace ? (metaspace.replacement ?? '\u2581') : prepend ? '\u2581' : null,
    metaspaceSplit: !!metaspacePre && metaspacePre.split !== false,
    continuingPrefix: typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : null,
    endOfWordSuffix: typeof model.end_of_word_suffix === 'string' ? model.end_of_word_suffix : null,
    trimOffsets,
    trimKeepsPrefixSpace,
    prefixSpace: prefixesSpace(byteLevelPre, metaspacePre),
    prependedChar: typeof prepend?.prepend === 'string' ? prepend.prepend : null,
    unkToken,
    unkId,
  };

  const notes: string[] = [];
  const specialIds = new Set<number>();
  for (const t of tj.added_tokens as Json[]) if (t.special) specialIds.add(t.id);
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const id = idOf(tok, special(k));
    if (id !== undefined) specialIds.add(id);
  }
  for (const t of libConfig.additional_special_tokens as string[]) {
    const id = tok.token_to_id(t);
    if (id !== undefined) specialIds.add(id);
  }

  let padTokenId = idOf(tok, special('pad_token')) ?? (typeof tj.padding?.pad_id === 'number' ? tj.padding.pad_id : undefined);
  if (padTokenId === undefined) {
    // DataCollatorWithPadding would refuse ("Asking to pad but the tokenizer does not have a padding token");
    // the usual fix is pad_token = eos_token. Padded positions are masked out, so the value only shows in inputs.
    const eos = idOf(tok, special('eos_token'));
    padTokenId = eos ?? 0;
    notes.push(
      `${dir}: the tokenizer has no pad token; padding with ${eos !== undefined ? `the eos token (id ${eos})` : 'id 0'}, as ` +
        `tokenizer.pad_token = tokenizer.eos_token would. Trainer itself would stop with "Asking to pad but the tokenizer does not have a padding token".`,
    );
  }
  const padSide = config.padding_side === 'left' ? 'left' : 'right';
  const truncSide: 'left' | 'right' = config.truncation_side === 'left' ? 'left' : 'right';
  const mml = config.model_max_length;
  const modelMaxLength = typeof mml === 'number' && Number.isFinite(mml) ? mml : null;
  const vocabSize = tok.get_vocab(true).size;

  // An aligned segment (word ids and offsets: token classification, QA) costs several times the tokens alone, and
  // the same texts come again and again: pre-split words (CoNLL-2003 validation: 51,362 words, 9,966 distinct) and
  // run_qa's contexts (one per question). Each text's segment is kept, up to SEGMENT_MEMO_TOKENS tokens in all,
  // and handed out as a copy, since callers cut and shift what they get. Tokenization is a pure function of the text.
  const memo = new Map<string, Segment>();
  let memoTokens = 0;
  const segment = (text: string, align = true): Segment => {
    if (!align) return tokenizeSegment(internals, text, rules, false);
    const known = memo.get(text);
    if (known) return copySegment(known);
    const s = tokenizeSegment(internals, text, rules, true);
    if (memoTokens + s.ids.length > SEGMENT_MEMO_TOKENS) return s;
    memo.set(text, s);
    memoTokens += s.ids.length;
    return copySegment(s);
  };
  const fitAndAssemble = (pieces: TemplatePiece[], a: Segment, b: Segment | undefined, maxLength: number | undefined, strategy: Truncation) => {
    if (maxLength !== undefined) {
      try {
        [a, b] = truncateSegments(a, b, maxLength - specialCount(pieces), strategy, truncSide);
      } catch (e) {
        throw new EvalpredError(`${file}: cannot truncate to max length ${maxLength}: ${messageOf(e)}`, { file });
      }
    }
    return assemble(pieces, b ? [a, b] : [a]);
  };

  return {
    dir,
    padTokenId,
    padSide,
    modelMaxLength,
    vocabSize,
    specialIds,
    returnsTokenTypeIds: Array.isArray(config.model_input_names)
      ? config.model_input_names.includes('token_type_ids')
      : config.tokenizer_class !== 'TokenizersBackend',
    notes,
    encode(text, pair, opts = {}) {
      const align = opts.align ?? true;
      const a = segment(text, align);
      const b = pair === undefined ? undefined : segment(pair, align);
      const enc = fitAndAssemble(b ? template.pair : template.single, a, b, opts.maxLength, opts.truncation ?? 'longest_first');
      if (!align) enc.aligned = false;
      return enc;
    },
    encodeOverflowing(text, pair, { maxLength, stride, truncation }) {
      const a = segment(text), b = segment(pair);
      const pieces = template.pair;
      // tokenizers' truncate_encodings: nothing to cut when the whole pair fits; else the target loses
      // `to_remove` tokens per window, and a target not longer than that is an error.
      const toRemove = a.ids.length + b.ids.length + specialCount(pieces) - maxLength;
      if (toRemove <= 0) return [assemble(pieces, [a, b])];
      const [target, other] = truncation === 'only_second' ? [b, a] : [a, b];
      if (target.ids.length <= toRemove) {
        const which = truncation === 'only_second' ? 'second' : 'first';
        throw new EvalpredError(
          `${file}: the ${which === 'second' ? 'first' : 'second'} text has ${other.ids.length} tokens, so truncating only the ${which} text cannot bring the pair ` +
            `down to the max length ${maxLength}; transformers raises "Truncation error: Sequence to truncate too short to respect the provided max_length" here. ` +
            `Raise the max length or shorten the question.`,
          { file },
        );
      }
      try {
        return overflowWindows(target, target.ids.length - toRemove, stride, truncSide).map((w) => assemble(pieces, truncation === 'only_second' ? [a, w] : [w, b]));
      } catch (e) {
        throw new EvalpredError(`${file}: ${messageOf(e)}`, { file });
      }
    },
    encodeWords(words, opts = {}) {
      if (byteLevelPre && !byteLevelPre.add_prefix_space) {
        throw new EvalpredError(
          `${file}: this byte-level (GPT-2/RoBERTa-style) tokenizer was saved with add_prefix_space=False, and transformers ` +
            `refuses pre-split words with it ("You need to instantiate ... with add_prefix_space=True to use it with pretokenized inputs"). ` +
            `Re-save it with AutoTokenizer.from_pretrained(..., add_prefix_space=True).save_pretrained(...).`,
          { file },
        );
      }
      const seg: Segment = { ids: [], wordIds: [], offsets: [] };
      words.forEach((w, i) => {
        const s = segment(w);
        seg.ids.push(...s.ids);
        seg.wordIds.push(...s.ids.map(() => i));
        seg.offsets.push(...s.offsets);
      });
      return fitAndAssemble(template.single, seg, undefined, opts.maxLength, 'longest_first');
    },
    decode(ids, opts = {}) {
      const list: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        const v = Number(ids[i]);
        if (Number.isInteger(v) && v >= 0) list.push(v);
      }
      if (list.length === 0) return '';
      return tok.decode(list, { skip_special_tokens: opts.skipSpecialTokens ?? false });
    },
    idToToken(id) {
      return tok.id_to_token(id);
    },
    specialTokenId(name) {
      return idOf(tok, special(name));
    },
  };
}
