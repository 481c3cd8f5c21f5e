"""Build the real-Trainer cross-check cases and run the real transformers Trainer on each.

Run inside a venv that has transformers, torch (CPU), tokenizers, accelerate and onnx (test/trainer/venvs.mjs
makes them). For every case it writes, under OUT/<case>/:
  model/       tiny random-weight model exported to ONNX in a layout evalpred reads (README, "Command line"),
               with config.json, generation_config.json and the tokenizer files transformers saves
  data.jsonl   the evaluation rows
  case.json    the evalpred run flags that mean the same settings as the Trainer arguments used
  trainer.pkl  what the real Trainer handed compute_metrics (numpy trees) and what evaluate() returned
The comparison is test/trainer/compare.py; the driver is test/trainer/realTrainer.crosscheck.ts.
See docs/testing.md, "The real-Trainer cross-check".
"""
import json
import os
import pickle
import random
import shutil
import sys
import tempfile
import warnings

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
    DataCollatorForLanguageModeling, DataCollatorForSeq2Seq, DataCollatorForTokenClassification,
    DataCollatorWithPadding, EvalPrediction, GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast, RobertaConfig,
    RobertaForQuestionAnswering, RobertaForTokenClassification, Seq2SeqTrainer,
    Seq2SeqTrainingArguments, T5Config, T5ForConditionalGeneration, Trainer, TrainingArguments,
)

from probe_metrics import mapping_access  # noqa: E402  (beside this file: one check for both sides)

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()

WORDS = ("the a cat dog bird sat ran on under mat tree house red blue green small big quick slow fox "
         "jump jumped jumping play played playing walk walked walker river stone light dark").split()
# WordPiece pieces so that some words split into several tokens (first-sub-token labels, offsets).
PIECES = ["##s", "##ing", "##ed", "##er", "##ly", "un", "##known"]


def sentence(rng, lo, hi):
    n = rng.randint(lo, hi)
    out = []
    for _ in range(n):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.12:
            w += rng.choice(["s", "ing", "ed", "er"])
        elif r < 0.16:
            w = "zq" + w  # unknown word -> [UNK]
        out.append(w)
    return out


def wordpiece_tokenizer(kind):
    """A BERT-style (kind 'bert') or T5-style (kind 't5': pad 0, eos 1, '$A </s>') WordPiece tokenizer.json."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] if kind == "bert" else ["<pad>", "</s>", "<unk>"]
    tokens = specials + WORDS + PIECES + list("abcdefghijklmnopqrstuvwxyz") + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    vocab = {}
    for t in tokens + [".", ",", "?"]:
        vocab.setdefault(t, len(vocab))
    unk = "[UNK]" if kind == "bert" else "<unk>"
    tok = Tokenizer(models.WordPiece(vocab, unk_token=unk, max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    if kind == "bert":
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
        return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                       sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", vocab["</s>"])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>",
                                   model_max_length=128, model_input_names=["input_ids", "attention_mask"])


def bpe_tokenizer(corpus):
    """GPT-2 style byte-level BPE trained on the case's own text (deterministic)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tr = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"], show_progress=False,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, tr)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                 unk_token="<|endoftext|>", model_max_length=128,
                                 model_input_names=["input_ids", "attention_mask"])
    hf.pad_token = hf.eos_token  # what run_clm users do: GPT-2 has no pad token
    return hf


def tree(v):
    """EvalPrediction field -> plain numpy tree: ('tuple'|'list', [...]) / ndarray / None."""
    if v is None:
        return None
    if isinstance(v, tuple):
        return ("tuple", [tree(x) for x in v])
    if isinstance(v, list):
        return ("list", [tree(x) for x in v])
    if isinstance(v, torch.Tensor):
        v = v.cpu().numpy()
    return np.array(v, copy=True)


def export(model, wrapper_args, names_in, names_out, dyn, path):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, wrapper_args, path, input_names=names_in, output_names=names_out,
                          dynamic_axes=dyn, opset_version=14, dynamo=False)


class EncoderExport(torch.nn.Module):
    def __init__(self, m, outs):
        super().__init__()
        self.m, self.outs = m, outs

    def forward(self, input_ids, attention_mask, token_type_ids):
        o = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return tuple(o[k] for k in self.outs)


class CausalExport(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        # The causal + padding mask as a 4-D additive mask, built from shapes so it stays dynamic: transformers'
        # own mask builder uses vmap, which the TorchScript tracer cannot record. Same values as the model's.
        pos = torch.cumsum(torch.ones_like(input_ids[0]), 0)
        allowed = (pos[None, :] <= pos[:, None])[None, None] & attention_mask[:, None, None, :].bool()
        mask = torch.zeros_like(allowed, dtype=torch.float32).masked_fill(~allowed, torch.finfo(torch.float32).min)
        return self.m(input_ids=input_ids, attention_mask=mask, use_cache=False).logits


class T5Encoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m.get_encoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class T5Decoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, encoder_hidden_states, encoder_attention_mask):
        return self.m(encoder_outputs=(encoder_hidden_states,), attention_mask=encoder_attention_mask,
                      decoder_input_ids=input_ids, use_cache=False).logits


def bs(name):
    return {0: "batch", 1: name}


def save_model_files(model, tok, model_dir):
    model.config.save_pretrained(model_dir)
    if getattr(model, "generation_config", None) is not None and model.can_generate():
        model.generation_config.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)


