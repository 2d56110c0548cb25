#!/usr/bin/env python
"""Benchmark the published-file window: `beats_from_records` (window='kachuee', heartai's default since CODE_VERSION 3) on the
48 MIT-BIH records against the published Kaggle sample beats (issue 17), with heartai's default lead ('auto': MLII where a
record has it) and with lead='first' (the published files' choice, = `published_beats_from_records`).

Builds both tables cold (cache=False; --runs builds of the default, median reported), checks the per-class counts against
the published files (train + test), and matches the 500 beats of kaggle_sample/mitbih_train_sample.csv with
`match_published` (nearest-neighbour RMS per sample, exact matches, label agreement; per record of the source for the
default lead). 'before' is the window heartai used before CODE_VERSION 3 (the paper's text, MLII at 125 Hz): those numbers
are kept from the earlier run in the results file (its code no longer exists). Writes bench/results/published.json
atomically and prints a short table. Exits 0 with a message when the data is absent. Nothing is asserted here: the exact
reproduction is a `slow` test in nbs/06_data.published.ipynb.

Usage: python bench/bench_published.py [--data DIR] [--runs 1] [--out bench/results/published.json]
"""
import argparse, json, os, platform, statistics, sys, time
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

def _machine():
    import numpy, pandas, scipy, torch, wfdb
    return dict(platform=platform.platform(), processor=platform.processor() or platform.machine(), cpu_count=os.cpu_count(),
                loadavg_1min=round(os.getloadavg()[0], 2) if hasattr(os, 'getloadavg') else None,
                python=platform.python_version(), numpy=numpy.__version__, pandas=pandas.__version__,
                scipy=scipy.__version__, torch=torch.__version__, wfdb=wfdb.__version__)

def _measure(pub, df, runs, source=None):
    from heartai.data.published import match_published
    t = time.perf_counter(); m = match_published(pub, df); t_match = time.perf_counter() - t
    src = df.record.to_numpy()[m['per_beat'].nearest] if source is None else source   # the record each published beat comes from
    inexact = {str(k): int(v) for k, v in m['per_beat'].assign(record=src)[lambda d: ~d.exact].record.value_counts().items()}
    return dict(n_beats=len(df), n_records=int(df.record.nunique()), counts=_counts(df), counts_equal_published=_counts(df) == KAGGLE,
                lead_by_record={r: l for r, l in df.groupby('record').lead.first().items() if l != 'MLII'},
                build_s=dict(runs=[round(x, 3) for x in runs], median=round(statistics.median(runs), 3)),
                match=_summary(m), match_s=round(t_match, 3), inexact_by_source_record=inexact), src

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', type=Path, default=ROOT.parent/'shared'/'data', help="directory holding mitdb/ and kaggle_sample/")
    ap.add_argument('--runs', type=int, default=1, help="cold builds of the default table to time (median reported)")
    ap.add_argument('--out', type=Path, default=ROOT/'bench'/'results'/'published.json', help="results file (JSON)")
    a = ap.parse_args(argv)
    mitdb, sample = a.data/'mitdb', a.data/SAMPLE
    if not (mitdb/'RECORDS').is_file() or not sample.is_file():
        print(f"skipped: no MIT-BIH records ({mitdb}/RECORDS) or published sample ({sample})"); return 0
    before = None
    if a.out.is_file():
        old = json.loads(a.out.read_text())
        before = old.get('before')
    t0 = time.perf_counter()
    from heartai.data.core import read_beats
    from heartai.data.physionet import beats_from_records, CODE_VERSION
    from heartai.data.published import PUBLISHED_FS
    t_import = time.perf_counter() - t0
    pub = read_beats(sample, classes='mitbih')
    res = dict(benchmark='published-file window (beats_from_records defaults) on the 48 MIT-BIH records vs the published Kaggle sample (issue 17)',
               date=datetime.now(timezone.utc).isoformat(timespec='seconds'), data=str(a.data.resolve()), sample=SAMPLE,
               code_version=CODE_VERSION, n_published=len(pub), beat_fs_hz=PUBLISHED_FS, import_s=round(t_import, 3), published_counts=KAGGLE)
    source = None
    for key, lead, runs in (('lead_first', 'first', 1), ('default', 'auto', a.runs)):   # lead 'first' matches all exactly: it names the sources
        times = []
        for i in range(runs):
            t = time.perf_counter(); df = beats_from_records(mitdb, lead=lead, cache=False, progress=False); times.append(time.perf_counter() - t)
            print(f"beats_from_records(lead={lead!r}) cold build {i+1}/{runs}: {times[-1]:.2f} s ({len(df)} beats)", flush=True)
        r, src = _measure(pub, df, times, source)
        source = src if source is None else source
        res[key] = dict(method=f"heartai.data.physionet.beats_from_records(lead={lead!r}) (window='kachuee', detector='auto')", **r)
    if before is not None:
        res['before'] = {**before, 'note': "kept from the run before CODE_VERSION 3 (window of the paper's text, MLII, 125 Hz); not re-measured"}
    res['machine'] = _machine()
    write_json(a.out, res)
    rows = [(k, res[k]) for k in ('default', 'lead_first', 'before') if k in res]
    print(f"\n{'extraction':14}{'beats':>8}{'q05':>10}{'q50':>10}{'q95':>10}{'exact':>9}{'label agr.':>11}{'build s':>9}")
    for name, r in rows:
        m = r['match']; b = r['build_s']['median'] if isinstance(r['build_s'], dict) else r['build_s']
        print(f"{name:14}{r['n_beats']:>8}{m['rms_q05']:>10.3g}{m['rms_q50']:>10.3g}{m['rms_q95']:>10.3g}"
              f"{m['exact']:>5}/{m['n']:<3}{m['label_agreement']:>11.1%}{b:>9.2f}")
    for k in ('default', 'lead_first'):
        print(f"{k}: counts {res[k]['counts']} ({'equal to' if res[k]['counts_equal_published'] else 'DIFFERENT from'} the published), "
              f"inexact by source record {res[k]['inexact_by_source_record']}")
    print(f"written: {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
