#!/usr/bin/env python
"""Choose the new-patients recipe without DS2: patient-wise k-fold cross-validation inside MIT-BIH DS1 (issue 14).

The DS1 records (paced ones left out) are split into --k folds by record (StratifiedGroupKFold: no patient in two
folds). Each candidate is trained k times, on the other folds, and scores its held-out fold with the weights of the
*last* epoch (nothing is chosen on the fold that scores it). The out-of-fold predictions of all DS1 beats are pooled and
scored once per candidate: macro F1 over N, S, V, F and the per-class recall and precision. DS2 is never read.

Candidates (cumulative, as the ablation): rhythm features (the Kachuee window); + template lead; + P-wave window;
+ second lead. All share the recipe's loss, channels, augmentation, epochs, lr and batch size.

The selection rule, fixed before the three-seed run was started (and never looking at DS2):
- every candidate is cross-validated with each training seed of --seeds (the folds stay those of --split-seed);
- a candidate's score is the median over seeds of its pooled out-of-fold macro F1 over N, S, V, F;
- the chosen candidate has the highest median; a later (more complex) candidate must beat an earlier one by more than
  --margin (0.005) to be chosen over it. The chosen candidate is heartai's `newpatients` recipe.
Fifth candidate, added later with its rule fixed before it was run: the chosen '+ template lead' recipe with only the
unit-free rhythm columns (RELATIVE_RR: ratios to the record's median RR and to the local RR; no interval in seconds and no
per-record constant, which let a model recognise a training patient rather than a rhythm). Motivation, measured on DS1
alone (bench/probe_rhythm.py): a gradient-boosting model on the rhythm columns only, same 4 patient folds, out-of-fold F1
over N, S, V, F 0.368 with all 11 columns and 0.452 with the 6 unit-free ones (S recall 0.12 -> 0.59). Rule for it, as for
the others: scored by the median over seeds 0, 1, 2 of its pooled out-of-fold F1, it replaces '+ template lead' only if
it beats it by more than --margin (0.005); the four earlier candidates are reused from the three-seed results file.
Sixth candidate, added after the fifth lost (0.571), its rule fixed before it was run: the chosen recipe with a context
window of 1 s either side of the R-peak ('pqrst:1:1', 187 samples at 93 Hz), which at usual heart rates holds the
previous and the next beat as well as this beat's P wave: the beat is seen next to its neighbours, as in published
inter-patient CNNs that take several beats. Same rule: it replaces '+ template lead' only if its median over seeds 0, 1, 2
beats 0.581 by more than --margin (0.005); the five earlier candidates are reused from the results file.
Seventh and eighth candidates, added after the sixth lost, their rule fixed before they were run: the chosen recipe with
softened class weights in its focal loss (`weight_power` 0.5: inverse square-root frequency; 0: no class weights).
Motivation, from the DS1 out-of-fold results above (no DS2): with inverse-frequency weights capped at 100 the chosen
recipe calls 7-10 % of DS1's normal beats abnormal (N recall 0.90-0.93), so S precision is 0.23-0.30 and F precision
0.10-0.15; the weights make the argmax maximise mean recall rather than F1. Same rule as before: in this order, each
replaces the current choice only if its median over seeds 0, 1, 2 beats the current choice's by more than --margin (0.005);
the six earlier candidates are reused from the results file.
Result: ^0.5 reached 0.589 (seeds 0.568, 0.616, 0.589) and replaced '+ template lead' (0.581); no class weights did not
beat it (0.572; seeds 0.587, 0.540, 0.572). The `newpatients` recipe therefore has `weight_power=0.5`; the weight power is a candidate's setting here (1, the
inverse frequency, unless a candidate says otherwise), not part of the shared recipe.
Ninth candidate, its rule fixed before it was run: the P-wave window with the template lead and the chosen class weights
^0.5. Motivation, from DS1 alone: under inverse-frequency weights the P-wave candidate had the highest out-of-fold S
recall of the four (0.66-0.72) and the lowest S precision (0.18-0.24), the failure the softened weights address. Same
rule: it replaces the current choice (class weights ^0.5, 0.589) only if its median over seeds 0, 1, 2 beats it by more
than --margin (0.005); the eight earlier candidates are reused from the results file.
Result: 0.593 (seeds 0.587, 0.631, 0.593), higher by 0.0048, not by more than 0.005: not chosen; the recipe is unchanged.
Tenth candidate, its rule fixed before it was run: the chosen recipe (template lead, class weights ^0.5) with weight
averaging (`weight_average=0.5`: the uniform average of the weights after every training step of the second half of
training, `heartai.learner.WeightAverage`). Motivation: new patients are a distribution shift, and averaged weights (SWA,
SWAD) generalise better under shift; the seed spread of the chosen recipe on DS1 (0.568-0.616) says single runs are noisy.
Same rule: it replaces the current choice (0.589) only if its median over seeds 0, 1, 2 beats it by more than --margin
(0.005); the nine earlier candidates are reused from the results file.
Result: 0.581 (seeds 0.555, 0.600, 0.581): not chosen; the recipe is unchanged.
Eleventh and twelfth candidates, their rule fixed before they were run: two rhythm columns that measure how irregular the
rhythm before the beat is (`rr_local_cv`, `rr_local_msd`: coefficient of variation and mean absolute successive difference
of the up to 10 intervals before rr_pre, over their mean), so that a short rr_pre in atrial fibrillation is not read as an
S beat. Motivation, on DS1 alone (bench/probe_rhythm.py, gradient boosting on rhythm columns only, same folds): unit-free
columns 0.452 -> 0.503 with them (S recall 0.59 -> 0.65, S precision 0.21 -> 0.31); all columns 0.368 -> 0.379. The 11th
is the chosen recipe with all 13 rhythm columns; the 12th the chosen recipe with the unit-free columns and the two
irregularity columns. Same rule, in this order: each replaces the current choice (0.589) only if its median over seeds
0, 1, 2 beats the current choice's by more than --margin (0.005); the ten earlier candidates are reused from the results file.
They ran with the two columns in heartai's rhythm columns (commit 6fe6d0b); as neither was chosen, heartai's columns are
back to the 11, and `add_irregularity` computes the two here from the table's R-peaks (the same values: largest difference
1e-7 on DS1).
Result: rhythm irregularity 0.568 (seeds 0.575, 0.548, 0.568); unit-free rhythm + irregularity 0.578 (seeds 0.578, 0.568,
0.580; S recall 0.57-0.67 at precision 0.33-0.38, but F recall 0.04-0.08). Neither chosen; the recipe is unchanged.
Thirteenth candidate, its rule fixed before it was run: the chosen recipe (template lead, class weights ^0.5) with another
network, `resnet1d` with stages of 16, 32 and 64 channels (61k parameters with the side input, against cnn1d's 47k: a
network of about the same size, so the comparison is of the architecture, not of capacity). Motivation: the twelve
candidates before it changed the inputs, the loss or the averaging of one network; none changed the network. Same rule: it
replaces the current choice (0.589) only if its median over seeds 0, 1, 2 beats it by more than --margin (0.005); the
twelve earlier candidates are reused from the results file.
Result: 0.560 (seeds 0.553, 0.573, 0.560): not chosen; the recipe is unchanged. It had the best V of all candidates (recall
0.91-0.93 at precision 0.81-0.84) but lower S recall (0.42-0.49 at precision 0.29-0.35) and almost no F (0.02-0.03).
Fourteenth candidate, its rule fixed before it was run: the rhythm-irregularity candidate (the chosen recipe with the two
irregularity columns) whose training folds also get copies of 10 % of their normal beats with the rhythm of atrial
fibrillation (`add_af_copies`: the beat's 10 local intervals, rr_pre and rr_post drawn independently around 0.7-1.1 times
its record's median RR, log-normal with a spread of 0.12-0.30, as in AF, where the intervals are irregularly irregular; the
beat, its label N and its record's constants unchanged). Motivation, from DS1 alone (seed 0 of the chosen recipe, same
folds, out-of-fold): 768 of its 983 normal beats called S (78 %) are in records 201 and 203, DS1's two records with atrial
fibrillation (median rr_local_cv 0.20 and 0.29 against 0.02-0.06 in the records with most S beats); the false S beats have
a median rr_local_cv of 0.21, the true S beats 0.05. In each fold only one of the two AF records trains the model, too few
for it to learn that an early beat in an irregular rhythm is usually normal. Same rule: it replaces the current choice
(0.589) only if its median over seeds 0, 1, 2 beats it by more than --margin (0.005); the thirteen earlier candidates are
reused from the results file. Copies only ever join the training folds; the scored fold is untouched.
Result: 0.548 (seeds 0.550, 0.548, 0.542): not chosen; the recipe is unchanged. S precision rose a little (0.38-0.46)
but S recall halved (0.27-0.30 against 0.51-0.60): given normal beats that come early in an irregular rhythm, the network
learned to distrust an early beat in general.
Fifteenth candidate, its rule fixed before it was run: the P-wave window with the template lead, class weights ^0.5 and
the two irregularity columns. Motivation, from DS1 alone (bench/errors_ds1.py): the normal beats called S are mostly
beats of atrial fibrillation, and what tells such a beat from an S beat is the P wave (absent in AF, early and often
abnormal before an S beat), which the Kachuee window, starting at the R-peak, does not contain; the irregularity columns
say that the rhythm around the beat is irregular. Same rule: it replaces the current choice (0.589) only if its median
over seeds 0, 1, 2 beats it by more than --margin (0.005); the fourteen earlier candidates are reused from the results file.
Result: 0.564 (seeds 0.564, 0.571, 0.550): not chosen; the recipe is unchanged. S precision fell (0.20-0.29 against
0.26-0.42), S recall did not rise (0.38-0.52).
--reuse takes a candidate's result for a seed from an earlier results file with the same recipe and folds instead of
training it again (the first, one-seed run of this script).

Results go to bench/results/select_ds1_cv.json. Needs ../shared/data; exits 0 with a message if absent.
MIT-BIH: Moody & Mark (2001), PhysioNet (Goldberger et al. 2000), ODC-By."""
import argparse, os, sys, tempfile, time
from pathlib import Path
from _results import write_json, ROOT, DATA
import numpy as np, pandas as pd, torch

