#!/usr/bin/env python
"""Benchmark `heartai.data.physionet.beats_from_records` on the 48 MIT-BIH records.

Builds the beats table (defaults: the published-file window, lead 'auto', rhythm features) from ../shared/data/mitdb (or
--src) in a fresh temporary HEARTAI_HOME: the cold build (cache cleared before each of --runs runs; median reported) and the
cached second call (which hashes the records' bytes for the key and checks the cache file's digest), plus the cost of the
content key alone (SHA-256 of the 48 records' files). Writes counts per class, DS1/DS2 counts, timings and machine info to
bench/results/data.json (the previous results are kept under 'before') and prints a short table.
Targets (reported, not asserted): cold <= 30 s on 2 cores, cached < 2 s. Exits 0 with a message when the data is absent.

Usage: python bench/bench_data.py [--src DIR] [--runs 3] [--workers N] [--out bench/results/data.json]
"""
import argparse, json, os, platform, shutil, statistics, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path
from _results import write_json

ROOT = Path(__file__).resolve().parents[1]
TARGETS = dict(cold_s=30.0, cached_s=2.0)
DE_CHAZAL = dict(DS1=dict(N=45866, S=944, V=3788, F=414, Q=8), DS2=dict(N=44259, S=1837, V=3221, F=388, Q=7))
KAGGLE = dict(N=90589, S=2779, V=7236, F=803, Q=8039)  # Kachuee et al. 2018 published beat files (train + test)

def _counts(df, idx=None):
    from heartai.core import MITBIH
    t = df.target if idx is None else df.target.iloc[idx]
    vc = t.map(MITBIH.code).value_counts()
    return {c: int(vc.get(c, 0)) for c in MITBIH.codes}

def _machine():
    import numpy, pandas, scipy, wfdb
    return dict(platform=platform.platform(), processor=platform.processor() or platform.machine(),
                cpu_count=os.cpu_count(), usable_cpus=len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else None,
                python=platform.python_version(), numpy=numpy.__version__, pandas=pandas.__version__,
                scipy=scipy.__version__, wfdb=wfdb.__version__)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--src', type=Path, default=ROOT.parent/'shared'/'data'/'mitdb', help="directory of the 48 MIT-BIH records")
    ap.add_argument('--runs', type=int, default=3, help="cold builds to time (median reported)")
    ap.add_argument('--workers', type=int, default=None, help="worker processes (default: min(CPUs, records))")
    ap.add_argument('--out', type=Path, default=ROOT/'bench'/'results'/'data.json', help="results file (JSON)")
    a = ap.parse_args(argv)
    if not (a.src/'RECORDS').is_file() and not any(a.src.glob('*.hea')):
        print(f"skipped: no MIT-BIH records at {a.src}"); return 0
    old_home = os.environ.get('HEARTAI_HOME')
    with tempfile.TemporaryDirectory(prefix='heartai-bench-') as home:
        os.environ['HEARTAI_HOME'] = home
        try:
            from heartai.core import cache_dir
            from heartai.data.physionet import beats_from_records, split_interpatient
            cold = []
            for i in range(a.runs):
                shutil.rmtree(cache_dir('beats'), ignore_errors=True)
                t = time.perf_counter(); df = beats_from_records(a.src, n_workers=a.workers, progress=False)
                cold.append(time.perf_counter() - t)
                print(f"cold run {i+1}/{a.runs}: {cold[-1]:.2f} s ({len(df)} beats)", flush=True)
            t = time.perf_counter(); df2 = beats_from_records(a.src, n_workers=a.workers, progress=False)
            cached = time.perf_counter() - t
            from heartai.data.physionet import _cache_key, _find_records
            from heartai.core import sha256
            root, recs = _find_records(a.src, None)
            keys = []
            for _ in range(3):
                t = time.perf_counter(); _cache_key(root, recs, {}); keys.append(time.perf_counter() - t)
            n_bytes = sum(f.stat().st_size for r in recs for f in root.glob(f'{r}.*') if f.is_file())
            fn = next(cache_dir('beats').glob('*.parquet'))
            t = time.perf_counter(); sha256(fn); t_digest = time.perf_counter() - t; cache_bytes = fn.stat().st_size
            if df2.shape != df.shape: raise RuntimeError(f"cached table has shape {df2.shape}, built table {df.shape}")
        finally:
            if old_home is None: os.environ.pop('HEARTAI_HOME', None)
            else: os.environ['HEARTAI_HOME'] = old_home
    s = split_interpatient(df)
    before = json.loads(a.out.read_text()) if a.out.is_file() else None
    if before is not None: before.pop('before', None)
    from heartai.data.physionet import CODE_VERSION
    res = dict(
        benchmark="beats_from_records defaults on MIT-BIH (48 records, window 'kachuee' = published files, lead 'auto', reference annotations, rhythm)",
        code_version=CODE_VERSION, beat_fs_hz=df.attrs.get('fs'), skipped=df.attrs.get('skipped'),
        date=datetime.now(timezone.utc).isoformat(timespec='seconds'), src=str(a.src.resolve()),
        n_records=int(df.record.nunique()), n_beats=len(df), counts=_counts(df), kaggle_counts=KAGGLE,
        ds1=_counts(df, s.train.tolist() + s.valid.tolist()), ds2=_counts(df, s.test), de_chazal=DE_CHAZAL,
        de_chazal_note="de Chazal's counts include each record's last beat, which the published-file window leaves out (22 per DS)",
        workers=a.workers or min(os.cpu_count() or 1, int(df.record.nunique())),
        cold_s=dict(runs=[round(x, 3) for x in cold], median=round(statistics.median(cold), 3)),
        cached_s=round(cached, 3), content_key_s=dict(runs=[round(x, 3) for x in keys], median=round(statistics.median(keys), 3),
                                                      bytes_hashed=n_bytes), cache_digest_s=round(t_digest, 3),
        cache_file_bytes=cache_bytes, targets=TARGETS,
        meets_targets=dict(cold=statistics.median(cold) <= TARGETS['cold_s'], cached=cached < TARGETS['cached_s']),
        machine=_machine(), before=before)
    write_json(a.out, res)
    print(f"\n{'class':6}{'all':>8}{'Kaggle':>8}{'DS1':>8}{'deC DS1':>9}{'DS2':>8}{'deC DS2':>9}")
    for c in res['counts']:
        print(f"{c:6}{res['counts'][c]:>8}{KAGGLE[c]:>8}{res['ds1'][c]:>8}{DE_CHAZAL['DS1'][c]:>9}{res['ds2'][c]:>8}{DE_CHAZAL['DS2'][c]:>9}")
    print(f"\ncold build: median {res['cold_s']['median']:.2f} s of {a.runs} (target <= {TARGETS['cold_s']:.0f} s), "
          f"cached: {cached:.2f} s (target < {TARGETS['cached_s']:.0f} s), {res['workers']} workers, "
          f"{res['machine']['cpu_count']} CPUs; content key {res['content_key_s']['median']:.2f} s for "
          f"{n_bytes/1e6:.0f} MB, cache digest {t_digest:.2f} s\nwritten: {a.out}")
    return 0

if __name__ == '__main__': sys.exit(main())