def run_trainer(model, args, rows, collator, seq2seq=False, preprocess=None, gen_kwargs=None):
    saved = {}

    def compute_metrics(ep):
        saved["predictions"] = tree(ep.predictions)
        saved["label_ids"] = tree(ep.label_ids)
        saved["inputs"] = tree(getattr(ep, "inputs", None))
        saved["losses"] = tree(getattr(ep, "losses", None))
        saved["class"] = type(ep).__module__ + "." + type(ep).__name__
        saved["elements"] = len(list(iter(ep)))
        return {"probe": 1.0}

    calls = []

    def compute_metrics_per_batch(ep, compute_result):
        # batch_eval_metrics: one EvalPrediction per batch; inputs is the whole collated batch mapping: every key,
        # in the collator's order, with its values, and what a metric can do with it (item and attribute access)
        inputs = getattr(ep, "inputs", None)
        calls.append({"compute_result": bool(compute_result), "predictions": tree(ep.predictions), "label_ids": tree(ep.label_ids),
                      "losses": tree(getattr(ep, "losses", None)),
                      "inputs": None if inputs is None else ("mapping", [(k, tree(v)) for k, v in inputs.items()]),
                      "inputs_access": None if inputs is None else mapping_access(inputs)})
        saved["elements"] = len(list(iter(ep)))
        return {"calls": float(len(calls)), "last": 1.0 if compute_result else 0.0}

    if args.batch_eval_metrics:
        compute_metrics = compute_metrics_per_batch
        saved["calls"] = calls
        for k in ("predictions", "label_ids", "inputs", "losses"):
            saved[k] = None
    cls = Seq2SeqTrainer if seq2seq else Trainer
    trainer = cls(model=model, args=args, eval_dataset=rows, data_collator=collator, compute_metrics=compute_metrics,
                  preprocess_logits_for_metrics=preprocess)
    # Seq2SeqTrainer.evaluate(**gen_kwargs): further generate() arguments, as a user passes them
    metrics = trainer.evaluate(**(gen_kwargs or {}))
    saved["metrics"] = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    return saved


def argmax_preprocess(logits, labels):
    """run_clm.py's preprocess_logits_for_metrics, verbatim."""
    if isinstance(logits, tuple):
        # Depending on the model and config, logits may contain extra tensors,
        # like past_key_values, but logits always come first
        logits = logits[0]
    return logits.argmax(dim=-1)


def training_args(tmp, settings, seq2seq=False):
    kw = dict(output_dir=tmp, per_device_eval_batch_size=settings["batch_size"], report_to="none", use_cpu=True,
              disable_tqdm=True, seed=0, eval_do_concat_batches=not settings.get("no_concat", False),
              include_for_metrics=list(settings.get("include", [])),
              label_smoothing_factor=settings.get("label_smoothing", 0.0),
              dataloader_drop_last=settings.get("drop_last", False),
              batch_eval_metrics=settings.get("batch_eval_metrics", False))
    if settings.get("label_names"):
        kw["label_names"] = list(settings["label_names"])
    if seq2seq:
        kw.update(predict_with_generate=settings.get("generate", False),
                  generation_max_length=settings.get("generation_max_length"),
                  generation_num_beams=settings.get("num_beams"))
        return Seq2SeqTrainingArguments(**kw)
    return TrainingArguments(**kw)


def cli_flags(settings, extra):
    f = ["--batch-size", str(settings["batch_size"])]
    if settings.get("include"):
        f += ["--include-for-metrics", ",".join(settings["include"])]
    if settings.get("no_concat"):
        f += ["--no-concat"]
    if settings.get("label_smoothing"):
        f += ["--label-smoothing-factor", str(settings["label_smoothing"])]
    if settings.get("drop_last"):
        f += ["--dataloader-drop-last"]
    if settings.get("label_names"):
        f += ["--label-names", ",".join(settings["label_names"])]
    if settings.get("preprocess"):
        f += ["--preprocess", "argmax"]
    if settings.get("batch_eval_metrics"):
        f += ["--batch-eval-metrics"]
    if settings.get("generate"):
        f += ["--predict-with-generate"]
    if settings.get("generation_max_length"):
        f += ["--generation-max-length", str(settings["generation_max_length"])]
    if settings.get("num_beams"):
        f += ["--num-beams", str(settings["num_beams"])]
    gk = settings.get("gen_kwargs", {})
    if "num_return_sequences" in gk:
        f += ["--num-return-sequences", str(gk["num_return_sequences"])]
    if "repetition_penalty" in gk:
        f += ["--repetition-penalty", str(gk["repetition_penalty"])]
    if "no_repeat_ngram_size" in gk:
        f += ["--no-repeat-ngram-size", str(gk["no_repeat_ngram_size"])]
    if "bad_words_ids" in gk:
        f += ["--bad-words-ids", json.dumps(gk["bad_words_ids"])]
    return f + extra


# --------------------------------------------------------------------------------------------- the families

def bert_config(**kw):
    return BertConfig(vocab_size=140, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                      max_position_embeddings=128, attn_implementation="eager", **kw)


