"""`load_tokenizer(model_dir)`: decode ids in a metric without transformers installed.

    from evalpred import load_tokenizer
    tokenizer = load_tokenizer("path/to/model")        # the folder with tokenizer.json
    tokenizer.batch_decode(preds, skip_special_tokens=True)

It reads the same tokenizer.json (+ tokenizer_config.json, special_tokens_map.json) as transformers' fast
tokenizers and decodes as they do: ids -> tokens (added tokens first, special ones skipped on request) ->
the tokenizer.json decoder chain -> transformers' clean_up_tokenization when asked. When the `tokenizers`
package is importable its own decoder is used; otherwise a transcription of its decoders
(WordPiece, ByteLevel, Metaspace, BPEDecoder, Replace, ByteFallback, Fuse, Strip, Sequence).
Ids below zero (Trainer's -100 padding) raise the error transformers users know, with the fix.
"""
import json
import os
import re

_SPECIAL_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class TokenizerError(Exception):
    pass


def _read_json(path, required):
    if not os.path.exists(path):
        if required:
            raise TokenizerError("%s does not exist: load_tokenizer needs the model folder's tokenizer.json (saved by a "
                                 "fast tokenizer's save_pretrained)" % path)
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as e:
        raise TokenizerError("%s is not valid JSON: %s" % (path, e)) from None


def _content(v):
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and isinstance(v.get("content"), str):
        return v["content"]
    return None


def _bytes_to_unicode():
    """GPT-2's byte -> printable character table (the alphabet of byte-level vocabularies)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


_CHAR_TO_BYTE = _bytes_to_unicode()
_BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def clean_up_tokenization(text):
    """transformers' PreTrainedTokenizerBase.clean_up_tokenization."""
    return (text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
            .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re"))


def _wordpiece_cleanup(t):
    # tokenizers' decoders::wordpiece::cleanup (one more rule than transformers' function: " do not").
    return (t.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
            .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
            .replace(" 've", "'ve").replace(" 're", "'re"))


def _decode_chain(decoder, tokens):
    """One decoder of tokenizer.json applied to a list of token strings (tokenizers' decode_chain)."""
    kind = decoder.get("type")
    if kind == "Sequence":
        for d in decoder.get("decoders", []):
            tokens = _decode_chain(d, tokens)
        return tokens
    if kind == "WordPiece":
        prefix, cleanup = decoder.get("prefix", "##"), decoder.get("cleanup", True)
        out = []
        for i, t in enumerate(tokens):
            if i != 0:
                t = t[len(prefix):] if t.startswith(prefix) else " " + t
            out.append(_wordpiece_cleanup(t) if cleanup else t)
        return out
    if kind == "ByteLevel":
        data = bytearray()
        for t in tokens:
            for ch in t:
                b = _CHAR_TO_BYTE.get(ch)
                if b is None:
                    data.extend(ch.encode("utf-8"))
                else:
                    data.append(b)
        return [data.decode("utf-8", errors="replace")]
    if kind == "Metaspace":
        replacement = decoder.get("replacement", "\u2581")
        scheme = decoder.get("prepend_scheme")
        prepend = scheme != "never" if scheme is not None else decoder.get("add_prefix_space", True)
        out = []
        for i, t in enumerate(tokens):
            t = t.replace(replacement, " ")
            if i == 0 and prepend and t.startswith(" "):
                t = t[1:]
            out.append(t)
        return out
    if kind == "BPEDecoder":
        suffix = decoder.get("suffix", "</w>")
        return [t.replace(suffix, "" if i == len(tokens) - 1 else " ") for i, t in enumerate(tokens)]
    if kind == "Replace":
        pattern, content = decoder.get("pattern", {}), decoder.get("content", "")
        if "String" in pattern:
            return [t.replace(pattern["String"], content) for t in tokens]
        rx = re.compile(pattern.get("Regex", ""))
        return [rx.sub(content.replace("\\", "\\\\"), t) for t in tokens]
    if kind == "ByteFallback":
        out, pending = [], bytearray()

        def flush():
            if pending:
                try:
                    out.append(pending.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" for _ in pending)
                pending.clear()

        for t in tokens:
            m = _BYTE_TOKEN.match(t)
            if m:
                pending.append(int(m.group(1), 16))
            else:
                flush()
                out.append(t)
        flush()
        return out
    if kind == "Fuse":
        return ["".join(tokens)]
    if kind == "Strip":
        content, start, stop = decoder.get("content", " "), decoder.get("start", 0), decoder.get("stop", 0)
        out = []
        for t in tokens:
            s, e = 0, len(t)
            while s < min(start, len(t)) and t[s] == content:
                s += 1
            k = 0
            while k < stop and e > s and t[e - 1] == content:
                e -= 1
                k += 1
            out.append(t[s:e])
        return out
    if kind == "CTC":
        pad, prefix, cleanup = decoder.get("pad_token", "<pad>"), decoder.get("word_delimiter_token", "|"), decoder.get("cleanup", True)
        dedup = [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1]]
        out = []
        for t in dedup:
            if t == pad:
                continue
            t = t.replace(prefix, " ")
            out.append(_wordpiece_cleanup(t) if cleanup else t)
        return out
    raise TokenizerError("tokenizer.json decoder type %r is not supported without the tokenizers package "
                         "(pip install tokenizers)" % kind)


def _to_int_list(ids):
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, int):
        return [ids]
    return [int(i) for i in ids]


