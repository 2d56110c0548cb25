#!/usr/bin/env python
"""Training benchmarks of heartai on the real data (issue 5): accuracy, recall and speed, measured in one run.

Tasks (all by default; pick with --tasks):
  random   MIT-BIH beat-level stratified 80/20 split (Kaggle protocol): accuracy, macro F1, per-class recall, params,
           time to reach 98.5 % validation accuracy
  inter    MIT-BIH inter-patient (de Chazal 2004), the honest protocol: train on DS1 minus held-out DS1 patients, best
           epoch and thresholds on those patients (valid), DS2 (test) predicted once; per-class recall and precision,
           macro F1 over N,S,V,F, median over --seeds with each seed's numbers; thresholds fitted on valid for S recall
           0.90 and V recall 0.95 and the recall and precision they reach on DS2 (the gap is the honest number);
           --rhythm, --window, --leads, --template; --ablation: beat only / + rhythm / + P-wave window / + template lead /
           + second lead, one seed. --recipe NAME: a recipe of heartai.training.RECIPES (newpatients: inter; random: random)
  ptb      PTB (heart_test.parquet): fine-tune from the MIT-BIH body vs train from scratch on the same small split
  speed    one training epoch: heartai Learner vs a plain PyTorch loop (same model, batch size, optimizer), median of 3

Results go to bench/results/train.json (and a printed table). Needs ../shared/data; exits 0 with a message if absent.
Runs on CPU; uses a GPU automatically when one is present. Cite MIT-BIH (Moody & Mark 2001) and PhysioNet
(Goldberger et al. 2000) wherever these numbers are shown."""
import argparse, json, os, platform, statistics, sys, tempfile, time
from pathlib import Path
from _results import write_json, parse_hp, ROOT, DATA
import numpy as np, pandas as pd, torch, torch.nn.functional as F

OUT = ROOT/'bench'/'results'/'train.json'

def log(*a): print(*a, flush=True)

def per_class(learn, dl=None):
    "Per-class recall/precision, macro F1 and accuracy of `learn` on `dl` (default: its validation set)."
    from sklearn import metrics as skm
    with learn.no_bar(): probs, y = learn.get_preds(dl=dl)
    p, y = probs.argmax(1).numpy(), y.numpy()
    vocab, labels = list(learn.dls.vocab), list(range(len(learn.dls.vocab)))
    rec = skm.recall_score(y, p, labels=labels, average=None, zero_division=0)
    prec = skm.precision_score(y, p, labels=labels, average=None, zero_division=0)
    out = dict(accuracy=float((p == y).mean()), f1_macro=float(skm.f1_score(y, p, average='macro')),
               recall_macro=float(rec.mean()), recall={c: float(r) for c, r in zip(vocab, rec)},
               precision={c: float(r) for c, r in zip(vocab, prec)},
               support={c: int((y == i).sum()) for i, c in enumerate(vocab)})
    if len(vocab) == 2: out['auroc'] = float(skm.roc_auc_score(y, probs[:, 1].numpy()))
    return out

def quiet(learn):
    "Replace fastai's progress bars with one printed line per epoch (the log stays readable) and time each epoch."
    from fastai.callback.core import Callback
    from fastai.callback.progress import ProgressCallback
    class EpochLog(Callback):
        order = 99   # after the Recorder
        def before_fit(self): self.t0, self.times = time.perf_counter(), []
        def after_fit(self): self.learn.remove_cb(self)   # later get_preds calls would log as epochs
        def after_epoch(self):
            self.times.append(time.perf_counter() - self.t0)
            vals = dict(zip(self.recorder.metric_names[1:-1], self.recorder.values[-1]))
            keep = {k: v for k, v in vals.items() if k in ('train_loss', 'valid_loss', 'accuracy', 'recall_macro', 'f1_macro', 'recall_S', 'recall_V', 'recall_abnormal')}
            log(f"    epoch {self.epoch}: " + '  '.join(f"{k} {float(v):.4f}" for k, v in keep.items()) + f"  ({self.times[-1]:.0f}s)")
    learn.remove_cb(ProgressCallback)
    learn.logger = lambda *a, **k: None   # without the progress callback fastai prints raw value lists
    clock = EpochLog(); learn.add_cb(clock)
    return clock