def case_sequence_classification(out, settings, rng):
    tok = wordpiece_tokenizer("bert")
    rows = [{"text": " ".join(sentence(rng, 2, 14)), "label": rng.randrange(3)} for _ in range(settings.get("n", 10))]
    model = BertForSequenceClassification(bert_config(num_labels=3, id2label={0: "neg", 1: "neu", 2: "pos"},
                                                      label2id={"neg": 0, "neu": 1, "pos": 2}))
    max_len = 16
    feats = []
    for r in rows:
        enc = tok(r["text"], truncation=True, max_length=max_len)
        feats.append({**enc, "labels": r["label"]})
    model_dir = os.path.join(out, "model")
    save_model_files(model, tok, model_dir)
    ex = torch.tensor([[2, 5, 6, 3], [2, 7, 3, 0]])
    export(EncoderExport(model, ["logits"]), (ex, (ex != 0).long(), torch.zeros_like(ex)),
           ["input_ids", "attention_mask", "token_type_ids"], ["logits"],
           {"input_ids": bs("s"), "attention_mask": bs("s"), "token_type_ids": bs("s"), "logits": {0: "batch"}},
           os.path.join(model_dir, "model.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        saved = run_trainer(model, training_args(tmp, settings), feats, DataCollatorWithPadding(tok),
                            preprocess=argmax_preprocess if settings.get("preprocess") else None)
    return rows, saved, ["--text-column", "text", "--label-column", "label", "--max-length", str(max_len)]


def case_token_classification(out, settings, rng):
    """run_ner.py on BERT (WordPiece) or RoBERTa (settings model="roberta": byte-level BPE with a prefix space per word)."""
    roberta = settings.get("model") == "roberta"
    rows = []
    for _ in range(settings.get("n", 10)):
        words = sentence(rng, 2, 10)
        rows.append({"tokens": words, "ner_tags": [rng.randrange(5) for _ in words]})
    tok = roberta_tokenizer([" ".join(r["tokens"]) for r in rows], add_prefix_space=True) if roberta else wordpiece_tokenizer("bert")
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    names = dict(num_labels=5, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = RobertaForTokenClassification(roberta_config(tok, **names)) if roberta else BertForTokenClassification(bert_config(**names))
    max_len = 14
    feats = []
    for r in rows:  # run_ner.py's tokenize_and_align_labels, label_all_tokens=False
        enc = tok(r["tokens"], truncation=True, max_length=max_len, is_split_into_words=True)
        prev, ids = None, []
        for w in enc.word_ids():
            ids.append(-100 if w is None or w == prev else r["ner_tags"][w])
            prev = w
        feats.append({**enc, "labels": ids})
    model_dir = os.path.join(out, "model")
    save_model_files(model, tok, model_dir)
    if roberta:
        ex = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]])
        export(MaskOnlyExport(model, ["logits"]), (ex, (ex != 1).long()), ["input_ids", "attention_mask"], ["logits"],
               {"input_ids": bs("s"), "attention_mask": bs("s"), "logits": {0: "batch", 1: "s"}},
               os.path.join(model_dir, "model.onnx"))
    else:
        ex = torch.tensor([[2, 5, 6, 3], [2, 7, 3, 0]])
        export(EncoderExport(model, ["logits"]), (ex, (ex != 0).long(), torch.zeros_like(ex)),
               ["input_ids", "attention_mask", "token_type_ids"], ["logits"],
               {"input_ids": bs("s"), "attention_mask": bs("s"), "token_type_ids": bs("s"), "logits": {0: "batch", 1: "s"}},
               os.path.join(model_dir, "model.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        saved = run_trainer(model, training_args(tmp, settings), feats, DataCollatorForTokenClassification(tok))
    return rows, saved, ["--text-column", "tokens", "--label-column", "ner_tags", "--max-length", str(max_len)]


def train_positions(input_ids, offsets, sequence_ids, answers, cls_token_id):
    """run_qa.py's prepare_train_features, the labels of one feature (pad_on_right): the CLS index when there is no
    answer or it is not wholly inside the feature, else the tokens holding its first and last characters."""
    cls_index = input_ids.index(cls_token_id)
    if len(answers["answer_start"]) == 0:
        return cls_index, cls_index
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    token_start_index = 0
    while sequence_ids[token_start_index] != 1:
        token_start_index += 1
    token_end_index = len(input_ids) - 1
    while sequence_ids[token_end_index] != 1:
        token_end_index -= 1
    if not (offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char):
        return cls_index, cls_index
    while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
        token_start_index += 1
    start = token_start_index - 1
    while offsets[token_end_index][1] >= end_char:
        token_end_index -= 1
    return start, token_end_index + 1


def save_qa_model(model, tok, out):
    """A BertForQuestionAnswering as evalpred reads it: config, tokenizer and model.onnx (start_logits, end_logits)."""
    model_dir = os.path.join(out, "model")
    save_model_files(model, tok, model_dir)
    ex = torch.tensor([[2, 5, 6, 3], [2, 7, 3, 0]])
    export(EncoderExport(model, ["start_logits", "end_logits"]), (ex, (ex != 0).long(), torch.zeros_like(ex)),
           ["input_ids", "attention_mask", "token_type_ids"], ["start_logits", "end_logits"],
           {"input_ids": bs("s"), "attention_mask": bs("s"), "token_type_ids": bs("s"),
            "start_logits": {0: "batch", 1: "s"}, "end_logits": {0: "batch", 1: "s"}},
           os.path.join(model_dir, "model.onnx"))


def spaced(rng, words, seps):
    """The words joined by separators drawn from seps (double spaces make space-only byte-level tokens)."""
    return words[0] + "".join(rng.choice(seps) + w for w in words[1:])


def case_question_answering(out, settings, rng):
    """The QA recipe without overflow (one feature per example): start/end token positions from the answer's
    character offset, (0, 0) when the answer was truncated away, as run_qa.py's prepare_train_features does. On
    BERT, or on RoBERTa (settings model="roberta") over contexts with double spaces: byte-level BPE offsets, whose
    space-only tokens tokenizers trims to an empty span at their end, decide the labels."""
    roberta = settings.get("model") == "roberta"
    rows = []
    for i in range(settings.get("n", 10)):
        ctx_words = sentence(rng, 6, 22)
        context = spaced(rng, ctx_words, [" ", " ", " ", "  "]) if roberta else " ".join(ctx_words)
        a0 = rng.randrange(len(ctx_words))
        a1 = min(len(ctx_words), a0 + rng.randint(1, 3))
        start = find_word(context, ctx_words, a0)
        end = find_word(context, ctx_words, a1 - 1) + len(ctx_words[a1 - 1])
        rows.append({"id": str(i), "question": " ".join(sentence(rng, 2, 5)) + " ?", "context": context,
                     "answers": {"text": [context[start:end]], "answer_start": [start]}})
    if roberta:
        tok = roberta_tokenizer([t for r in rows for t in (r["question"], r["context"])])
        model, max_len = roberta_qa_model(tok), 24
    else:
        tok = wordpiece_tokenizer("bert")
        model, max_len = BertForQuestionAnswering(bert_config()), 20
    feats = []
    for r in rows:
        enc = tok(r["question"], r["context"], truncation="only_second", max_length=max_len, return_offsets_mapping=True)
        offsets = enc.pop("offset_mapping")
        sp, ep = train_positions(enc["input_ids"], offsets, enc.sequence_ids(), r["answers"], tok.cls_token_id)
        feats.append({**enc, "start_positions": sp, "end_positions": ep})
    (save_roberta_qa_model if roberta else save_qa_model)(model, tok, out)
    with tempfile.TemporaryDirectory() as tmp:
        saved = run_trainer(model, training_args(tmp, settings), feats, DataCollatorWithPadding(tok))
    return rows, saved, ["--text-column", "question", "--text-pair-column", "context", "--label-column", "answers",
                         "--max-length", str(max_len)]


def roberta_tokenizer(corpus, add_prefix_space=False):
    """RoBERTa as published: byte-level BPE without a prefix space, <s> A </s></s> B </s>, trimmed offsets (with a
    prefix space: as run_ner.py needs it for pre-split words)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=360, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], show_progress=False,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, tr)
    # (sep, cls, trim_offsets, add_prefix_space): tokenizers 0.23 takes them by position only
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")), True,
                                                      add_prefix_space)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                                   unk_token="<unk>", pad_token="<pad>", model_max_length=128, add_prefix_space=add_prefix_space,
                                   model_input_names=["input_ids", "attention_mask"])


class MaskOnlyExport(torch.nn.Module):
    """An encoder whose tokenizer returns no token_type_ids (RoBERTa): input_ids and attention_mask only."""
    def __init__(self, m, outs):
        super().__init__()
        self.m, self.outs = m, outs

    def forward(self, input_ids, attention_mask):
        o = self.m(input_ids=input_ids, attention_mask=attention_mask)
        return tuple(o[k] for k in self.outs)


def roberta_config(tok, **kw):
    return RobertaConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                         max_position_embeddings=130, type_vocab_size=1, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, attn_implementation="eager", **kw)


def roberta_qa_model(tok):
    return RobertaForQuestionAnswering(roberta_config(tok))


def save_roberta_qa_model(model, tok, out):
    """A RobertaForQuestionAnswering as evalpred reads it: config, tokenizer and model.onnx without token_type_ids."""
    model_dir = os.path.join(out, "model")
    save_model_files(model, tok, model_dir)
    ex = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]])
    export(MaskOnlyExport(model, ["start_logits", "end_logits"]), (ex, (ex != 1).long()), ["input_ids", "attention_mask"], ["start_logits", "end_logits"],
           {"input_ids": bs("s"), "attention_mask": bs("s"), "start_logits": {0: "batch", 1: "s"}, "end_logits": {0: "batch", 1: "s"}},
           os.path.join(model_dir, "model.onnx"))


# ------------------------------------------------------------- run_qa.py with a doc stride (QuestionAnsweringTrainer)
# Transcribed from transformers' examples/pytorch/question-answering: run_qa.py (prepare_validation_features,
# prepare_train_features' labels, post_processing_function), trainer_qa.py (QuestionAnsweringTrainer.evaluate) and
# utils_qa.py (postprocess_qa_predictions). `datasets` is not installed here, so examples and features are lists of
# dicts and the columns Trainer's remove_unused_columns would drop (example_id, offset_mapping) are left out of the
# rows the Trainer sees, as that step does.

def postprocess_qa_predictions(examples, features, predictions, version_2_with_negative=False, n_best_size=20,
                               max_answer_length=30, null_score_diff_threshold=0.0):
    """utils_qa.postprocess_qa_predictions without the files and the logging (examples["id"] is the id list)."""
    import collections
    if len(predictions) != 2:
        raise ValueError("`predictions` should be a tuple with two elements (start_logits, end_logits).")
    all_start_logits, all_end_logits = predictions
    if len(predictions[0]) != len(features):
        raise ValueError(f"Got {len(predictions[0])} predictions and {len(features)} features.")
    example_id_to_index = {k: i for i, k in enumerate([e["id"] for e in examples])}
    features_per_example = collections.defaultdict(list)
    for i, feature in enumerate(features):
        features_per_example[example_id_to_index[feature["example_id"]]].append(i)
    all_predictions = collections.OrderedDict()
    for example_index, example in enumerate(examples):
        feature_indices = features_per_example[example_index]
        min_null_prediction = None
        prelim_predictions = []
        for feature_index in feature_indices:
            start_logits = all_start_logits[feature_index]
            end_logits = all_end_logits[feature_index]
            offset_mapping = features[feature_index]["offset_mapping"]
            feature_null_score = start_logits[0] + end_logits[0]
            if min_null_prediction is None or min_null_prediction["score"] > feature_null_score:
                min_null_prediction = {"offsets": (0, 0), "score": feature_null_score, "start_logit": start_logits[0],
                                       "end_logit": end_logits[0]}
            start_indexes = np.argsort(start_logits)[-1: -n_best_size - 1: -1].tolist()
            end_indexes = np.argsort(end_logits)[-1: -n_best_size - 1: -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if (start_index >= len(offset_mapping) or end_index >= len(offset_mapping)
                            or offset_mapping[start_index] is None or offset_mapping[end_index] is None):
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    prelim_predictions.append({
                        "offsets": (offset_mapping[start_index][0], offset_mapping[end_index][1]),
                        "score": start_logits[start_index] + end_logits[end_index],
                        "start_logit": start_logits[start_index], "end_logit": end_logits[end_index]})
        if version_2_with_negative:
            prelim_predictions.append(min_null_prediction)
            null_score = min_null_prediction["score"]
        predictions_ = sorted(prelim_predictions, key=lambda x: x["score"], reverse=True)[:n_best_size]
        if version_2_with_negative and not any(p["offsets"] == (0, 0) for p in predictions_):
            predictions_.append(min_null_prediction)
        context = example["context"]
        for pred in predictions_:
            offsets = pred.pop("offsets")
            pred["text"] = context[offsets[0]: offsets[1]]
        if len(predictions_) == 0 or (len(predictions_) == 1 and predictions_[0]["text"] == ""):
            predictions_.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
        if not version_2_with_negative:
            all_predictions[example["id"]] = predictions_[0]["text"]
        else:
            i = 0
            while predictions_[i]["text"] == "":
                i += 1
            best_non_null_pred = predictions_[i]
            score_diff = null_score - best_non_null_pred["start_logit"] - best_non_null_pred["end_logit"]
            all_predictions[example["id"]] = "" if score_diff > null_score_diff_threshold else best_non_null_pred["text"]
    return all_predictions


class QuestionAnsweringTrainer(Trainer):
    """trainer_qa.QuestionAnsweringTrainer.evaluate; `captured` keeps the loop's output (what evalpred caches)."""

    def __init__(self, *args, eval_examples=None, post_process_function=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.eval_examples = eval_examples
        self.post_process_function = post_process_function
        self.captured = None

    def evaluate(self, eval_dataset=None, eval_examples=None, ignore_keys=None, metric_key_prefix="eval"):
        import math
        import time
        from transformers.trainer_utils import speed_metrics
        eval_dataset = self.eval_dataset if eval_dataset is None else eval_dataset
        eval_dataloader = self.get_eval_dataloader(eval_dataset)
        eval_examples = self.eval_examples if eval_examples is None else eval_examples
        compute_metrics = self.compute_metrics
        self.compute_metrics = None
        start_time = time.time()
        try:
            output = self.evaluation_loop(eval_dataloader, description="Evaluation",
                                          prediction_loss_only=True if compute_metrics is None else None,
                                          ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
        finally:
            self.compute_metrics = compute_metrics
        self.captured = output
        total_batch_size = self.args.eval_batch_size * self.args.world_size
        output.metrics.update(speed_metrics(metric_key_prefix, start_time, num_samples=output.num_samples,
                                            num_steps=math.ceil(output.num_samples / total_batch_size)))
        if self.post_process_function is not None and self.compute_metrics is not None:
            eval_preds = self.post_process_function(eval_examples, eval_dataset, output.predictions)
            metrics = self.compute_metrics(eval_preds)
            for key in list(metrics.keys()):
                if not key.startswith(f"{metric_key_prefix}_"):
                    metrics[f"{metric_key_prefix}_{key}"] = metrics.pop(key)
            metrics.update(output.metrics)
        else:
            metrics = output.metrics
        return metrics


def find_word(context, words, k):
    """Where the k-th of the words joined into context (by runs of spaces) starts."""
    at = 0
    for j, w in enumerate(words):
        at = context.index(w, at)
        if j == k:
            return at
        at += len(w)


def overflowing_windows_0_22(tok, question, context, max_len, stride):
    """What `tok(question, context, truncation="only_second", max_length, stride, return_overflowing_tokens=True,
    return_offsets_mapping=True, padding="max_length")` returns with tokenizers 0.22 (Encoding::truncate: the context
    cut into windows of `budget` tokens, each starting budget - stride after the previous one, the last reaching the
    end; each window with the question and the [CLS]/[SEP] template). tokenizers 0.23.1+ stops tokenizing a
    truncated text early and returns fewer windows (huggingface/tokenizers#2091); evalpred follows 0.22
    (docs/trainer-semantics.md#question-answering-with-doc-stride), so the 5.x line gets its windows from here. The
    4.57 line (tokenizers 0.22) checks this transcription against the real tokenizer."""
    q = tok(question, add_special_tokens=False, return_offsets_mapping=True)
    c = tok(context, add_special_tokens=False, return_offsets_mapping=True)
    # BERT: [CLS] q [SEP] c [SEP]; RoBERTa: <s> q </s></s> c </s>
    specials = tok.num_special_tokens_to_add(pair=True)
    mid = specials - 2
    budget = max_len - len(q["input_ids"]) - specials
    n = len(c["input_ids"])
    ranges = []
    if n <= budget:
        ranges.append((0, n))
    else:
        for start in range(0, n, budget - stride):
            stop = min(start + budget, n)
            ranges.append((start, stop))
            if stop == n:
                break
    feats = []
    for a, b in ranges:
        ids = [tok.cls_token_id] + q["input_ids"] + [tok.sep_token_id] * mid + c["input_ids"][a:b] + [tok.sep_token_id]
        pad = max_len - len(ids)
        nq, nc = len(q["input_ids"]), b - a
        feats.append({
            "input_ids": ids + [tok.pad_token_id] * pad,
            "token_type_ids": [0] * (nq + 1 + mid) + [1] * (nc + 1) + [0] * pad,
            "attention_mask": [1] * len(ids) + [0] * pad,
            "offset_mapping": [(0, 0)] + [tuple(o) for o in q["offset_mapping"]] + [(0, 0)] * mid
            + [tuple(o) for o in c["offset_mapping"][a:b]] + [(0, 0)] * (1 + pad),
            "sequence_ids": [None] + [0] * nq + [None] * mid + [1] * nc + [None] * (1 + pad),
        })
    return feats


def case_qa_doc_stride(out, settings, rng):
    """run_qa.py's evaluation of BERT (or RoBERTa: settings model="roberta") on contexts longer than one window: validation features with a doc stride,
    QuestionAnsweringTrainer, postprocess_qa_predictions; with label_names the features also carry
    prepare_train_features' start/end positions (so the loop has labels and eval_loss)."""
    roberta = settings.get("model") == "roberta"
    max_len, stride = settings["max_length"], settings["doc_stride"]
    examples = []
    for i in range(settings.get("n", 6)):
        ctx_words = sentence(rng, 180, 300)
        # RoBERTa: mostly double spaces, space-only tokens whose offsets tokenizers trims (spans start there)
        context = spaced(rng, ctx_words, [" ", "  ", "  "]) if roberta else " ".join(ctx_words)
        if i == settings.get("n", 6) - 1:
            answers = {"text": [], "answer_start": []}  # no answer: (CLS, CLS) labels
        else:
            a0 = rng.randrange(len(ctx_words))
            a1 = min(len(ctx_words), a0 + rng.randint(1, 3))
            start = find_word(context, ctx_words, a0)
            end = find_word(context, ctx_words, a1 - 1) + len(ctx_words[a1 - 1])
            answers = {"text": [context[start:end]], "answer_start": [start]}
        examples.append({"id": "q%d" % i, "question": "  " + " ".join(sentence(rng, 2, 5)) + " ?", "context": context,
                         "answers": answers})
    tok = roberta_tokenizer([e["context"] for e in examples] + [e["question"] for e in examples]) if roberta else wordpiece_tokenizer("bert")
    # prepare_validation_features (pad_on_right: BERT pads on the right)
    questions = [e["question"].lstrip() for e in examples]
    tokenized = tok(questions, [e["context"] for e in examples], truncation="only_second", max_length=max_len,
                    stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True, padding="max_length")
    mine = []
    for k, e in enumerate(examples):
        for f in overflowing_windows_0_22(tok, questions[k], e["context"], max_len, stride):
            mine.append((k, f))
    # transformers 5's tokenizer class returns no token_type_ids here (the model then sees zeros, as evalpred feeds it)
    has_type_ids = "token_type_ids" in tokenized
    if not has_type_ids:
        for _, f in mine:
            f.pop("token_type_ids")
    real = [(tokenized["overflow_to_sample_mapping"][i],
             {"input_ids": tokenized["input_ids"][i],
              **({"token_type_ids": tokenized["token_type_ids"][i]} if has_type_ids else {}),
              "attention_mask": tokenized["attention_mask"][i],
              "offset_mapping": [tuple(o) for o in tokenized["offset_mapping"][i]],
              "sequence_ids": tokenized.sequence_ids(i)}) for i in range(len(tokenized["input_ids"]))]
    import tokenizers as _tk
    tk_version = tuple(int(x) for x in _tk.__version__.split(".")[:3])
    if tk_version < (0, 23, 1):
        assert real == mine, "the tokenizers 0.22 transcription disagrees with tokenizers %s" % _tk.__version__
        windows = real
    else:
        windows = mine  # huggingface/tokenizers#2091: the library's own windows are cut short
        assert len(real) < len(mine), "tokenizers %s gives every window again: revisit the docs" % _tk.__version__
    features, trainer_rows = [], []
    for sample_index, f in windows:
        e = examples[sample_index]
        feat = {"example_id": e["id"],
                "offset_mapping": [o if f["sequence_ids"][k] == 1 else None for k, o in enumerate(f["offset_mapping"])]}
        row = {k: f[k] for k in ("input_ids", "token_type_ids", "attention_mask") if k in f}
        if settings.get("label_names"):
            # prepare_train_features' labels on the same (padded) tokenization
            sp, ep = train_positions(f["input_ids"], f["offset_mapping"], f["sequence_ids"], e["answers"], tok.cls_token_id)
            row["start_positions"], row["end_positions"] = sp, ep
        features.append(feat)
        trainer_rows.append(row)
    assert len(features) >= 2 * len(examples), "contexts must span several windows"
    model = roberta_qa_model(tok) if roberta else BertForQuestionAnswering(bert_config())
    (save_roberta_qa_model if roberta else save_qa_model)(model, tok, out)
    saved = {}

    def post_processing_function(examples_, features_, predictions, stage="eval"):
        answers = postprocess_qa_predictions(examples_, features_, predictions)
        formatted = [{"id": str(k), "prediction_text": v} for k, v in answers.items()]
        references = [{"id": str(ex_["id"]), "answers": ex_["answers"]} for ex_ in examples_]
        return EvalPrediction(predictions=formatted, label_ids=references)

    def compute_metrics(ep):
        saved["qa_eval_pred"] = {"predictions": ep.predictions, "label_ids": ep.label_ids}
        saved["elements"] = len(list(iter(ep)))
        return {"probe": 1.0}

    from transformers import default_data_collator
    with tempfile.TemporaryDirectory() as tmp:
        trainer = QuestionAnsweringTrainer(model=model, args=training_args(tmp, settings), eval_dataset=trainer_rows,
                                           eval_examples=examples, data_collator=default_data_collator,
                                           compute_metrics=compute_metrics,
                                           # run_qa passes the eval dataset, whose example_id / offset_mapping columns
                                           # datasets restores after the loop: here they are the list `features`
                                           post_process_function=lambda ex_, _ds, preds: post_processing_function(ex_, features, preds))
        metrics = trainer.evaluate()
    output = trainer.captured
    saved.update({"predictions": tree(output.predictions), "label_ids": tree(output.label_ids), "inputs": None,
                  "losses": None, "class": "transformers.EvalPrediction",
                  "metrics": {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}})
    flags = ["--text-column", "question", "--text-pair-column", "context", "--label-column", "answers",
             "--max-length", str(max_len), "--doc-stride", str(stride)]
    return examples, saved, flags


def case_causal_lm(out, settings, rng):
    texts = [" ".join(sentence(rng, 2, 12)) for _ in range(settings.get("n", 10))]
    tok = bpe_tokenizer(texts + [" ".join(WORDS)])
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=16, n_layer=2, n_head=2,
                                       bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                                       attn_implementation="eager"))
    max_len = 20
    feats = [tok(t, truncation=True, max_length=max_len) for t in texts]
    model_dir = os.path.join(out, "model")
    save_model_files(model, tok, model_dir)
    ex = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    export(CausalExport(model), (ex, (ex != 0).long()), ["input_ids", "attention_mask"], ["logits"],
           {"input_ids": bs("s"), "attention_mask": bs("s"), "logits": {0: "batch", 1: "s"}},
           os.path.join(model_dir, "model.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        saved = run_trainer(model, training_args(tmp, settings), feats, DataCollatorForLanguageModeling(tok, mlm=False),
                            preprocess=argmax_preprocess if settings.get("preprocess") else None)
    return [{"text": t} for t in texts], saved, ["--text-column", "text", "--max-length", str(max_len), "--task", "causal-lm"]


def case_seq2seq(out, settings, rng):
    tok = wordpiece_tokenizer("t5")
    rows = []
    for _ in range(settings.get("n", 10)):
        src = sentence(rng, 2, 12)
        rows.append({"source": " ".join(src), "target": " ".join(reversed(src[: rng.randint(1, len(src))]))})
    cfg = T5Config(vocab_size=140, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_decoder_layers=2, num_heads=2,
                   pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, relative_attention_num_buckets=8,
                   attn_implementation="eager")
    model = T5ForConditionalGeneration(cfg)
    if settings.get("gen_config_max_length"):
        model.generation_config.max_length = settings["gen_config_max_length"]
    # generate() options in model.generation_config (saved as generation_config.json, read by evalpred from there)
    for k, v in settings.get("gen_config", {}).items():
        setattr(model.generation_config, k, v)
    if settings.get("eos_boost"):
        # random weights rarely pick eos; a larger eos row in the (tied) output layer makes hypotheses end at
        # different lengths, so beam search's fill after eos shows
        with torch.no_grad():
            model.lm_head.weight[1] *= settings["eos_boost"]
    max_len, max_target = 16, 10
    feats = []
    for r in rows:
        enc = tok(r["source"], truncation=True, max_length=max_len)
        enc["labels"] = tok(text_target=r["target"], truncation=True, max_length=max_target)["input_ids"]
        feats.append(enc)
    model_dir = os.path.join(out, "model")
    save_model_files(model, tok, model_dir)
    ex = torch.tensor([[5, 6, 7, 1], [9, 10, 1, 0]])
    am = (ex != 0).long()
    export(T5Encoder(model), (ex, am), ["input_ids", "attention_mask"], ["last_hidden_state"],
           {"input_ids": bs("s"), "attention_mask": bs("s"), "last_hidden_state": {0: "batch", 1: "s"}},
           os.path.join(model_dir, "encoder_model.onnx"))
    with torch.no_grad():
        hidden = model.get_encoder()(input_ids=ex, attention_mask=am).last_hidden_state
    dec = torch.tensor([[0, 5, 6], [0, 7, 8]])
    export(T5Decoder(model), (dec, hidden, am), ["input_ids", "encoder_hidden_states", "encoder_attention_mask"], ["logits"],
           {"input_ids": bs("t"), "encoder_hidden_states": bs("s"), "encoder_attention_mask": bs("s"),
            "logits": {0: "batch", 1: "t"}},
           os.path.join(model_dir, "decoder_model.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        saved = run_trainer(model, training_args(tmp, settings, seq2seq=True), feats,
                            DataCollatorForSeq2Seq(tok, model=model, label_pad_token_id=-100), seq2seq=True,
                            preprocess=argmax_preprocess if settings.get("preprocess") else None,
                            gen_kwargs=settings.get("gen_kwargs"))
    return rows, saved, ["--text-column", "source", "--label-column", "target", "--max-length", str(max_len),
                         "--max-target-length", str(max_target), "--task", "seq2seq-lm"]


FAMILIES = {
    "seqcls": case_sequence_classification,
    "tokcls": case_token_classification,
    "qa": case_question_answering,
    "qa-doc-stride": case_qa_doc_stride,
    "clm": case_causal_lm,
    "t5": case_seq2seq,
}

# Each case: a family and the Trainer settings (batch sizes chosen so that batches pad to different widths).
CASES = {
    "seqcls-inputs-loss": ("seqcls", dict(batch_size=4, include=["inputs", "loss"])),
    "seqcls-no-concat": ("seqcls", dict(batch_size=3, no_concat=True, include=["inputs"])),
    "seqcls-drop-last-smoothing": ("seqcls", dict(batch_size=4, drop_last=True, label_smoothing=0.1, include=["loss"])),
    "seqcls-argmax": ("seqcls", dict(batch_size=4, preprocess=True)),
    "tokcls-inputs": ("tokcls", dict(batch_size=3, include=["inputs"])),
    "tokcls-smoothing": ("tokcls", dict(batch_size=4, label_smoothing=0.2, include=["loss"])),
    "tokcls-roberta": ("tokcls", dict(batch_size=3, include=["inputs", "loss"], model="roberta")),
    "qa": ("qa", dict(batch_size=4, include=["inputs", "loss"])),
    "qa-label-names": ("qa", dict(batch_size=4, label_names=["end_positions", "start_positions"], include=["loss"])),
    "qa-roberta": ("qa", dict(batch_size=4, include=["inputs", "loss"], model="roberta")),
    "qa-doc-stride-roberta": ("qa-doc-stride", dict(batch_size=4, max_length=64, doc_stride=16, model="roberta", n=10)),
    "qa-doc-stride": ("qa-doc-stride", dict(batch_size=4, max_length=128, doc_stride=32)),
    "qa-doc-stride-labels": ("qa-doc-stride", dict(batch_size=3, max_length=128, doc_stride=24,
                                                   label_names=["start_positions", "end_positions"])),
    "clm-argmax": ("clm", dict(batch_size=4, preprocess=True, include=["inputs", "loss"])),
    "clm-argmax-smoothing": ("clm", dict(batch_size=3, preprocess=True, label_smoothing=0.1)),
    "t5-teacher-forcing": ("t5", dict(batch_size=4, include=["loss"])),
    "t5-teacher-forcing-argmax": ("t5", dict(batch_size=3, preprocess=True)),
    "t5-generate": ("t5", dict(batch_size=4, generate=True, include=["inputs", "loss"])),
    "t5-generate-wide": ("t5", dict(batch_size=4, generate=True, generation_max_length=14, gen_config_max_length=8)),
    "t5-beam": ("t5", dict(batch_size=3, generate=True, num_beams=3, generation_max_length=9)),
    "t5-generate-no-concat": ("t5", dict(batch_size=4, generate=True, no_concat=True, generation_max_length=7)),
    "seqcls-batch-eval": ("seqcls", dict(batch_size=4, batch_eval_metrics=True, include=["inputs", "loss"])),
    "t5-generate-batch-eval": ("t5", dict(batch_size=4, generate=True, batch_eval_metrics=True, include=["inputs", "loss"])),
    # the batch mapping of the other collators: DataCollatorForTokenClassification, DataCollatorWithPadding over QA
    # features (start/end positions), DataCollatorForLanguageModeling
    "tokcls-batch-eval": ("tokcls", dict(batch_size=3, batch_eval_metrics=True, include=["inputs", "loss"])),
    "qa-batch-eval": ("qa", dict(batch_size=4, batch_eval_metrics=True, include=["inputs", "loss"])),
    "clm-batch-eval": ("clm", dict(batch_size=3, preprocess=True, batch_eval_metrics=True, include=["inputs", "loss"])),
    # issue 16 item 5: generate() options as evaluate(**gen_kwargs) and in generation_config.json
    "t5-beam-return-sequences": ("t5", dict(batch_size=3, generate=True, num_beams=3, generation_max_length=9, eos_boost=4.0,
                                            gen_kwargs=dict(num_return_sequences=2, repetition_penalty=1.3))),
    "t5-gen-options": ("t5", dict(batch_size=4, generate=True, generation_max_length=10, eos_boost=3.0,
                                  gen_kwargs=dict(no_repeat_ngram_size=2, bad_words_ids=[[5], [7, 8]]),
                                  gen_config=dict(repetition_penalty=1.5))),
    # [0, 122]: the decoder start token then the token most rows begin with: 5.x bans it at the first step, 4.57
    # only once the sequence is as long as the bad word (docs/trainer-semantics.md#generation-options)
    "t5-beam-gen-config": ("t5", dict(batch_size=4, generate=True, generation_max_length=8, eos_boost=4.0,
                                      gen_config=dict(num_beams=4, num_return_sequences=3, no_repeat_ngram_size=3,
                                                      bad_words_ids=[[0, 122], [9]], length_penalty=0.8))),
}


def main():
    out_root = sys.argv[1]
    only = set(sys.argv[2:])
    os.makedirs(out_root, exist_ok=True)
    versions = {"transformers": transformers.__version__, "torch": torch.__version__,
                "tokenizers": __import__("tokenizers").__version__, "accelerate": __import__("accelerate").__version__,
                "onnx": __import__("onnx").__version__, "numpy": np.__version__, "python": sys.version.split()[0]}
    with open(os.path.join(out_root, "versions.json"), "w") as f:
        json.dump(versions, f)
    for name, (family, settings) in CASES.items():
        if only and name not in only:
            continue
        out = os.path.join(out_root, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(os.path.join(out, "model"))
        seed = sum(map(ord, name))
        rng = random.Random(seed)
        torch.manual_seed(seed)
        rows, saved, extra = FAMILIES[family](out, settings, rng)
        with open(os.path.join(out, "data.jsonl"), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        with open(os.path.join(out, "trainer.pkl"), "wb") as f:
            pickle.dump(saved, f)
        with open(os.path.join(out, "case.json"), "w") as f:
            json.dump({"name": name, "family": family, "settings": settings, "flags": cli_flags(settings, extra)}, f)
        print("built", name, flush=True)


if __name__ == "__main__":
    main()