OUT = ROOT/'bench'/'results'/'select_ds1_cv.json'
RELATIVE_RR = ('rr_ratio', 'rr_pre_rec', 'rr_post_rec', 'rr_local_rec', 'rr_pre_local', 'rr_post_local')  # no seconds, no per-record constant
IRREGULARITY = ('rr_local_cv', 'rr_local_msd')   # candidates 11 and 12 only: computed here (`add_irregularity`), not heartai's rhythm columns
RR_11 = ('rr_pre', 'rr_post', 'rr_ratio', 'rr_local', 'rr_record', 'rr_record_med', *RELATIVE_RR[1:])   # heartai's RHYTHM_COLS (`rhythm=True`)
CHOSEN = '+ template lead, class weights ^0.5'   # the candidate chosen (the newpatients recipe); select_ds1_cv.json records the choice
CANDIDATES = [('rhythm (Kachuee window)', dict(window='kachuee', template=False)),
              ('+ template lead', dict(window='kachuee', template=True)),
              ('+ P-wave window', dict(window='pqrst', template=True)),
              ('+ second lead', dict(window='pqrst', template=True, leads=2)),
              ('+ template lead, unit-free rhythm', dict(window='kachuee', template=True, rhythm=list(RELATIVE_RR))),
              ('+ template lead, 3-beat context window', dict(window='pqrst:1:1', template=True)),
              ('+ template lead, class weights ^0.5', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.5))),
              ('+ template lead, no class weights', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.))),
              ('+ P-wave window, template lead, class weights ^0.5', dict(window='pqrst', template=True, loss_kwargs=dict(weight_power=0.5))),
              ('+ template lead, class weights ^0.5, weight averaging', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.5), weight_average=0.5)),
              ('+ template lead, class weights ^0.5, rhythm irregularity', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.5), rhythm=[*RR_11, *IRREGULARITY])),
              ('+ template lead, class weights ^0.5, unit-free rhythm + irregularity', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.5), rhythm=[*RELATIVE_RR, *IRREGULARITY])),
              ('+ template lead, class weights ^0.5, resnet1d', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.5), arch='resnet1d', hp=dict(widths=(16, 32, 64)))),
              ('+ template lead, class weights ^0.5, rhythm irregularity, AF-rhythm copies', dict(window='kachuee', template=True, loss_kwargs=dict(weight_power=0.5), rhythm=[*RR_11, *IRREGULARITY], af_copies=0.1)),
              ('+ P-wave window, template lead, class weights ^0.5, rhythm irregularity', dict(window='pqrst', template=True, loss_kwargs=dict(weight_power=0.5), rhythm=[*RR_11, *IRREGULARITY]))]