def mitbih_beats():
    from heartai.data.physionet import beats_from_records
    t = time.perf_counter(); df = beats_from_records(DATA/'mitdb', progress=False); log(f"MIT-BIH beats: {len(df)} in {time.perf_counter()-t:.1f}s")
    return df

def task_random(df, a, res, tmp):
    from heartai.data.physionet import split_random
    from heartai.learner import export_model
    from heartai.training import build_learner, fit
    splits = split_random(df, valid_pct=0.2, seed=0)
    learn = build_learner(df, splits, 'mitbih', a.arch, bs=a.bs, seed=0, runs_dir=tmp/'runs', monitor='accuracy', rhythm=a.rhythm,
                          loss=a.random_loss, augment=a.random_augment or None, channels=tuple(a.random_channels.split(',')), **a.arch_kwargs)
    clock = quiet(learn)
    t = time.perf_counter(); fit(learn, a.epochs, a.lr, wd=a.wd); secs = time.perf_counter() - t
    hist = pd.read_csv(learn.run_dir/'history.csv')
    reach = [t_ for t_, acc in zip(clock.times, hist.accuracy) if acc >= 0.985]
    r = dict(protocol=splits.protocol, rhythm=a.rhythm, arch=a.arch, arch_kwargs=a.arch_kwargs, params=sum(p.numel() for p in learn.model.parameters()), epochs=a.epochs,
             bs=a.bs, lr=a.lr, loss=a.random_loss, augment=a.random_augment, channels=a.random_channels, wd=a.wd, last_epoch_accuracy=round(float(hist.accuracy.iloc[-1]), 4), train_seconds=round(secs, 1), seconds_to_98_5=round(reach[0], 1) if reach else None,
             epoch_accuracy=[round(x, 4) for x in hist.accuracy], **per_class(learn))
    export_model(learn, tmp/'mitbih_model', overwrite=True)
    res['random'] = r
    log(f"[random] acc {r['accuracy']:.4f}  macro F1 {r['f1_macro']:.4f}  recall {r['recall']}  params {r['params']}  "
        f"{secs:.0f}s  98.5% after {r['seconds_to_98_5']}s")

def inter_beats(a, window='kachuee', leads=1, cache={}):
    "MIT-BIH beats (with the rhythm columns) cut with `window` and `leads`, read once per setting."
    from heartai.data.physionet import beats_from_records
    key = (window, leads)
    if key not in cache:
        t = time.perf_counter(); cache[key] = beats_from_records(DATA/'mitdb', window=window, leads=leads, progress=False)
        log(f"MIT-BIH beats, window {window}, {leads} lead(s): {len(cache[key])} in {time.perf_counter()-t:.1f}s")
    return cache[key]

def subsample(splits, n, seed=0):
    "At most `n` beats of each of train, valid and test (seeded; for a quick check of the benchmark, never for its numbers)."
    from heartai.data.physionet import Splits
    if not n: return splits
    rng = np.random.default_rng(seed)
    pick = lambda idx: np.sort(rng.choice(idx, min(n, len(idx)), replace=False))
    return Splits(pick(splits.train), pick(splits.valid), splits.protocol + f"; SUBSAMPLED to {n} beats per part", test=pick(splits.test))

def fitted_thresholds(vi, ti, targets=(('S', 0.90), ('V', 0.95))):
    "Thresholds fitted on valid (`vi`) for each class's target recall, and the recall and precision they reach on test (`ti`)."
    out = {}
    for c, target in targets:
        if c not in vi.vocab: continue
        try: t = vi.threshold_for_recall(target, c)
        except ValueError as e: out[c] = dict(target=target, error=str(e)); continue
        k = vi.vocab.index(c)
        y, flag = ti.targs.numpy() == k, ti.probs[:, k].numpy() >= t.threshold
        rec = float((flag & y).sum() / max(y.sum(), 1)); prec = float((flag & y).sum() / flag.sum()) if flag.any() else 0.
        out[c] = dict(target=target, threshold=t.threshold, valid_recall=t.recall, valid_precision=t.precision,
                      test_recall=rec, test_precision=prec, recall_gap=round(t.recall - rec, 4), test_flagged=int(flag.sum()))
    return out

