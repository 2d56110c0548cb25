#!/usr/bin/env python
"""Which rhythm columns carry over to new patients? A quick probe on MIT-BIH DS1 alone (issue 14), no network trained.

A gradient-boosting classifier (scikit-learn's HistGradientBoostingClassifier, balanced class weights) sees the rhythm
columns of each beat and nothing else. It is scored by patient-wise 4-fold cross-validation inside DS1, with the folds of
bench_select.py (paced records left out; StratifiedGroupKFold by record, seed 0); out-of-fold decisions are pooled and
scored by the macro F1 over N, S, V, F. DS2 is never read. Column sets: the 11 columns before the irregularity columns
were added; the unit-free ones only (bench_select.RELATIVE_RR); the unit-free ones plus the two intervals in seconds; and,
added later, the unit-free ones plus the two irregularity columns (rr_local_cv, rr_local_msd; bench_select.add_irregularity),
and the 11 plus those two.

It only motivates a candidate: what the recipe uses is chosen by bench_select.py with the network itself.
Results: bench/results/probe_rhythm.json. Needs ../shared/data; exits 0 with a message if absent.
MIT-BIH: Moody & Mark (2001), PhysioNet (Goldberger et al. 2000), ODC-By."""
import sys, time
from pathlib import Path
import numpy as np
from _results import write_json
from bench_select import DATA, RELATIVE_RR, IRREGULARITY, ds1_beats, oof_scores, log

OUT = Path(__file__).resolve().parent/'results'/'probe_rhythm.json'

def main():
    if not (DATA/'mitdb').is_dir(): log(f"skipped: real data not found at {DATA}"); return 0
    from sklearn.ensemble import HistGradientBoostingClassifier
    from heartai.data.physionet import split_patient_kfold
    from heartai.data.windows import RHYTHM_COLS
    df = ds1_beats('kachuee', irregularity=True); y = df.target.to_numpy()
    folds = [split_patient_kfold(df, k=4, fold=f, seed=0, three_way=False) for f in range(4)]   # the same folds for every column set
    sets = {'all 11 columns': list(RHYTHM_COLS), 'unit-free only': list(RELATIVE_RR),
            'unit-free + rr_pre, rr_post': [*RELATIVE_RR, 'rr_pre', 'rr_post'], 'unit-free + irregularity': [*RELATIVE_RR, *IRREGULARITY],
            'all 13 columns': [*RHYTHM_COLS, *IRREGULARITY]}
    res = dict(protocol="patient-wise 4-fold cross-validation inside MIT-BIH DS1 (folds of bench_select.py); gradient boosting "
                        "on rhythm columns only; out-of-fold decisions pooled; DS2 never read", results={})
    for name, cols in sets.items():
        X, pred, t = df[cols].to_numpy(np.float32), np.full(len(df), -1), time.perf_counter()
        for s in folds:
            m = HistGradientBoostingClassifier(max_iter=200, class_weight='balanced', random_state=0).fit(X[s.train], y[s.train])
            pred[s.valid] = m.predict(X[s.valid])
        res['results'][name] = dict(columns=cols, **oof_scores(y, pred))
        r = res['results'][name]
        log(f"{name}: F1 N,S,V,F {r['f1_nsvf']:.3f}; recall S {r['recall']['S']:.3f}, V {r['recall']['V']:.3f} ({time.perf_counter() - t:.0f} s)")
    write_json(OUT, res)
    return 0

if __name__ == '__main__': sys.exit(main())