class Tokenizer:
    """The decoding half of a transformers fast tokenizer, from a model folder's tokenizer.json."""

    def __init__(self, model_dir):
        self.name_or_path = model_dir
        path = os.path.join(model_dir, "tokenizer.json")
        tj = _read_json(path, True)
        config = _read_json(os.path.join(model_dir, "tokenizer_config.json"), False)
        stmap = _read_json(os.path.join(model_dir, "special_tokens_map.json"), False)
        model = tj.get("model")
        if not isinstance(model, dict):
            raise TokenizerError('%s has no "model" section: it is not a tokenizers tokenizer.json' % path)
        vocab = model.get("vocab", {})
        if isinstance(vocab, list):  # Unigram: [[piece, score], ...]
            self._id_to_token = {i: p[0] for i, p in enumerate(vocab)}
        else:
            self._id_to_token = {int(i): t for t, i in vocab.items()}
        self._added = {}
        self._special_ids = set()
        for t in tj.get("added_tokens") or []:
            self._added[int(t["id"])] = t["content"]
            if t.get("special"):
                self._special_ids.add(int(t["id"]))
        self._token_to_id = {t: i for i, t in self._id_to_token.items()}
        self._token_to_id.update({t: i for i, t in self._added.items()})
        for name in _SPECIAL_NAMES:
            tok = _content(config.get(name)) or _content(stmap.get(name))
            setattr(self, name, tok)
            setattr(self, name + "_id", self._token_to_id.get(tok) if tok is not None else None)
            if tok is not None and tok in self._token_to_id:
                self._special_ids.add(self._token_to_id[tok])
        for tok in (config.get("additional_special_tokens") or stmap.get("additional_special_tokens") or []):
            c = _content(tok)
            if c in self._token_to_id:
                self._special_ids.add(self._token_to_id[c])
        # transformers >= 4.45 defaults to False when tokenizer_config.json does not say.
        self.clean_up_tokenization_spaces = bool(config.get("clean_up_tokenization_spaces", False))
        self.all_special_ids = sorted(self._special_ids)
        self.vocab_size = len(self._id_to_token)
        self._decoder = tj.get("decoder")
        self._fast = None
        try:
            from tokenizers import Tokenizer as _HF  # the real thing, when installed

            self._fast = _HF.from_file(path)
        except Exception:  # noqa: BLE001 - not installed, or a version that cannot read this file
            self._fast = None

    def __len__(self):
        return len(set(self._id_to_token) | set(self._added))

    def _check(self, ids):
        for i in ids:
            if i < 0:
                raise ValueError(
                    "cannot decode id %d: %s are Trainer's padding, not token ids. Replace them first, e.g. "
                    "labels = np.where(labels != -100, labels, tokenizer.pad_token_id)" % (i, "-100s" if i == -100 else "negative ids"))
            if i not in self._added and i not in self._id_to_token:
                raise ValueError("cannot decode id %d: the tokenizer's vocabulary has ids 0..%d" % (i, len(self) - 1))

    def convert_ids_to_tokens(self, ids, skip_special_tokens=False):
        single = isinstance(ids, int) or (hasattr(ids, "ndim") and getattr(ids, "ndim") == 0)
        lst = _to_int_list(ids)
        self._check(lst)
        toks = [self._added.get(i, self._id_to_token.get(i)) for i in lst
                if not (skip_special_tokens and i in self._special_ids)]
        return toks[0] if single and toks else toks

    def convert_tokens_to_ids(self, tokens):
        if isinstance(tokens, str):
            return self._token_to_id.get(tokens, self.unk_token_id)
        return [self._token_to_id.get(t, self.unk_token_id) for t in tokens]

    def decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None, **kwargs):
        ids = _to_int_list(token_ids)
        self._check(ids)
        if self._fast is not None:
            text = self._fast.decode(ids, skip_special_tokens=skip_special_tokens)
        else:
            tokens = self.convert_ids_to_tokens(ids, skip_special_tokens=skip_special_tokens)
            text = "".join(_decode_chain(self._decoder, tokens)) if self._decoder else " ".join(tokens)
        clean = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean else text

    def batch_decode(self, sequences, skip_special_tokens=False, clean_up_tokenization_spaces=None, **kwargs):
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens=skip_special_tokens,
                            clean_up_tokenization_spaces=clean_up_tokenization_spaces) for s in sequences]

    def __repr__(self):
        return "evalpred.Tokenizer(%r, vocab_size=%d, decoder=%s)" % (
            self.name_or_path, self.vocab_size, (self._decoder or {}).get("type"))


def load_tokenizer(model_dir):
    """The model folder's tokenizer, decoding as transformers' fast tokenizer does (see the module doc)."""
    return Tokenizer(model_dir)
