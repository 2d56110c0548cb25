#!/usr/bin/env python
"""Issue 17: are heartai's beats and the published Kaggle MIT-BIH beats interchangeable for a model? Measured in one run.

1. Build heartai's beats from the 48 MIT-BIH records in the published format (`window='kachuee'`, `lead='first'`: the
   record's first channel, as the published files were cut) and find, by exact nearest neighbour, the heartai beat that
   each of the 500 published sample beats (`../shared/data/kaggle_sample/mitbih_train_sample.csv`) is. Those beats are
   left out of training and validation, so the sample is data the model has never seen.
2. Train the default recipe (`heartai.training`, cnn1d) on a beat-level stratified random 80/20 split of the rest (the
   Kaggle protocol: one patient's beats on both sides). The best epoch is chosen by validation accuracy on heartai's own
   validation beats, never on the sample.
3. Direction A (heartai beats -> published beats): per-class recall on the model's own validation beats vs on the 500
   published sample beats (100 per class; a Wilson 95 % interval says how much 100 beats can tell).
4. Direction B (published-format model -> beats heartai cuts from a record): the full published training files are not
   here (only the 500-beat sample), and heartai's `lead='first'` beats are bit-identical to the published ones, so a model
   trained on heartai's beats *is* a model trained on published-format beats. What can still differ is heartai's default
   `lead='auto'` (MLII where a record has it: record 114 differs). So B compares the same model's decisions on the 500
   published beats with its decisions on the beats heartai's default settings cut at the same annotations.

Results: bench/results/crossformat.json. Needs ../shared/data; exits 0 with a message when it is absent.
Cite MIT-BIH (Moody & Mark 2001) and PhysioNet (Goldberger et al. 2000) wherever these numbers are shown."""
import argparse, os, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from _results import write_json, parse_hp, ROOT, DATA

OUT = ROOT/'bench'/'results'/'crossformat.json'

def log(*a): print(*a, flush=True)

def wilson(k, n, z=1.96):
    "Wilson 95 % interval of a proportion k/n."
    if n == 0: return (float('nan'), float('nan'))
    p = k/n; d = 1 + z*z/n; c = (p + z*z/(2*n))/d; h = z*np.sqrt(p*(1-p)/n + z*z/(4*n*n))/d
    return (round(float(c - h), 4), round(float(c + h), 4))

def recalls(y, p, vocab):
    "Per-class recall (with its Wilson interval and support) and accuracy of decisions `p` for labels `y`."
    out = {}
    for i, c in enumerate(vocab):
        m = y == i; k = int((p[m] == i).sum())
        out[c] = dict(recall=round(k/max(int(m.sum()), 1), 4), n=int(m.sum()), ci95=wilson(k, int(m.sum())))
    return dict(per_class=out, accuracy=round(float((p == y).mean()), 4))