def run_inter(a, seed, tmp, rhythm=False, window='kachuee', leads=1, template=False):
    "One inter-patient run: train on DS1 minus held-out DS1 patients, best epoch and thresholds on those, DS2 predicted once."
    from heartai.data.physionet import split_interpatient
    from heartai.interpret import ECGInterpretation
    from heartai.training import build_learner, fit, loss_settings
    df = inter_beats(a, window, leads)
    splits = subsample(split_interpatient(df, seed=a.split_seed), a.max_beats, seed)
    learn = build_learner(df, splits, 'mitbih', a.arch, channels=tuple(a.inter_channels.split(',')), bs=a.bs, loss=a.inter_loss,
                          augment=True if a.inter_augment else None, seed=seed, runs_dir=tmp/'runs', monitor='recall_macro',
                          rhythm=rhythm, template=template, loss_kwargs=loss_settings(a.inter_loss, a.inter_weight_power),
                          weight_average=a.inter_weight_average, **a.arch_kwargs); quiet(learn)
    t = time.perf_counter(); fit(learn, a.inter_epochs, a.lr); secs = time.perf_counter() - t
    dl = learn.dls.test_dl(df.iloc[splits.test], with_labels=True)   # DS2: only now, once
    vi, ti = ECGInterpretation.from_learner(learn, progress=False), ECGInterpretation.from_learner(learn, dl=dl, progress=False)
    test = per_class(learn, dl)
    r = dict(seed=seed, rhythm=rhythm, window=window, leads=leads, template=template, protocol=splits.protocol, n_train=len(splits.train), n_valid=len(splits.valid),
             n_test=len(splits.test), train_seconds=round(secs, 1), valid=per_class(learn), test=test,
             test_f1_nsvf=f1_nsvf(ti), fitted_thresholds=fitted_thresholds(vi, ti))
    log(f"[inter seed {seed}{' rhythm' if rhythm else ''}{' template' if template else ''} {window} {leads} lead(s)] TEST (DS2) recall {fmt(test['recall'])}  precision "
        f"{fmt(test['precision'])}  F1 N,S,V,F {r['test_f1_nsvf']:.4f}  fitted on valid -> DS2: "
        + '; '.join(f"{c} recall {d.get('test_recall', float('nan')):.3f} (fitted {d.get('valid_recall', float('nan')):.3f}) precision "
                    f"{d.get('test_precision', float('nan')):.3f}" for c, d in r['fitted_thresholds'].items()))
    return r

def f1_nsvf(interp)->float:
    "Macro F1 over N, S, V and F (Q left out, as in the inter-patient literature)."
    from sklearn import metrics as skm
    labels = [interp.vocab.index(c) for c in 'NSVF' if c in interp.vocab]
    return float(skm.f1_score(interp.targs.numpy(), interp.preds.numpy(), labels=labels, average='macro', zero_division=0))

def fmt(d): return '{' + ', '.join(f"{k} {v:.3f}" for k, v in d.items()) + '}'

def median_over_seeds(runs)->dict:
    "The median over seeds of the test numbers (per class recall and precision, F1 over N,S,V,F, fitted-threshold results)."
    med = lambda xs: round(float(statistics.median(xs)), 4)
    out = dict(test_f1_nsvf=med([r['test_f1_nsvf'] for r in runs]), test_f1_macro=med([r['test']['f1_macro'] for r in runs]),
               test_recall={c: med([r['test']['recall'][c] for r in runs]) for c in runs[0]['test']['recall']},
               test_precision={c: med([r['test']['precision'][c] for r in runs]) for c in runs[0]['test']['precision']})
    out['fitted_thresholds'] = {c: {k: med([r['fitted_thresholds'][c][k] for r in runs]) for k in d if k not in ('error',)}
                                for c, d in runs[0]['fitted_thresholds'].items() if 'error' not in d}
    return out

