# An independent reference for generate()'s logits processors, greedy search and beam search: a NumPy
# transcription of the transformers code paths evalpred reproduces (generation/logits_process.py and
# GenerationMixin._sample / _beam_search of transformers 4.57 and 5.x; torch ops written as their NumPy
# equivalents, float32 kept where torch keeps it). It is fed the model outputs evalpred saw: a table from each
# sequence evalpred ran the model on to the last position's logits, so the search here asks "the model" for a
# sequence and fails if evalpred never ran it (the searches diverged).
#
#   python generation_reference.py JOB.json     (prints JSON)
#   JOB = {"cases": [case, ...]}, case = {"op": "processors" | "generate", "config": {...transformers names...}, ...}
#   processors: {"input_ids": [[...]], "scores": [[...]]}            -> processed scores (non-finite as strings)
#   generate:   {"prompts": [[...]], "model": [[seq, logits], ...]}   -> generated rows, as generate() returns them
import json
import math
import sys

import numpy as np

F32 = np.float32
np.seterr(all="ignore")  # inf - inf in the -inf biases is NaN in torch too, silently
NEG_INF = -math.inf


# ------------------------------------------------------------------------------------------ logits processors

class RepetitionPenaltyLogitsProcessor:
    def __init__(self, penalty):
        if not isinstance(penalty, float) or not (penalty > 0):
            raise ValueError(f"`penalty` has to be a strictly positive float, but is {penalty}")
        self.penalty = penalty

    def __call__(self, input_ids, scores):
        score = np.take_along_axis(scores, input_ids, 1)
        # torch: a float32 tensor times / over a Python float computes in float32
        score = np.where(score < 0, score * F32(self.penalty), score / F32(self.penalty)).astype(F32)
        scores_processed = scores.copy()
        np.put_along_axis(scores_processed, input_ids, score, 1)
        return scores_processed


def _get_ngrams(ngram_size, prev_input_ids, num_hypos):
    generated_ngrams = [{} for _ in range(num_hypos)]
    for idx in range(num_hypos):
        gen_tokens = prev_input_ids[idx].tolist()
        generated_ngram = generated_ngrams[idx]
        for ngram in zip(*[gen_tokens[i:] for i in range(ngram_size)]):
            prev_ngram_tuple = tuple(ngram[:-1])
            generated_ngram[prev_ngram_tuple] = generated_ngram.get(prev_ngram_tuple, []) + [ngram[-1]]
    return generated_ngrams


def _get_generated_ngrams(banned_ngrams, prev_input_ids, ngram_size, cur_len):
    start_idx = cur_len + 1 - ngram_size
    ngram_idx = tuple(prev_input_ids[start_idx:cur_len].tolist())
    return banned_ngrams.get(ngram_idx, [])


def _calc_banned_ngram_tokens(ngram_size, prev_input_ids, num_hypos, cur_len):
    if cur_len + 1 < ngram_size:
        return [[] for _ in range(num_hypos)]
    generated_ngrams = _get_ngrams(ngram_size, prev_input_ids, num_hypos)
    return [_get_generated_ngrams(generated_ngrams[h], prev_input_ids[h], ngram_size, cur_len) for h in range(num_hypos)]


class NoRepeatNGramLogitsProcessor:
    def __init__(self, ngram_size):
        self.ngram_size = ngram_size

    def __call__(self, input_ids, scores):
        num_batch_hypotheses = scores.shape[0]
        cur_len = input_ids.shape[-1]
        scores_processed = scores.copy()
        banned_batch_tokens = _calc_banned_ngram_tokens(self.ngram_size, input_ids, num_batch_hypotheses, cur_len)
        for i, banned_tokens in enumerate(banned_batch_tokens):
            scores_processed[i, banned_tokens] = NEG_INF
        return scores_processed


class SequenceBiasLogitsProcessor:
    def __init__(self, sequence_bias, line):
        if not sequence_bias:
            raise ValueError(f"`sequence_bias` has to be a non-empty dictionary, or non-empty list of lists but is {sequence_bias}.")
        self.sequence_bias = sequence_bias
        self.line = line
        self.length_1_bias = None

    def __call__(self, input_ids, scores):
        if self.length_1_bias is None:
            self._prepare_bias_variables(scores)
        bias = np.zeros_like(scores)
        bias += self.length_1_bias
        for sequence_ids, sequence_bias in self.sequence_bias.items():
            if len(sequence_ids) == 1:
                continue
            prefix_length = len(sequence_ids) - 1
            # 4.57: the whole sequence must fit in the context; 5.x: only its prefix
            too_long = len(sequence_ids) > input_ids.shape[1] if self.line == "4.57" else prefix_length > input_ids.shape[1]
            if too_long:
                continue
            last_token = sequence_ids[-1]
            matching_rows = np.all(input_ids[:, -prefix_length:] == np.array(sequence_ids[:-1]), axis=1)
            bias[:, last_token] += np.where(matching_rows, F32(sequence_bias), F32(0.0))
        return (scores + bias).astype(F32)

    def _prepare_bias_variables(self, scores):
        vocabulary_size = scores.shape[-1]
        invalid = [t for seq in self.sequence_bias for t in seq if t >= vocabulary_size]
        if invalid:
            raise ValueError(f"The model vocabulary size is {vocabulary_size}, but the following tokens were being biased: {invalid}")
        self.length_1_bias = np.zeros((vocabulary_size,), dtype=F32)
        for sequence_ids, bias in self.sequence_bias.items():
            if len(sequence_ids) == 1:
                self.length_1_bias[sequence_ids[0]] = bias


