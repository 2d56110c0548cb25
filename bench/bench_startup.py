#!/usr/bin/env python
"""How fast does the `heartai` command start? Whole processes, start to exit: `heartai --help` and `heartai predict` on one record.

Measured, median of --runs runs each, every run a new process (the `heartai` console script beside this Python, else
`python -m heartai.cli`):

(a) `heartai --help`;
(b) `heartai -q predict RUN RECORD -o out.csv --force` on one 30-minute MIT-BIH record (default: record 100 of the shared
    data), its beats table already in heartai's cache (a first, cold run fills the cache; it is reported on its own);
(c) once each, the same commands under `python -X importtime`: the total import time and the slowest imports (cumulative).

RUN is an exported model or run directory (default: a tiny cnn1d, `heartai train` 1 epoch on 400 synthetic beats, as
the issue's baseline). `--before REV` measures the heartai package of git revision REV the same way (its files taken
with `git archive`), so one run gives before and after on the same machine at the same load. The machine's load average
is recorded: on a shared machine every number is slower, and only the ratio of before and after is comparable.
Results go to bench/results/cli_startup.json (an existing file is kept unless --overwrite).

    .venv/bin/python bench/bench_startup.py [--before b866eab] [--runs 3] [--run RUN] [--record PATH] [--overwrite]
"""
import argparse, os, platform, re, shutil, statistics, subprocess, sys, tarfile, tempfile, time, io
from pathlib import Path
from _results import write_json, claim_output

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT.parent/'shared'/'data'/'mitdb'/'100'

def command()->list:
    "The `heartai` console script of this Python, else `python -m heartai.cli`."
    exe = Path(sys.executable).parent/'heartai'
    return [str(exe)] if exe.is_file() else [sys.executable, '-m', 'heartai.cli']

def run(args, env, importtime=False)->tuple:
    "Seconds a new `heartai *args` process takes, start to exit, and its stderr."
    cmd = command()
    if importtime: cmd = [sys.executable, '-X', 'importtime', *(cmd[1:] if cmd[0] == sys.executable else [cmd[0]])]
    t = time.perf_counter()
    r = subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, env=env)
    s = time.perf_counter() - t
    if r.returncode != 0: raise RuntimeError(f"heartai {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr[-2000:]}")
    return s, r.stderr

def import_times(stderr:str, top:int=12)->dict:
    "Total import time (the top-level imports) and the slowest imports, cumulative seconds, from `-X importtime` output."
    rows = []
    for line in stderr.splitlines():
        m = re.match(r'import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)', line)
        if m: rows.append((m.group(4), int(m.group(2)) / 1e6, len(m.group(3))))
    total = sum(s for _, s, depth in rows if depth == 1)
    slow = sorted(rows, key=lambda r: -r[1])[:top]
    pkgs = sorted({n.split('.')[0] for n, _, _ in rows})
    return dict(total_s=round(total, 3), top=[dict(module=n, cumulative_s=round(s, 3)) for n, s, _ in slow],
                heavy_packages=[p for p in ('torch', 'pandas', 'scipy', 'fastai', 'matplotlib', 'sklearn', 'mlflow', 'ray', 'wfdb') if p in pkgs])