ABLATION = [('beat only', dict()), ('+ rhythm', dict(rhythm=True)), ('+ P-wave window', dict(rhythm=True, window='pqrst')),
            ('+ template lead', dict(rhythm=True, window='pqrst', template=True)),
            ('+ second lead', dict(rhythm=True, window='pqrst', template=True, leads=2))]  # cumulative: each adds one thing to the one before

def task_inter(df, a, res, tmp):
    "DS1 train / held-out DS1 valid (best epoch, thresholds) / DS2 test, median over --seeds; or the --ablation on the first seed."
    from heartai.training import SettingError
    seeds = [int(s) for s in a.seeds.split(',')]
    base = dict(protocol="inter-patient: train DS1 minus held-out DS1 patients; valid = those patients (best epoch, thresholds); "
                         "test = DS2, predicted once", arch=a.arch, arch_kwargs=a.arch_kwargs, loss=a.inter_loss, weight_power=a.inter_weight_power, weight_average=a.inter_weight_average, channels=a.inter_channels,
                augment=a.inter_augment, epochs=a.inter_epochs, split_seed=a.split_seed, max_beats=a.max_beats)
    if a.ablation:
        rows = {}
        for name, kw in ABLATION:
            try: rows[name] = run_inter(a, seeds[0], tmp, **kw)
            except SettingError as e: rows[name] = dict(skipped=str(e), **kw); log(f"[ablation] {name}: skipped ({e})")
        res['inter_ablation'] = dict(base, seed=seeds[0], runs=rows)
        return
    kw = dict(rhythm=a.rhythm, window=a.window, leads=a.leads, template=a.template)
    runs = [run_inter(a, s, tmp, **kw) for s in seeds]
    res['inter'] = dict(base, **kw, seeds=seeds, median=median_over_seeds(runs), runs=runs)
    m = res['inter']['median']
    log(f"[inter] median of {len(seeds)} seed(s), TEST (DS2): recall {fmt(m['test_recall'])}  precision {fmt(m['test_precision'])}  "
        f"F1 N,S,V,F {m['test_f1_nsvf']:.4f}")

def task_ptb(a, res, tmp):
    from heartai.data.core import read_beats
    from heartai.data.physionet import split_random
    from heartai.training import build_learner, fit
    pre = tmp/'mitbih_model'
    if not (pre/'config.json').exists(): log("[ptb] needs the random task's model: run with --tasks random,ptb"); return
    df = read_beats(DATA/'heart_test.parquet', classes='ptb')
    splits = split_random(df, valid_pct=0.5, seed=0)   # a small training split: 1455 beats
    out = {}
    for name, kw in [('transfer', dict(pretrained=pre)), ('scratch', dict(arch=a.arch, **a.arch_kwargs))]:
        learn = build_learner(df, splits, 'ptb', bs=64, seed=0, runs_dir=tmp/'runs', **kw); quiet(learn)
        t = time.perf_counter()
        if name == 'transfer': fit(learn, a.ptb_epochs, a.lr, fine_tune=True, freeze_epochs=2)
        else: fit(learn, a.ptb_epochs + 2, a.lr)
        out[name] = dict(train_seconds=round(time.perf_counter() - t, 1), **per_class(learn))
        log(f"[ptb/{name}] recall abnormal {out[name]['recall']['abnormal']:.4f}  acc {out[name]['accuracy']:.4f}  "
            f"AUROC {out[name]['auroc']:.4f}")
    res['ptb'] = dict(protocol=splits.protocol + f"; {len(splits[0])} training beats", epochs=a.ptb_epochs, **out)

