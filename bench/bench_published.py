#!/usr/bin/env python
"""Benchmark `heartai.data.published`: published-format beats of the 48 MIT-BIH records, and how closely they match the
published Kaggle sample beats (issue 17), before (heartai's Kachuee-style `beats_from_records`) and after.

Builds `published_beats_from_records` on ../shared/data/mitdb (or --data DIR/mitdb) in this fresh process (cold: no cache
exists for it; --runs builds, median reported), checks the per-class counts against the published files (train + test),
and matches the 500 beats of kaggle_sample/mitbih_train_sample.csv with `match_published` (nearest-neighbour RMS per
sample, exact matches, label agreement). For the comparison it builds heartai's default `beats_from_records` (cold, in a
temporary HEARTAI_HOME) and matches it the same way, plus the distance of heartai's beat at the very annotation each
published beat comes from. Writes bench/results/published.json atomically and prints a short table.
Exits 0 with a message when the data is absent. Nothing is asserted here: the exact reproduction is a `slow` test in
nbs/06_data.published.ipynb.

Usage: python bench/bench_published.py [--data DIR] [--runs 1] [--no-baseline] [--out bench/results/published.json]
"""
import argparse, os, platform, statistics, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path
from _results import write_json

ROOT = Path(__file__).resolve().parents[1]
KAGGLE = dict(N=90589, S=2779, V=7236, F=803, Q=8039)  # published beat files, train + test
SAMPLE = 'kaggle_sample/mitbih_train_sample.csv'

def _counts(df):
    from heartai.core import MITBIH
    vc = df.target.map(MITBIH.code).value_counts()
    return {c: int(vc.get(c, 0)) for c in MITBIH.codes}

def _summary(r): return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items() if k != 'per_beat'}

def _paired(pub, ours, keys):
    "RMS per sample between each published beat and the beat of `ours` at the same (record, annotation), where it exists."
    import numpy as np
    from heartai.core import SAMPLE_COLS
    pos = {k: i for i, k in enumerate(zip(ours.record.astype(str), ours.rpeak.astype(int)))}
    i = np.array([pos.get(k, -1) for k in keys]); ok = i >= 0
    d = np.sqrt(((ours[SAMPLE_COLS].to_numpy(np.float64)[i[ok]] - pub[SAMPLE_COLS].to_numpy(np.float64)[ok])**2).mean(1))
    q = {f'rms_q{p:02d}': round(float(np.percentile(d, p)), 6) for p in (5, 25, 50, 75, 95)} if len(d) else {}
    return dict(n_found=int(ok.sum()), **q)

def _machine():
    import numpy, pandas, scipy, torch, wfdb
    return dict(platform=platform.platform(), processor=platform.processor() or platform.machine(), cpu_count=os.cpu_count(),
                loadavg_1min=round(os.getloadavg()[0], 2) if hasattr(os, 'getloadavg') else None,
                python=platform.python_version(), numpy=numpy.__version__, pandas=pandas.__version__,
                scipy=scipy.__version__, torch=torch.__version__, wfdb=wfdb.__version__)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', type=Path, default=ROOT.parent/'shared'/'data', help="directory holding mitdb/ and kaggle_sample/")
    ap.add_argument('--runs', type=int, default=1, help="cold builds of the published-format beats to time (median reported)")
    ap.add_argument('--no-baseline', action='store_true', help="skip heartai's beats_from_records (the 'before' numbers)")
    ap.add_argument('--out', type=Path, default=ROOT/'bench'/'results'/'published.json', help="results file (JSON)")
    a = ap.parse_args(argv)
    mitdb, sample = a.data/'mitdb', a.data/SAMPLE
    if not (mitdb/'RECORDS').is_file() or not sample.is_file():
        print(f"skipped: no MIT-BIH records ({mitdb}/RECORDS) or published sample ({sample})"); return 0
    t0 = time.perf_counter()
    from heartai.data.core import read_beats
    from heartai.data.published import published_beats_from_records, match_published, PUBLISHED_FS
    t_import = time.perf_counter() - t0
    pub = read_beats(sample, classes='mitbih')
    runs = []
    for i in range(a.runs):
        t = time.perf_counter(); df = published_beats_from_records(mitdb, progress=False); runs.append(time.perf_counter() - t)
        print(f"published-format build {i+1}/{a.runs}: {runs[-1]:.2f} s ({len(df)} beats)", flush=True)
    t = time.perf_counter(); after = match_published(pub, df); t_match = time.perf_counter() - t
    keys = list(zip(df.record.astype(str).to_numpy()[after['per_beat'].nearest], df.rpeak.to_numpy()[after['per_beat'].nearest].astype(int)))
    res = dict(
        benchmark='published-format beats of the 48 MIT-BIH records vs the published Kaggle sample (issue 17)',
        date=datetime.now(timezone.utc).isoformat(timespec='seconds'), data=str(a.data.resolve()), sample=SAMPLE,
        n_published=len(pub), beat_fs_hz=PUBLISHED_FS,
        after=dict(method='heartai.data.published.published_beats_from_records', n_beats=len(df), n_records=int(df.record.nunique()),
                   counts=_counts(df), counts_equal_published=_counts(df) == KAGGLE,
                   build_s=dict(runs=[round(x, 3) for x in runs], median=round(statistics.median(runs), 3), import_s=round(t_import, 3)),
                   match=_summary(after), match_s=round(t_match, 3),
                   nearest_records=int(len(set(k[0] for k in keys)))),
        published_counts=KAGGLE)
    if not a.no_baseline:
        old = os.environ.get('HEARTAI_HOME')
        with tempfile.TemporaryDirectory(prefix='heartai-bench-') as home:
            os.environ['HEARTAI_HOME'] = home
            try:
                from heartai.data.physionet import beats_from_records
                t = time.perf_counter(); hb = beats_from_records(mitdb, progress=False); t_hb = time.perf_counter() - t
            finally:
                if old is None: os.environ.pop('HEARTAI_HOME', None)
                else: os.environ['HEARTAI_HOME'] = old
        hl = hb[hb.target >= 0].reset_index(drop=True)
        res['before'] = dict(method="heartai.data.physionet.beats_from_records (defaults: Kachuee-style, MLII, 125 Hz)",
                             n_beats=len(hl), counts=_counts(hl), build_s=round(t_hb, 3), match=_summary(match_published(pub, hl)),
                             same_annotation=_paired(pub, hl, keys))
    res['machine'] = _machine()
    write_json(a.out, res)
    rows = [('after (published rule)', res['after'])] + ([('before (beats_from_records)', res['before'])] if 'before' in res else [])
    print(f"\n{'extraction':28}{'beats':>8}{'q05':>10}{'q50':>10}{'q95':>10}{'exact':>9}{'label agr.':>11}{'build s':>9}")
    for name, r in rows:
        m = r['match']; b = r['build_s']['median'] if isinstance(r['build_s'], dict) else r['build_s']
        print(f"{name:28}{r['n_beats']:>8}{m['rms_q05']:>10.3g}{m['rms_q50']:>10.3g}{m['rms_q95']:>10.3g}"
              f"{m['exact']:>5}/{m['n']:<3}{m['label_agreement']:>11.1%}{b:>9.2f}")
    print(f"counts {res['after']['counts']} (published {KAGGLE}: {'equal' if res['after']['counts_equal_published'] else 'DIFFERENT'})")
    if 'before' in res: print(f"before, beat at the same annotation: {res['before']['same_annotation']}")
    print(f"written: {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