def log(*a): print(*a, flush=True)

def add_irregularity(df, fs=360.):
    "`df` with the IRREGULARITY columns of each beat, from its record's R-peaks in `df` (the up to 10 intervals before rr_pre)."
    out = {c: np.zeros(len(df)) for c in IRREGULARITY}
    for _, g in df.groupby('record'):
        g = g.sort_values('rpeak'); d = np.diff(g.rpeak.to_numpy(np.float64)) / fs
        for j, i in enumerate(g.index):
            w = d[max(0, j - 11):max(0, j - 1)]   # the intervals before rr_pre (= d[j-1]), at most 10
            if len(w) < 2: continue
            m = max(w.mean(), 1 / fs)
            out['rr_local_cv'][i], out['rr_local_msd'][i] = w.std() / m, np.abs(np.diff(w)).mean() / m
    return df.assign(**{c: v.astype(np.float32) for c, v in out.items()})

def add_af_copies(df, train, frac:float, seed:int, n_local:int=10):
    "`df` with copies of `frac` of its training normal beats given an atrial-fibrillation rhythm, and the training rows with them."
    rng = np.random.default_rng(seed)
    n = df.iloc[train]; n = n[n.target == 0]
    c = n.sample(frac=frac, random_state=int(rng.integers(2**31))).copy()
    med = c.rr_record_med.to_numpy(np.float64)[:, None]
    rate = med * rng.uniform(0.7, 1.1, (len(c), 1)); sd = rng.uniform(0.12, 0.30, (len(c), 1))
    s = rate * np.exp(sd * rng.standard_normal((len(c), n_local + 2)) - sd**2 / 2)   # 10 local intervals, rr_pre, rr_post
    w, pre, post = s[:, :n_local], s[:, n_local], s[:, n_local + 1]
    local, med = w.mean(1), med[:, 0]
    new = dict(rr_pre=pre, rr_post=post, rr_ratio=pre / post, rr_local=local, rr_pre_rec=pre / med, rr_post_rec=post / med,
               rr_local_rec=local / med, rr_pre_local=pre / local, rr_post_local=post / local,
               rr_local_cv=w.std(1) / local, rr_local_msd=np.abs(np.diff(w, axis=1)).mean(1) / local)
    c = c.assign(**{k: v.astype(np.float32) for k, v in new.items()})
    out = pd.concat([df, c], ignore_index=True)
    return out, np.r_[train, np.arange(len(df), len(out))]

