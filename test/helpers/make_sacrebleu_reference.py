# Writes test/fixtures/reference/sacrebleu.json: sacrebleu's own outputs for the intl and char tokenizers,
# corpus scores, per-sentence sufficient statistics and sentence BLEU on a fixed set of sentences. Not run by
# the tests (they must pass without sacrebleu); rerun by hand in a venv with sacrebleu installed:
#   python3 -m venv /tmp/v && /tmp/v/bin/pip install sacrebleu && /tmp/v/bin/python test/helpers/make_sacrebleu_reference.py
import json, os, sacrebleu
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International
from sacrebleu.tokenizers.tokenizer_char import TokenizerChar

HYPS = [
    'The cat sat on the mat.',
    "Hello, world! It's 3.14 — or €3,50?",
    '¿Dónde está la «biblioteca»? Está aquí…',
    '這是一個測試。我們很高興！',
    'A+B=C; x<y & y>z (maybe).',
    'Bonjour: le prix est 5,00 € (TTC).',
    'short',
    '',
]
REFS = [
    ['The cat is on the mat.', 'There is a cat on the mat.'],
    ["Hello world! It is 3.14 - or €3.50?", "Hello, world! It's 3.14 or €3,50!"],
    ['¿Dónde está la biblioteca? Aquí está…', '¿Dónde queda la «biblioteca»?'],
    ['這是一個測試。我們非常高興！', '這是測試。'],
    ['A+B=C; x<y and y>z (perhaps).', 'A + B = C ; x < y & y > z'],
    ['Bonjour : le prix est de 5,00 € TTC.', 'Bonjour, le prix est 5,00 €.'],
    ['a short sentence', 'short'],
    ['nothing here'],
]
out = {'produced_by': 'sacrebleu %s via test/helpers/make_sacrebleu_reference.py' % sacrebleu.__version__, 'hyps': HYPS, 'refs': REFS}
intl, char = TokenizerV14International(), TokenizerChar()
out['tok_intl'] = [intl(s) for s in HYPS + [r for rs in REFS for r in rs]]
out['tok_char'] = [char(s) for s in HYPS]
refs_t = [list(x) for x in zip(*[rs + [rs[0]] * (2 - len(rs)) for rs in REFS])]  # sacrebleu's layout: one stream per reference
# every hypothesis gets exactly two references (the first repeated when only one exists), so both sides agree
out['refs2'] = [rs + [rs[0]] * (2 - len(rs)) for rs in REFS]
corpus = {}
for tok in ['13a', 'intl', 'char', 'none']:
    for lc in [False, True]:
        b = BLEU(tokenize=tok, lowercase=lc)
        r = b.corpus_score(HYPS, refs_t)
        stats = b._extract_corpus_statistics(HYPS, refs_t)
        corpus[f'{tok}|{lc}'] = dict(score=r.score, counts=r.counts, totals=r.totals, bp=r.bp, sys_len=r.sys_len, ref_len=r.ref_len, stats=[list(map(int, s)) for s in stats])
out['corpus'] = corpus
# corpus score from the summed statistics of a subset (sentences 0, 2, 4) equals corpus_score on that subset
b = BLEU(tokenize='intl')
sub = [0, 2, 4]
out['subset'] = dict(idx=sub, score=b.corpus_score([HYPS[i] for i in sub], [[s[i] for i in sub] for s in refs_t]).score)
out['sentence'] = [dict(tok=tok, score=sacrebleu.sentence_bleu(h, r, tokenize=tok).score) for tok in ['13a', 'intl', 'char'] for h, r in zip(HYPS[:7], out['refs2'][:7])]
with open(os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'reference', 'sacrebleu.json'), 'w') as f:
    json.dump(out, f, ensure_ascii=False, indent=0)