def task_speed(df, a, res, tmp):
    "One epoch (train + validation) through heartai vs a plain PyTorch loop; same model, batch size, torch Adam."
    from functools import partial
    from fastai.optimizer import OptimWrapper, Adam
    from heartai.data.block import ECGDataLoaders
    from heartai.data.physionet import split_random
    from heartai.learner import ecg_learner
    from heartai.models.core import create_model
    from heartai.core import SAMPLE_COLS, pick_device
    splits = split_random(df, valid_pct=0.2, seed=0)
    dev = pick_device()
    X = torch.tensor(df[SAMPLE_COLS].values, dtype=torch.float32)[:, None]; y = torch.tensor(df.target.values)
    tr = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[splits[0]], y[splits[0]]), batch_size=a.bs, shuffle=True, drop_last=True)
    va = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[splits[1]], y[splits[1]]), batch_size=a.bs * 2)
    def plain_epoch():
        torch.manual_seed(0); m = create_model(a.arch, 1, 5, **a.arch_kwargs).to(dev); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        t = time.perf_counter(); m.train()
        for xb, yb in tr:
            xb, yb = xb.to(dev), yb.to(dev); loss = F.cross_entropy(m(xb), yb); loss.backward(); opt.step(); opt.zero_grad()
        m.eval(); correct = 0
        with torch.no_grad():
            for xb, yb in va: correct += (m(xb.to(dev)).argmax(1) == yb.to(dev)).sum().item()
        return time.perf_counter() - t
    dls = ECGDataLoaders.from_df(df, splits=splits, bs=a.bs, classes='mitbih', seed=0)
    def heartai_epoch(opt_func):
        torch.manual_seed(0)
        learn = ecg_learner(dls, a.arch, runs_dir=tmp/'speed', opt_func=opt_func, **a.arch_kwargs)
        from fastai.callback.progress import ProgressCallback; learn.remove_cb(ProgressCallback)   # the plain loop has no bar either
        t = time.perf_counter(); learn.fit(1, 1e-3); return time.perf_counter() - t
    torch_adam = partial(OptimWrapper, opt=torch.optim.Adam)
    plain, hai, hai_fastai_adam = [], [], []
    for i in range(a.speed_runs):   # interleaved, so drift in machine load hits both alike
        plain.append(plain_epoch()); hai.append(heartai_epoch(torch_adam)); hai_fastai_adam.append(heartai_epoch(Adam))
        log(f"[speed] run {i}: plain {plain[-1]:.2f}s  heartai(torch Adam) {hai[-1]:.2f}s  heartai(fastai Adam) {hai_fastai_adam[-1]:.2f}s")
    med = lambda v: round(statistics.median(v), 2)
    res['speed'] = dict(arch=a.arch, arch_kwargs=a.arch_kwargs, bs=a.bs, train_beats=len(splits[0]), valid_beats=len(splits[1]), runs=a.speed_runs,
                        plain_seconds=plain, heartai_seconds=hai, heartai_fastai_adam_seconds=hai_fastai_adam,
                        median_plain=med(plain), median_heartai=med(hai), median_heartai_fastai_adam=med(hai_fastai_adam),
                        ratio=round(statistics.median(hai) / statistics.median(plain), 3),
                        ratio_fastai_adam=round(statistics.median(hai_fastai_adam) / statistics.median(plain), 3),
                        note="one epoch = training pass + validation pass; heartai also computes its recall-first metrics and writes checkpoints; progress bars off on both sides")
    log(f"[speed] median plain {med(plain)}s, heartai {med(hai)}s: ratio {res['speed']['ratio']} "
        f"(fastai Adam: {res['speed']['ratio_fastai_adam']})")