class NoBadWordsLogitsProcessor(SequenceBiasLogitsProcessor):
    def __init__(self, bad_words_ids, eos_token_id, line):
        if eos_token_id is not None:
            bad_words_ids = list(filter(lambda seq: all(seq != [i] for i in eos_token_id), bad_words_ids))
        super().__init__({tuple(sequence): float("-inf") for sequence in bad_words_ids}, line)


def _eos_mask(scores, eos):
    return np.isin(np.arange(scores.shape[-1]), eos)


class MinLengthLogitsProcessor:
    def __init__(self, min_length, eos):
        self.min_length, self.eos = min_length, eos

    def __call__(self, input_ids, scores):
        if input_ids.shape[-1] < self.min_length:
            return np.where(_eos_mask(scores, self.eos), F32(NEG_INF), scores).astype(F32)
        return scores.copy()


class MinNewTokensLengthLogitsProcessor:
    def __init__(self, prompt_length_to_skip, min_new_tokens, eos):
        self.skip, self.min_new_tokens, self.eos = prompt_length_to_skip, min_new_tokens, eos

    def __call__(self, input_ids, scores):
        if input_ids.shape[-1] - self.skip < self.min_new_tokens:
            return np.where(_eos_mask(scores, self.eos), F32(NEG_INF), scores).astype(F32)
        return scores.copy()


class ForcedBOSTokenLogitsProcessor:
    def __init__(self, bos):
        self.bos = bos

    def __call__(self, input_ids, scores):
        if input_ids.shape[-1] == 1:
            scores = np.full_like(scores, NEG_INF)
            scores[:, self.bos] = 0
        return scores


class ForcedEOSTokenLogitsProcessor:
    def __init__(self, max_length, eos):
        self.max_length, self.eos = max_length, eos

    def __call__(self, input_ids, scores):
        if input_ids.shape[-1] == self.max_length - 1:
            scores = np.full_like(scores, NEG_INF)
            scores[:, self.eos] = 0
        return scores


def get_logits_processor(c):
    """GenerationMixin._get_logits_processor, for the options evalpred applies (same order)."""
    eos = c.get("eos_token_id") or None
    line = c.get("line", "5")
    procs = []
    if c.get("repetition_penalty") is not None and c["repetition_penalty"] != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(float(c["repetition_penalty"])))
    if c.get("no_repeat_ngram_size") is not None and c["no_repeat_ngram_size"] > 0:
        procs.append(NoRepeatNGramLogitsProcessor(c["no_repeat_ngram_size"]))
    if c.get("bad_words_ids") is not None:
        procs.append(NoBadWordsLogitsProcessor(c["bad_words_ids"], eos, line))
    if c.get("min_length") and eos is not None:
        procs.append(MinLengthLogitsProcessor(c["min_length"], eos))
    if c.get("min_new_tokens") and eos is not None:
        procs.append(MinNewTokensLengthLogitsProcessor(c["prompt_length"], c["min_new_tokens"], eos))
    if c.get("forced_bos_token_id") is not None:
        procs.append(ForcedBOSTokenLogitsProcessor(c["forced_bos_token_id"]))
    if c.get("forced_eos_token_id") is not None:
        procs.append(ForcedEOSTokenLogitsProcessor(c["max_length"], c["forced_eos_token_id"]))

    def run(input_ids, scores):
        for p in procs:
            scores = p(input_ids, scores)
        return scores

    return run


# ------------------------------------------------------------------------------------------------- searches

class Model:
    """The logits evalpred's model gave for each sequence it ran (the last position's, float32)."""

    def __init__(self, table):
        self.table = {tuple(seq): np.array(logits, dtype=F32) for seq, logits in table}

    def __call__(self, input_ids):
        rows = []
        for r in input_ids.tolist():
            if tuple(r) not in self.table:
                raise KeyError(f"evalpred never ran the model on {r}: the searches diverged before this step")
            rows.append(self.table[tuple(r)])
        return np.stack(rows)


