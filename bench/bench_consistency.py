#!/usr/bin/env python
"""Is it an ECG at all? The per-record QRS consistency of `heartai.inference` on real records and on noise.

For each of the 48 MIT-BIH Arrhythmia records (reference R-peaks, `window='kachuee'`, the first lead) and for three
two-minute noise records (white, brown with its slow drift removed, amplitude-modulated white; R-peaks from XQRS, as for
any record without annotations) it reports the median over the record's beats of `qrs_consistency`: the correlation of
the 0.25 s after each R-peak with the same span of the record's median beat. The threshold `MIN_CONSISTENCY` must sit
between the lowest real record and the highest noise record.

Results: bench/results/consistency.json. Needs ../shared/data for the real records (the noise part runs without it).
MIT-BIH: Moody & Mark (2001), PhysioNet (Goldberger et al. 2000), ODC-By."""
import sys, tempfile, warnings
from pathlib import Path
import numpy as np, pandas as pd
from _results import write_json, ROOT, DATA

OUT = ROOT/'bench'/'results'/'consistency.json'

def medians(df)->dict:
    "Median `qrs_consistency` of each record of the beats table `df`."
    from heartai.core import SAMPLE_COLS
    from heartai.inference import qrs_consistency
    rec = df.record.astype(str).to_numpy()
    return {r: round(float(v), 4) for r, v in pd.Series(qrs_consistency(df[SAMPLE_COLS].to_numpy(), rec)).groupby(rec).median().items()}

def noise_records(d:Path, seconds=120, fs=360):
    "Three noise records written as WFDB into `d`."
    import wfdb
    rng, n = np.random.default_rng(0), seconds * fs
    brown = np.cumsum(rng.normal(0, 0.02, n)); brown -= np.convolve(brown, np.ones(fs) / fs, 'same')
    for name, x in dict(white=rng.normal(0, 0.3, n), brown=brown, modulated=rng.normal(0, 0.3, n) * (1 + np.sin(np.arange(n) / 200))).items():
        wfdb.wrsamp(name, fs=fs, units=['mV'], sig_name=['MLII'], p_signal=x[:, None], fmt=['212'], write_dir=str(d))

def main():
    from heartai.data.physionet import beats_from_records
    from heartai.inference import MIN_CONSISTENCY
    res = dict(threshold=MIN_CONSISTENCY, protocol="median over a record's beats of qrs_consistency (0.25 s after the R-peak vs the record's median beat), first lead, window 'kachuee'")
    if (DATA/'mitdb').is_dir():
        real = medians(beats_from_records(DATA/'mitdb', progress=False))
        res['mitdb'] = dict(records=real, lowest=min(real.items(), key=lambda kv: kv[1]), below_threshold=[r for r, v in real.items() if v < MIN_CONSISTENCY])
        print(f"MIT-BIH: lowest {res['mitdb']['lowest']}; below {MIN_CONSISTENCY}: {res['mitdb']['below_threshold']}")
    else: print(f"real data not found at {DATA}: noise only")
    d = Path(tempfile.mkdtemp(prefix='heartai-noise-'))
    noise_records(d)
    with warnings.catch_warnings(): warnings.simplefilter('ignore'); nb = beats_from_records(d, progress=False)
    res['noise'] = dict(records=medians(nb), beats=nb.groupby('record').size().to_dict())
    res['noise']['highest'] = max(res['noise']['records'].items(), key=lambda kv: kv[1])
    print(f"noise: {res['noise']['records']} (beats found by XQRS: {res['noise']['beats']})")
    write_json(OUT, res)
    return 0

if __name__ == '__main__': sys.exit(main())
