#!/usr/bin/env python
"""What would an ensemble over training seeds give new patients? A measurement inside MIT-BIH DS1 only (issue 14).

The `newpatients` recipe is cross-validated exactly as in bench_select.py (4 patient folds of DS1, StratifiedGroupKFold by
record, seed 0; each fold scored by the last epoch of a model trained on the other folds) with each training seed of
--seeds; the out-of-fold class probabilities are kept. Reported: each seed's pooled out-of-fold macro F1 over N, S, V, F
(the same numbers as bench_select.py's chosen candidate when training is deterministic) and the F1 of the ensemble that
averages the seeds' probabilities. DS2 is never read.

This is not a recipe candidate: heartai exports one model per run, so an ensemble is not something `heartai train` can
produce yet. It measures whether building that is worth it.
Results: bench/results/ensemble_ds1.json. Needs ../shared/data; exits 0 with a message if absent.
MIT-BIH: Moody & Mark (2001), PhysioNet (Goldberger et al. 2000), ODC-By."""
import argparse, sys, tempfile, time
from pathlib import Path
import numpy as np
from _results import write_json
from bench_select import DATA, CANDIDATES, CHOSEN, oof_scores, run_candidate, log

OUT = Path(__file__).resolve().parent/'results'/'ensemble_ds1.json'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', default='0,1,2'); ap.add_argument('--out', default=str(OUT))
    a = ap.parse_args()
    if not (DATA/'mitdb').is_dir(): log(f"skipped: real data not found at {DATA}"); return 0
    from heartai.training import recipe
    r, kw = recipe('newpatients'), dict(CANDIDATES)[CHOSEN]
    args = argparse.Namespace(k=4, split_seed=0)
    tmp, seeds, probs = Path(tempfile.mkdtemp(prefix='heartai-ens-')), [int(s) for s in a.seeds.split(',')], []
    res = dict(protocol="patient-wise 4-fold cross-validation inside MIT-BIH DS1 (folds of bench_select.py); last epoch; out-of-fold "
                        "probabilities pooled; ensemble = mean of the seeds' probabilities; DS2 never read", candidate=CHOSEN, seeds={})
    for seed in seeds:
        t = time.perf_counter()
        y, pred, folds, P = run_candidate(kw, r, args, tmp, seed, with_probs=True)
        probs.append(P); res['seeds'][str(seed)] = dict(seconds=round(time.perf_counter() - t), **oof_scores(y, pred))
        log(f"seed {seed}: F1 N,S,V,F {res['seeds'][str(seed)]['f1_nsvf']:.4f}")
        write_json(Path(a.out), res)
    ens = np.mean(probs, 0).argmax(1)
    res['ensemble'] = oof_scores(y, ens)
    res['median_single'] = float(np.median([v['f1_nsvf'] for v in res['seeds'].values()]))
    log(f"ensemble of seeds {seeds}: F1 N,S,V,F {res['ensemble']['f1_nsvf']:.4f} (median single seed {res['median_single']:.4f})")
    write_json(Path(a.out), res)
    return 0

if __name__ == '__main__': sys.exit(main())