def add_gap_tests(res:dict, tol:float=3.)->dict:
    """Add to `res` the gaps (points) between recall on the sample and on the model's own validation beats, and what the
    sample's size lets them say: for each class the two-sided exact binomial p of the sample's hits if its true recall
    were the validation one; Fisher's combination of those p; and `pass_chance_if_identical`, the probability that all
    classes land within `tol` points when the sample beats are exactly as hard as the validation beats (binomial)."""
    from scipy.stats import binom, binomtest, chi2
    own, pc = res['own_valid']['recall'], res['published_sample']['per_class']
    gaps = {c: round(100*(pc[c]['recall'] - own[c]), 2) for c in own}
    clip = lambda r: min(max(r, 1e-9), 1 - 1e-9)
    chance = {c: round(float(binomtest(round(pc[c]['recall']*pc[c]['n']), pc[c]['n'], clip(own[c])).pvalue), 4) for c in own}
    def within(r, n):   # P(|K/n - r| <= tol points) for K ~ Binomial(n, r)
        lo, hi = np.ceil(n*(r - tol/100) - 1e-9), np.floor(n*(r + tol/100) + 1e-9)
        return float(binom.cdf(hi, n, clip(r)) - binom.cdf(lo - 1, n, clip(r)))
    res.update(recall_gap_points=gaps, max_abs_gap_points=max(abs(v) for v in gaps.values()),
               within_3_points=bool(all(abs(v) <= tol for v in gaps.values())), gap_chance_p=chance,
               gap_chance_note="two-sided exact binomial test of the sample's hits against the own-validation recall",
               fisher_combined_p=round(float(chi2.sf(-2*sum(np.log(max(p, 1e-300)) for p in chance.values()), 2*len(chance))), 4),
               pass_chance_if_identical=round(float(np.prod([within(own[c], pc[c]['n']) for c in own])), 4),
               pass_chance_note=f"probability that every class's sample recall lands within {tol:g} points of its validation recall "
                                "when the sample is exactly as hard as the validation beats (binomial, the sample's per-class sizes)")
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--epochs', type=int, default=16)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--arch', default='cnn1d')
    ap.add_argument('--hp', action='append', default=[], help="architecture hyperparameter k=v (repeatable)")
    ap.add_argument('--recipe', default=None, help="take arch, hp, augmentation, epochs, lr and bs from this heartai recipe "
                    "(e.g. random) and score its last epoch (nothing chosen, as bench_train --recipe does)")
    ap.add_argument('--out', type=Path, default=OUT)
    ap.add_argument('--rescore', type=Path, default=None, help="recompute the gap tests of an earlier results file in place, no training")
    a = ap.parse_args()
    if a.rescore:
        import json
        res = add_gap_tests(json.loads(a.rescore.read_text())); write_json(a.rescore, res)
        log(f"gaps {res['recall_gap_points']}; Fisher p {res['fisher_combined_p']}; pass chance if identical {res['pass_chance_if_identical']}")
        return 0
    if not (DATA/'mitdb').is_dir() or not (DATA/'kaggle_sample'/'mitbih_train_sample.csv').is_file():
        log(f"skipped: the MIT-BIH records or the Kaggle sample are not in {DATA}"); return 0
    import torch
    from heartai.core import MITBIH
    from heartai.data.core import read_beats
    from heartai.data.physionet import beats_from_records, split_random
    from heartai.data.published import match_published
    from heartai.learner import export_model, load_ecg_model
    from heartai.inference import predict_logits
    from heartai.training import build_learner, fit
    from bench_train import quiet, per_class
    hp = parse_hp(a.hp)
    augment, load_best = None, True
    if a.recipe:
        from heartai.training import recipe
        r = recipe(a.recipe)
        a.arch, a.epochs, a.lr, a.bs, augment, load_best = r['arch'], r['epochs'], r['lr'], r['bs'], r.get('augment'), False
        hp = {**r.get('hp', {}), **hp}
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.perf_counter()
    first = beats_from_records(DATA/'mitdb', lead='first', progress=False)
    auto = beats_from_records(DATA/'mitdb', progress=False)
    pub = read_beats(DATA/'kaggle_sample'/'mitbih_train_sample.csv', classes='mitbih')
    m = match_published(pub, first)
    per = m['per_beat']
    log(f"published sample: {m['exact']}/{m['n']} beats found exactly in heartai's lead='first' beats "
        f"(label agreement {m['label_agreement']:.3f}); {time.perf_counter()-t0:.0f}s")
    src = per.nearest.to_numpy()[per.exact.to_numpy()]
    keep = first.drop(index=first.index[src]).reset_index(drop=True)
    splits = split_random(keep, valid_pct=0.2, seed=0)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        learn = build_learner(keep, splits, 'mitbih', a.arch, bs=a.bs, seed=0, runs_dir=tmp/'runs', monitor='accuracy',
                              augment=augment, load_best=load_best, **hp)
        quiet(learn)
        t = time.perf_counter(); fit(learn, a.epochs, a.lr); secs = time.perf_counter() - t
        own = per_class(learn)
        export_model(learn, tmp/'model', overwrite=True)
        model = load_ecg_model(tmp/'model')
        vocab = list(MITBIH.codes)
        y_pub = pub['target'].to_numpy()
        p_pub = predict_logits(model, pub).argmax(1).numpy()
        # the beats heartai's defaults (lead='auto') cut at the same annotations as the published sample beats
        key = first.iloc[src][['record', 'rpeak']].astype(str).agg('/'.join, axis=1)
        at = pd.Series(np.arange(len(auto)), index=auto[['record', 'rpeak']].astype(str).agg('/'.join, axis=1))
        rows = at.reindex(key).to_numpy()
        found = ~np.isnan(rows.astype(float))
        sub = auto.iloc[rows[found].astype(int)]
        p_auto = predict_logits(model, sub).argmax(1).numpy()
        y_auto = sub['target'].to_numpy()
        params = sum(p.numel() for p in learn.model.parameters())
    A = recalls(y_pub, p_pub, vocab)
    same = p_pub[per.exact.to_numpy()][found] == p_auto
    res = dict(
        protocol="beat-level stratified random 80/20 split of heartai's MIT-BIH beats (window='kachuee', lead='first'), the 500 "
                 "published sample beats left out of it; " + (f"recipe {a.recipe!r}, last epoch scored (nothing chosen)" if a.recipe
                 else "best epoch by accuracy on heartai's own validation beats"),
        recipe=a.recipe, augment=augment, arch=a.arch, hp=hp, params=int(params), epochs=a.epochs, lr=a.lr, bs=a.bs, train_seconds=round(secs, 1),
        sample_match=dict(exact=int(m['exact']), n=int(m['n']), label_agreement=m['label_agreement']),
        own_valid=dict(accuracy=round(own['accuracy'], 4), f1_macro=round(own['f1_macro'], 4),
                       recall={c: round(v, 4) for c, v in own['recall'].items()}, support=own['support']),
        published_sample=A, direction_b=dict(n=int(found.sum()), same_decision=round(float(same.mean()), 4),
                         accuracy_on_published=round(float((p_pub[per.exact.to_numpy()][found] == y_auto).mean()), 4),
                         accuracy_on_heartai_default=round(float((p_auto == y_auto).mean()), 4),
                         note="heartai's default lead='auto' vs the published beats at the same annotations; lead='first' beats are bit-identical"),
        machine=dict(cpus=os.cpu_count()), seconds=round(time.perf_counter() - t0, 1))
    add_gap_tests(res); gaps, chance = res['recall_gap_points'], res['gap_chance_p']
    write_json(a.out, res)
    log(f"own valid: acc {own['accuracy']:.4f}  recall {res['own_valid']['recall']}")
    pub_rec = {c: A['per_class'][c]['recall'] for c in vocab}
    log(f"published sample: acc {A['accuracy']:.4f}  recall {pub_rec}")
    log(f"gap (points): {gaps}  within 3: {res['within_3_points']}  chance p: {chance}; Fisher p {res['fisher_combined_p']}; "
        f"pass chance if identical {res['pass_chance_if_identical']}")
    log(f"direction B: same decision on {res['direction_b']['same_decision']:.4f} of {res['direction_b']['n']} beats; "
        f"accuracy published {res['direction_b']['accuracy_on_published']:.4f} vs heartai default {res['direction_b']['accuracy_on_heartai_default']:.4f}")
    log(f"wrote {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