def stopping(c, input_ids):
    """MaxLengthCriteria | EosTokenCriteria, per row."""
    done = np.full(input_ids.shape[0], input_ids.shape[-1] >= c["max_length"])
    if c.get("eos_token_id"):
        done = done | np.isin(input_ids[:, -1], c["eos_token_id"])
    return done


def greedy(c, prompts, model):
    """GenerationMixin._sample with do_sample=False."""
    procs = get_logits_processor(c)
    input_ids = np.array(prompts, dtype=np.int64)
    pad = c.get("pad_token_id")
    if pad is None and c.get("eos_token_id"):
        pad = c["eos_token_id"][0]
    has_eos = bool(c.get("eos_token_id"))
    unfinished = np.ones(input_ids.shape[0], dtype=np.int64)
    while True:
        next_token_logits = model(input_ids)
        next_token_scores = procs(input_ids, next_token_logits)
        next_tokens = np.argmax(next_token_scores, axis=-1)
        if has_eos:
            next_tokens = next_tokens * unfinished + pad * (1 - unfinished)
        input_ids = np.concatenate([input_ids, next_tokens[:, None]], axis=1)
        unfinished = unfinished & ~stopping(c, input_ids)
        if unfinished.max() == 0:
            break
    return input_ids.tolist()


def log_softmax(x):
    x64 = x.astype(np.float64)
    m = x64.max(-1, keepdims=True)
    return (x64 - (m + np.log(np.exp(x64 - m).sum(-1, keepdims=True)))).astype(F32)


def topk(x, k):
    """torch.topk along the last axis, largest first; ties keep the lower index first."""
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


def gather_beams(t, idx):
    return np.take_along_axis(t, idx.reshape(idx.shape + (1,) * (t.ndim - 2)), 1)