def measure(label, pythonpath, model, record, runs, tmp)->dict:
    "Every measurement of the heartai package at `pythonpath`."
    home, out = tmp/f'home-{label}', tmp/f'out-{label}.csv'
    env = {**os.environ, 'PYTHONPATH': str(pythonpath), 'HEARTAI_HOME': str(home), 'MPLBACKEND': 'Agg'}
    predict = ['-q', 'predict', model, record, '-o', out, '--force']
    cold, _ = run(predict, env)   # fills the beats cache
    res = dict(heartai='this worktree' if Path(pythonpath) == ROOT else 'git archive of the revision', predict_cold_cache_s=round(cold, 3))
    for name, args in (('help', ['--help']), ('predict', predict)):
        run(args, env)   # warm-up: the files in the page cache
        secs = [run(args, env)[0] for _ in range(runs)]
        res[name] = dict(seconds=[round(s, 3) for s in secs], median_s=round(statistics.median(secs), 3),
                         importtime=import_times(run(args, env, importtime=True)[1]))
        print(f"{label}: heartai {' '.join(map(str, args[:2]))}: median {statistics.median(secs):.2f} s of {runs} "
              f"({', '.join(f'{s:.2f}' for s in secs)}); imports {res[name]['importtime']['total_s']:.2f} s, "
              f"heavy packages: {res[name]['importtime']['heavy_packages']}", flush=True)
    res['predict_rows'] = len(out.read_text().splitlines()) - 1
    return res

def tree_of(rev, dest)->Path:
    "The heartai package of git revision `rev`, unpacked under `dest`."
    tar = subprocess.run(['git', '-C', str(ROOT), 'archive', rev, 'heartai'], capture_output=True, check=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tar)) as t: t.extractall(dest, filter='data')
    return dest

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--run', help='an exported model or run directory (default: a tiny cnn1d trained here)')
    p.add_argument('--record', default=str(RECORD), help='a WFDB record (path without extension)')
    p.add_argument('--before', help='also measure the heartai of this git revision, e.g. b866eab')
    p.add_argument('--out', default=str(Path(__file__).parent/'results'/'cli_startup.json'))
    p.add_argument('--overwrite', action='store_true', help='replace an existing results file')
    a = p.parse_args(argv)
    out = claim_output(a.out, a.overwrite)
    if not Path(a.record + '.hea').is_file(): sys.exit(f"{a.record}: no such WFDB record ({Path(a.record).name}.hea)")
    tmp = Path(tempfile.mkdtemp(prefix='bench_startup-'))
    load0 = os.getloadavg()
    try:
        model = a.run
        if model is None:
            model = tmp/'run'
            env = {**os.environ, 'PYTHONPATH': str(ROOT), 'HEARTAI_HOME': str(tmp/'home-train')}
            run(['-q', 'train', '--n', 400, '--epochs', 1, '--hp', 'width=8', '--hp', 'n_blocks=2', '--hp', 'head_hidden=0',
                 '--lr', '3e-3', '--no-mlflow', '-o', model], env)
        res = dict(benchmark="heartai CLI start-up: whole processes, start to exit (median of runs); -X importtime once each",
                   command=command(), runs=a.runs, record=a.record, model=str(model) if a.run else 'tiny cnn1d (width 8, 2 blocks), 1 epoch on 400 synthetic beats')
        if a.before: res['before'] = dict(rev=a.before, **measure('before', tree_of(a.before, tmp/'before'), model, a.record, a.runs, tmp))
        rev = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(['git', '-C', str(ROOT), 'status', '--porcelain', 'heartai'], capture_output=True, text=True).stdout.strip())
        res['after'] = dict(rev=rev + ('+changes' if dirty else ''), **measure('after', ROOT, model, a.record, a.runs, tmp))
        if a.before:
            res['ratio_before_over_after'] = {k: round(res['before'][k]['median_s'] / res['after'][k]['median_s'], 2) for k in ('help', 'predict')}
        res['target'] = dict(predict_s=3.0, cores=2, met=res['after']['predict']['median_s'] <= 3.0)
        import torch
        res['env'] = dict(cpu_count=os.cpu_count(), machine=platform.machine(), python=platform.python_version(), torch=torch.__version__,
                          load_avg_start=load0, load_avg_end=os.getloadavg(), time=time.strftime('%Y-%m-%dT%H:%M:%S%z'))
        print(f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
              + (f"; before/after: --help x{res['ratio_before_over_after']['help']}, predict x{res['ratio_before_over_after']['predict']}" if a.before else ''))
        write_json(out, res)
        print(f"wrote {out}")
        return res
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
