// A BERT-style tokenizer.json + tokenizer_config.json built from a word list, shaped the way the `tokenizers`
// library saves bert-base-uncased (BertNormalizer, BertPreTokenizer, WordPiece with `##` continuations,
// [CLS] $A [SEP] templates). Used by the demo and by tests, so no tokenizer is ever downloaded.

/** The five BERT special tokens, always vocab[0..4] in this order. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordPieceOptions {
  /** BertNormalizer lowercase + do_lower_case (default true, as bert-base-uncased). */
  lowercase?: boolean;
  /** tokenizer_config.json model_max_length (default 512). */
  modelMaxLength?: number;
}

export function wordPieceTokenizerJson(
  vocab: string[],
  opts: WordPieceOptions = {},
): { tokenizer: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  SPECIAL_TOKENS.forEach((t, i) => {
    if (vocab[i] !== t) throw new Error(`wordPieceTokenizerJson: vocab[${i}] must be ${t}, got ${JSON.stringify(vocab[i])}`);
  });
  const lowercase = opts.lowercase ?? true;
  const ids: Record<string, number> = {};
  vocab.forEach((tok, i) => {
    if (Object.prototype.hasOwnProperty.call(ids, tok)) throw new Error(`wordPieceTokenizerJson: token ${JSON.stringify(tok)} appears twice in the vocab`);
    ids[tok] = i;
  });
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0), seq('B', 1), special('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
  const tokenizerConfig = {
    added_tokens_decoder: Object.fromEntries(
      SPECIAL_TOKENS.map((content, id) => [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
    ),
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: lowercase,
    mask_token: '[MASK]',
    model_max_length: opts.modelMaxLength ?? 512,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
  return { tokenizer, tokenizerConfig };
}