def ds1_beats(window, leads=1, irregularity=False):
    "The DS1 beats (paced records left out, as in the inter-patient split) cut with `window`, with the rhythm columns."
    from heartai.data.physionet import beats_from_records, DS1
    df = beats_from_records(DATA/'mitdb', window=window, leads=leads, progress=False)
    df = df[df.record.astype(str).isin(DS1)].reset_index(drop=True)
    return add_irregularity(df) if irregularity else df

def oof_scores(y, p)->dict:
    "Macro F1 over N, S, V, F and per-class recall and precision of pooled out-of-fold decisions."
    from sklearn import metrics as skm
    labels = [0, 1, 2, 3]
    rec = skm.recall_score(y, p, labels=labels, average=None, zero_division=0)
    prec = skm.precision_score(y, p, labels=labels, average=None, zero_division=0)
    return dict(f1_nsvf=float(skm.f1_score(y, p, labels=labels, average='macro', zero_division=0)),
                recall=dict(zip('NSVF', map(float, rec))), precision=dict(zip('NSVF', map(float, prec))))

def choose(cands:dict, margin:float)->str:
    "The candidate with the highest median F1; a later candidate replaces the current choice only when better by > `margin`."
    best = None
    for name, c in cands.items():
        if best is None or c['f1_nsvf'] > cands[best]['f1_nsvf'] + margin: best = name
    return best

def reusable(path, res, split_seed)->dict:
    "(seed, candidate) -> result from an earlier results file run with the same recipe and folds (empty without `path`)."
    if not path: return {}
    import json
    old = json.loads(Path(path).read_text())
    if old['shared'] != json.loads(json.dumps(res['shared'])) or f"seed {split_seed})" not in old['protocol']: raise SystemExit(f"{path}: other settings, not reusable")
    if 'seed' in old:   # the one-seed format of the first run
        return {(old['seed'], n): {k: c[k] for k in ('folds', 'n_beats', 'f1_nsvf', 'recall', 'precision')} for n, c in old['candidates'].items()}
    return {(int(s), n): v for n, c in old['candidates'].items() for s, v in c['seeds'].items()}