def apply_recipe(a):
    "Replace the settings of the task a recipe is made for with the recipe's (heartai.training.RECIPES)."
    from heartai.training import recipe
    r = recipe(a.recipe)
    a.arch, a.bs, a.lr, a.hp = r.get('arch', 'cnn1d'), r['bs'], r['lr'], [f'{k}={json.dumps(v)}' for k, v in (r.get('hp') or {}).items()]
    if r['split'] == 'interpatient':
        a.inter_loss, a.inter_channels, a.inter_augment, a.inter_epochs = r['loss'], ','.join(r['channels']), r['augment'], r['epochs']
        a.inter_weight_power, a.inter_weight_average = r.get('weight_power', 1.), r.get('weight_average')
        a.rhythm, a.window, a.template, a.leads = r['rhythm'], r['window'], r['template'], r.get('leads', 1)
    else: a.random_loss, a.random_augment, a.epochs, a.random_channels = r.get('loss', 'ce'), r['augment'], r['epochs'], ','.join(r.get('channels') or ['raw'])

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tasks', default='random,inter,ptb,speed')
    ap.add_argument('--arch', default='kachuee'); ap.add_argument('--bs', type=int, default=256); ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--epochs', type=int, default=20); ap.add_argument('--inter-epochs', type=int, default=10)
    ap.add_argument('--inter-loss', default='weighted_ce'); ap.add_argument('--inter-channels', default='raw')
    ap.add_argument('--inter-weight-power', type=float, default=1., help="inter: class weights ^ this power in the weighted loss")
    ap.add_argument('--inter-weight-average', type=float, default=None, help="inter: average the weights from this fraction of training on (default: none)")
    ap.add_argument('--inter-augment', action='store_true'); ap.add_argument('--ptb-epochs', type=int, default=8)
    ap.add_argument('--speed-runs', type=int, default=3); ap.add_argument('--out', default=None, help="results JSON (default bench/results/train.json; with --ablation train_inter_ablation.json)")
    ap.add_argument('--seeds', default='0,1,2', help="inter: training seeds; the median over them is reported with each seed's numbers")
    ap.add_argument('--split-seed', type=int, default=0, help="inter: seed of the choice of the held-out DS1 validation patients")
    ap.add_argument('--rhythm', action='store_true', help="random and inter: the rhythm side input (RR intervals from the records' R-peaks)")
    ap.add_argument('--window', default='kachuee', help="inter: beat window, kachuee or pqrst[:BEFORE:AFTER]")
    ap.add_argument('--leads', type=int, choices=(1, 2), default=1, help="inter: leads per beat")
    ap.add_argument('--template', action='store_true', help="inter: each lead minus its record's median beat as more leads")
    ap.add_argument('--recipe', help="a recipe of heartai.training.RECIPES: its settings for the tasks it is made for (inter: newpatients, random: random); other flags are ignored for those")
    ap.add_argument('--ablation', action='store_true', help="inter: beat only / + rhythm / + P-wave window / + template lead / + second lead, on the first seed")
    ap.add_argument('--max-beats', type=int, default=0, help="inter: at most this many beats per part (a quick check only; 0: all)")
    ap.add_argument('--random-loss', default='ce', help="random: the loss (a name in heartai.learner.LOSSES)")
    ap.add_argument('--random-augment', action='store_true', help="random: heartai's default train-time augmentation")
    ap.add_argument('--random-channels', default='raw', help="random: input channels, e.g. raw,d1")
    ap.add_argument('--wd', type=float, default=None, help="random: weight decay (default: fastai's)")
    ap.add_argument('--hp', action='append', default=[], metavar='KEY=VALUE', help="an architecture hyperparameter (repeatable), e.g. width=8")
    a = ap.parse_args()
    if a.recipe: apply_recipe(a)
    a.arch_kwargs = parse_hp(a.hp)
    a.out = a.out or str(OUT.with_name('train_inter_ablation.json') if a.ablation else OUT)
    if not (DATA/'mitdb').is_dir(): log(f"skipped: real data not found at {DATA}"); return 0
    tasks = a.tasks.split(',')
    res = dict(machine=dict(platform=platform.platform(), cpus=os.cpu_count(), torch=torch.__version__, threads=torch.get_num_threads(),
                            device=str(__import__('heartai.core', fromlist=['pick_device']).pick_device())),
               args=vars(a), started=time.strftime('%Y-%m-%d %H:%M:%S'))
    tmp = Path(tempfile.mkdtemp(prefix='heartai-bench-'))
    df = mitbih_beats() if set(tasks) & {'random', 'speed'} else None
    for t in tasks:
        {'random': lambda: task_random(df, a, res, tmp), 'inter': lambda: task_inter(df, a, res, tmp),
         'ptb': lambda: task_ptb(a, res, tmp), 'speed': lambda: task_speed(df, a, res, tmp)}[t]()
        out = Path(a.out)
        old = json.loads(out.read_text()) if out.exists() else {}
        write_json(out, {**old, **res})     # keep other tasks' earlier results
    log(f"results: {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