def beam_search(c, prompts, model):
    """GenerationMixin._beam_search (4.57 / 5.x) with do_sample=False, after the inputs were expanded to num_beams rows."""
    procs = get_logits_processor(c)
    num_beams, max_length, lp, early_stopping = c["num_beams"], c["max_length"], c.get("length_penalty", 1.0), c.get("early_stopping", False)
    num_return_sequences = c.get("num_return_sequences", 1)
    eos, pad = c.get("eos_token_id") or None, c.get("pad_token_id")
    if pad is None and eos:
        pad = eos[0]
    batch_size, cur_len = len(prompts), len(prompts[0])
    decoder_prompt_len = cur_len
    n_eos = len(eos) if eos is not None else 0
    beams_to_keep = max(2, 1 + n_eos) * num_beams
    top_num_beam_mask = np.concatenate([np.ones(num_beams, bool), np.zeros(beams_to_keep - num_beams, bool)])
    output_fill_value = (pad or eos[0]) if eos is not None else -1
    running_sequences = np.full((batch_size, num_beams, max_length), output_fill_value, dtype=np.int64)
    running_sequences[:, :, :cur_len] = np.array(prompts, dtype=np.int64)[:, None, :]
    sequences = running_sequences.copy()
    running_beam_scores = np.zeros((batch_size, num_beams), dtype=F32)
    running_beam_scores[:, 1:] = -1e9
    beam_scores = np.full((batch_size, num_beams), -1e9, dtype=F32)
    is_sent_finished = np.zeros((batch_size, num_beams), bool)
    is_early_stop_heuristic_unsatisfied = np.ones((batch_size, 1), bool)
    running_beam_indices = np.full((batch_size, num_beams, max_length - cur_len), -1, dtype=np.int32)
    beam_indices = running_beam_indices.copy()
    while True:
        flat_running_sequences = running_sequences[:, :, :cur_len].reshape(batch_size * num_beams, cur_len)
        logits = model(flat_running_sequences)
        log_probs = log_softmax(logits)
        log_probs = procs(flat_running_sequences, log_probs)
        vocab_size = log_probs.shape[-1]
        log_probs = (log_probs.reshape(batch_size, num_beams, vocab_size) + running_beam_scores[:, :, None]).astype(F32)
        log_probs = log_probs.reshape(batch_size, num_beams * vocab_size)
        # _get_top_k_continuations
        topk_log_probs, topk_indices = topk(log_probs, beams_to_keep)
        topk_current_beam_indices = topk_indices // vocab_size
        topk_running_beam_indices = gather_beams(running_beam_indices, topk_current_beam_indices)
        topk_running_sequences = gather_beams(running_sequences, topk_current_beam_indices)
        topk_ids = topk_indices % vocab_size
        topk_running_sequences[:, :, cur_len] = topk_ids
        batch_offset = np.arange(batch_size).reshape(-1, 1) * num_beams
        topk_running_beam_indices[:, :, cur_len - decoder_prompt_len] = topk_current_beam_indices + batch_offset
        hits = stopping(c, topk_running_sequences[:, :, : cur_len + 1].reshape(-1, cur_len + 1)).reshape(batch_size, beams_to_keep)
        # _get_running_beams_for_next_iteration
        topk_running_log_probs = (topk_log_probs + hits.astype(F32) * F32(-1.0e9)).astype(F32)
        next_topk_indices = topk(topk_running_log_probs, num_beams)[1]
        new_running_sequences = gather_beams(topk_running_sequences, next_topk_indices)
        new_running_beam_scores = gather_beams(topk_running_log_probs, next_topk_indices)
        new_running_beam_indices = gather_beams(topk_running_beam_indices, next_topk_indices)
        # _update_finished_beams
        did_top_num_beams_just_finished = hits & top_num_beam_mask[None, :]
        scores = (topk_log_probs / F32((cur_len + 1 - decoder_prompt_len) ** lp)).astype(F32)
        beams_in_batch_are_full = np.all(is_sent_finished, axis=-1, keepdims=True) & (early_stopping is True)
        scores = (scores + beams_in_batch_are_full.astype(F32) * F32(-1.0e9)).astype(F32)
        scores = (scores + (~is_early_stop_heuristic_unsatisfied).astype(F32) * F32(-1.0e9)).astype(F32)
        scores = (scores + (~did_top_num_beams_just_finished).astype(F32) * F32(-1.0e9)).astype(F32)
        merged_sequences = np.concatenate((sequences, topk_running_sequences), axis=1)
        merged_scores = np.concatenate((beam_scores, scores), axis=1)
        merged_beam_indices = np.concatenate((beam_indices, topk_running_beam_indices), axis=1)
        merged_is_sent_finished = np.concatenate((is_sent_finished, did_top_num_beams_just_finished), axis=1)
        topk_merged_indices = topk(merged_scores, num_beams)[1]
        sequences = gather_beams(merged_sequences, topk_merged_indices)
        beam_scores = gather_beams(merged_scores, topk_merged_indices)
        beam_indices = gather_beams(merged_beam_indices, topk_merged_indices)
        is_sent_finished = gather_beams(merged_is_sent_finished, topk_merged_indices)
        running_sequences, running_beam_scores, running_beam_indices = new_running_sequences, new_running_beam_scores, new_running_beam_indices
        cur_len = cur_len + 1
        # _check_early_stop_heuristic
        if early_stopping == "never" and lp > 0.0:
            best_hypothetical_length = max_length - decoder_prompt_len
        else:
            best_hypothetical_length = cur_len - decoder_prompt_len
        best_possible_running_score = (running_beam_scores[:, :1] / F32(best_hypothetical_length ** lp)).astype(F32)
        worst_finished_score = np.where(is_sent_finished, np.min(beam_scores, axis=1, keepdims=True), F32(-1.0e9))
        is_early_stop_heuristic_unsatisfied = is_early_stop_heuristic_unsatisfied & np.any(best_possible_running_score > worst_finished_score, axis=-1, keepdims=True)
        # _beam_search_has_unfinished_sequences
        improvement_possible = np.any(is_early_stop_heuristic_unsatisfied)
        exists_open_beam = not (np.all(is_sent_finished) and early_stopping is True)
        valid_continuations = not np.all(hits)
        if not (improvement_possible and exists_open_beam and valid_continuations):
            break
    sequences = sequences[:, :num_return_sequences, :].reshape(batch_size * num_return_sequences, -1)
    beam_indices = beam_indices[:, :num_return_sequences, :].reshape(batch_size * num_return_sequences, -1)
    max_generated_length = (beam_indices + 1).astype(bool).sum(axis=1).max()
    output_length = decoder_prompt_len + max_generated_length
    return sequences[:, :output_length].tolist()


def encode(x):
    """Floats for JSON: non-finite values as strings."""
    return [[v if math.isfinite(v) else repr(v) for v in row] for row in x.tolist()]


def run(case):
    c = case["config"]
    if case["op"] == "processors":
        scores = np.array(case["scores"], dtype=F32)
        return encode(get_logits_processor(c)(np.array(case["input_ids"], dtype=np.int64), scores))
    model = Model(case["model"])
    return (beam_search if c.get("num_beams", 1) > 1 else greedy)(c, case["prompts"], model)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        job = json.load(f)
    out = []
    for case in job["cases"]:
        try:
            out.append({"ok": run(case)})
        except (ValueError, KeyError) as e:
            out.append({"error": str(e)})
    print(json.dumps(out))