def run_candidate(kw, r, a, tmp, seed, with_probs=False):
    "Out-of-fold decisions of one candidate over the DS1 beats, and the folds' records (and the probabilities with `with_probs`)."
    from heartai.data.physionet import split_patient_kfold
    from heartai.training import build_learner, fit
    df = ds1_beats(kw['window'], kw.get('leads', 1), irregularity=bool(set(kw.get('rhythm') or ()) & set(IRREGULARITY)))
    y, pred, folds, P = df.target.to_numpy(), np.full(len(df), -1), [], None
    for fold in range(a.k):
        s = split_patient_kfold(df, k=a.k, fold=fold, seed=a.split_seed, three_way=False)
        folds.append(sorted(set(df.record.iloc[s.valid].astype(str))))
        dfl, splits = df, s
        if kw.get('af_copies'): dfl, tr = add_af_copies(df, s.train, kw['af_copies'], seed * 100 + fold); splits = (tr, s.valid)
        learn = build_learner(dfl, splits, 'mitbih', kw.get('arch', r['arch']), channels=r['channels'], bs=r['bs'], loss=r['loss'], augment=r['augment'],
                              seed=seed, runs_dir=tmp/'runs', rhythm=kw.get('rhythm', r['rhythm']), template=kw['template'], load_best=False,
                              loss_kwargs=kw.get('loss_kwargs'), weight_average=kw.get('weight_average'), **kw.get('hp', {}))
        t = time.perf_counter(); fit(learn, r['epochs'], r['lr'], quiet=True)
        with learn.no_bar(): probs, _ = learn.get_preds()
        pred[s.valid] = probs.argmax(1).numpy()
        if P is None: P = np.full((len(df), probs.shape[1]), np.nan, np.float32)
        P[s.valid] = probs.numpy()
        log(f"  fold {fold} ({', '.join(folds[-1])}): {time.perf_counter() - t:.0f} s")
    return (y, pred, folds, P) if with_probs else (y, pred, folds)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--k', type=int, default=4, help="patient folds of DS1")
    ap.add_argument('--split-seed', type=int, default=0, help="seed of the patient folds")
    ap.add_argument('--seeds', default='0', help="training seeds, comma-separated; a candidate's score is the median over them")
    ap.add_argument('--margin', type=float, default=0.005, help="how much a later candidate's median must exceed an earlier one's")
    ap.add_argument('--reuse', default=None, help="an earlier results file whose per-seed results (same recipe and folds) are reused")
    ap.add_argument('--out', default=str(OUT))
    a = ap.parse_args()
    seeds = [int(x) for x in a.seeds.split(',')]
    if not (DATA/'mitdb').is_dir(): log(f"skipped: real data not found at {DATA}"); return 0
    from heartai.training import recipe
    r = recipe('newpatients')
    res = dict(protocol=f"patient-wise {a.k}-fold cross-validation inside MIT-BIH DS1 (paced records left out; StratifiedGroupKFold by "
                        f"record, seed {a.split_seed}); each fold scored by the last epoch of a model trained on the other folds; "
                        "out-of-fold decisions pooled; DS2 never read",
               shared=dict(recipe={k: v for k, v in r.items() if k not in ('window', 'template', 'split', 'weight_power', 'weight_average')}), seeds=seeds,
               machine=dict(cpus=os.cpu_count(), torch=torch.__version__, threads=torch.get_num_threads()),
               started=time.strftime('%Y-%m-%d %H:%M:%S'), candidates={})
    tmp = Path(tempfile.mkdtemp(prefix='heartai-select-'))
    old = reusable(a.reuse, res, a.split_seed)
    for name, kw in CANDIDATES:
        c = res['candidates'][name] = dict(settings=kw, seeds={})
        for seed in seeds:
            if (seed, name) in old: c['seeds'][str(seed)] = old[seed, name]; log(f"[{name}] seed {seed}: reused from {a.reuse}"); continue
            log(f"[{name}] seed {seed}")
            y, p, folds = run_candidate(kw, r, a, tmp, seed)
            c['seeds'][str(seed)] = dict(folds=folds, n_beats=int(len(y)), **oof_scores(y, p))
            write_json(Path(a.out), res)
        f1s = [v['f1_nsvf'] for v in c['seeds'].values()]
        c.update(f1_nsvf=float(np.median(f1s)), f1_nsvf_seeds=f1s)
        log(f"[{name}] DS1 out-of-fold F1 N,S,V,F median {c['f1_nsvf']:.4f} (seeds {', '.join(f'{v:.4f}' for v in f1s)})")
        write_json(Path(a.out), res)
    res['chosen'] = choose(res['candidates'], a.margin)
    res['rule'] = f"highest median over seeds {seeds} of the out-of-fold F1 (N,S,V,F); a later candidate must beat an earlier one by > {a.margin}"
    write_json(Path(a.out), res)
    log(f"chosen on DS1 alone: {res['chosen']}; results: {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
