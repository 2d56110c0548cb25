#!/usr/bin/env python
"""Where does the `newpatients` recipe err on new patients? Its out-of-fold errors by record, inside MIT-BIH DS1 only (issue 14).

The recipe is cross-validated exactly as in bench_select.py (4 patient folds of DS1, StratifiedGroupKFold by record,
seed 0; each fold scored by the last epoch of a model trained on the other folds), with one training seed (--seed). For
each DS1 record: its beats, its S beats and how many were found, the normal beats called S or V, the V beats missed, and
the median of `rr_local_cv` (the irregularity of the 10 RR intervals before a beat: bench_select.add_irregularity), which
is high in atrial fibrillation. Also the median `rr_local_cv` and `rr_pre_local` of the true S beats and of the normal
beats called S. DS2 is never read. This measurement motivated bench_select.py's fourteenth candidate.

Results: bench/results/errors_ds1.json. Needs ../shared/data; exits 0 with a message if absent.
MIT-BIH: Moody & Mark (2001), PhysioNet (Goldberger et al. 2000), ODC-By."""
import argparse, sys, tempfile
from pathlib import Path
from _results import write_json
from bench_select import DATA, CANDIDATES, CHOSEN, oof_scores, run_candidate, ds1_beats, log

OUT = Path(__file__).resolve().parent/'results'/'errors_ds1.json'

def by_record(df, pred)->dict:
    "Per DS1 record: beats, S beats found, normal beats called S or V, V beats missed and the median rr_local_cv."
    d = df.assign(pred=pred)
    f = lambda g, t, p: int(((g.target == t) & (g.pred == p)).sum())
    return {str(r): dict(beats=len(g), S=int((g.target == 1).sum()), S_found=f(g, 1, 1), N_called_S=f(g, 0, 1), N_called_V=f(g, 0, 2),
                         V_missed=int(((g.target == 2) & (g.pred != 2)).sum()), rr_local_cv=round(float(g.rr_local_cv.median()), 3))
            for r, g in d.groupby(d.record.astype(str))}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--out', default=str(OUT))
    a = ap.parse_args()
    if not (DATA/'mitdb').is_dir(): log(f"skipped: real data not found at {DATA}"); return 0
    from heartai.training import recipe
    r, kw = recipe('newpatients'), dict(CANDIDATES)[CHOSEN]
    y, pred, folds = run_candidate(kw, r, argparse.Namespace(k=4, split_seed=0), Path(tempfile.mkdtemp(prefix='heartai-err-')), a.seed)
    df = ds1_beats(kw['window'], irregularity=True)   # the same beats, in the same order, with the irregularity columns
    assert (df.target.to_numpy() == y).all()
    recs = by_record(df, pred)
    fs, ts = df[(y == 0) & (pred == 1)], df[y == 1]
    n_fs = sum(v['N_called_S'] for v in recs.values())
    top = sorted(recs, key=lambda k: -recs[k]['N_called_S'])[:2]
    res = dict(protocol="patient-wise 4-fold cross-validation inside MIT-BIH DS1 (folds of bench_select.py); last epoch; "
                        "out-of-fold decisions; DS2 never read", candidate=CHOSEN, seed=a.seed, folds=folds, **oof_scores(y, pred),
               records=recs, normal_called_S=n_fs, top_records_normal_called_S=top,
               share_top=round(sum(recs[k]['N_called_S'] for k in top) / max(n_fs, 1), 3),
               median_rr_local_cv=dict(true_S=float(ts.rr_local_cv.median()), normal_called_S=float(fs.rr_local_cv.median())),
               median_rr_pre_local=dict(true_S=float(ts.rr_pre_local.median()), normal_called_S=float(fs.rr_pre_local.median())))
    write_json(Path(a.out), res)
    log(f"normal beats called S: {n_fs}, of them {res['share_top']:.0%} in records {', '.join(top)}; results: {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
