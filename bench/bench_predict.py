#!/usr/bin/env python
"""How fast is `heartai predict`? Beats per second of the default model on 50,000 synthetic beats, on the CPU.

The model is the default one of `heartai train` (`heartai.training.train`: cnn1d with its default hyperparameters) trained 1 epoch on 2,000
synthetic beats (`--epochs 0`: untrained). The beats (heartai.core.synth_beats, generation time excluded) are written to
a parquet file. Measured, median of --runs runs each:

(a) inference: `heartai.inference.predict_logits` on the 50,000 beats already in memory (channels rebuilt from the model's
    config, batches of --bs), with the fast path (batch norms folded into the convolutions) and without it, the two
    alternating, at 1 torch thread and at --threads threads (default: 2); the same for the bigger cnn1d option
    (width 16: 4x the multiply-accumulates) for comparison;
(b) the work of the command in this process (what `heartai predict RUN beats.parquet -o out.csv` calls: `load_ecg_model`,
    `heartai.data.load.load_beats`, `heartai.inference.predict_table`, the CSV), at the thread count that was fastest
    in (a): reading the parquet, inference, the probabilities table and the CSV (Python and torch start-up excluded);
(c) once, the command as a new process (`python -m heartai.cli predict ...`), start-up included.

Also reported: the model's multiply-accumulates per beat and the rate they are computed at, and the machine's load
(other work on a shared machine slows every number). Results go to bench/results/predict.json (an existing file is kept
unless --overwrite).

    .venv/bin/python bench/bench_predict.py [--n 50000] [--runs 3] [--threads 2] [--overwrite]
"""
import os, platform, statistics, subprocess, sys, time
from _results import write_json, claim_output, scratch_home, speed_parser, parse_hp

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

def macs_per_beat(model, x):
    "Multiply-accumulates of the convolutions and linear layers of `model` for one input `x[:1]`."
    import torch
    from torch import nn
    total, hooks = [0], []
    def conv(m, i, o): total[0] += o[0].numel() * (m.in_channels // m.groups) * m.weight[0, 0].numel()
    def lin(m, i, o): total[0] += m.in_features * m.out_features
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)): hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear): hooks.append(m.register_forward_hook(lin))
    with torch.inference_mode(): model(x[:1])
    for h in hooks: h.remove()
    return total[0]

def main(argv=None):
    p = speed_parser(__doc__, 'predict.json')
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--epochs', type=int, default=1, help='training epochs of the model (0: untrained)')
    p.add_argument('--hp', action='append', default=[], metavar='KEY=VALUE', help="a cnn1d hyperparameter of the measured model (repeatable), e.g. width=12")
    a = p.parse_args(argv)
    hp = parse_hp(a.hp)
    out = claim_output(a.out, a.overwrite)
    tmp = scratch_home('bench_predict-')
    import numpy as np, torch
    from heartai.core import synth_beats, SAMPLE_COLS
    from heartai.inference import predict_logits, predict_table, model_inputs, operating_point
    from heartai.training import train
    from heartai.data.load import load_beats
    from heartai.learner import load_ecg_model
    load0 = os.getloadavg()

    torch.set_num_threads(a.threads)
    run = tmp/'run'
    train_s, _ = timed(lambda: train('synthetic', run, n=2000, epochs=max(a.epochs, 1), lr=3e-3, hp=hp or None, mlflow=False, progress=False))
    model = load_ecg_model(run)
    if a.epochs == 0:   # same architecture and data config, fresh weights
        from heartai.models.core import create_model
        fresh = create_model(model.heartai_config['arch'], **model.heartai_config['arch_kwargs']).eval()
        fresh.heartai_config = model.heartai_config; model = fresh
    df = synth_beats(a.n, seed=1)
    beats = tmp/'beats.parquet'; df.to_parquet(beats)
    X = df[SAMPLE_COLS].to_numpy(np.float32).copy()
    x0 = model_inputs(model.heartai_config)(torch.from_numpy(X[:a.bs, None]))
    macs = macs_per_beat(model, x0)

    big_run = tmp/'width16'
    train('synthetic', big_run, n=2000, epochs=1, lr=3e-3, hp=dict(width=16), mlflow=False, progress=False)
    big = load_ecg_model(big_run)
    big_macs = macs_per_beat(big, x0)
    rows, outs = [], {}
    for name, m in (('default', model), ("width16", big)):
        for threads in sorted({1, a.threads}):
            torch.set_num_threads(threads)
            for fast in (True, False): predict_logits(m, X[:2048], bs=a.bs, fast=fast)   # warm-up
            secs = {True: [], False: []}
            for _ in range(a.runs):            # fast and plain alternate, so that other work on the machine hits both alike
                for fast in (True, False):
                    s, outs[name, fast] = timed(lambda: predict_logits(m, X, bs=a.bs, fast=fast)); secs[fast].append(s)
            for fast in (True, False):
                med = statistics.median(secs[fast])
                rows.append(dict(model=name, threads=threads, fast=fast, seconds=secs[fast], median_s=med, beats_per_s=a.n / med))
                print(f"inference, {name} model, {threads} thread(s), {'fast path' if fast else 'plain model'}: {a.n / med:,.0f} beats/s "
                      f"(median {med:.2f} s)", flush=True)
    diff = max(float((outs[k, True] - outs[k, False]).abs().max()) for k in ('default', 'width16'))

    best = max((r for r in rows if r['model'] == 'default'), key=lambda r: r['beats_per_s'])
    csv, th = tmp/'out.csv', best['threads']   # the command at the thread count that was fastest above
    cmd = ['predict', str(run), str(beats), '-o', str(csv), '-q', '--force', '--threads', str(th)]
    def predict_command():   # what `heartai predict` calls, without its argument parsing
        torch.set_num_threads(th)
        m = load_ecg_model(run)
        op, _ = operating_point(m.heartai_config)
        beats_df, _, _ = load_beats(beats, 'auto', labelled=False, progress=False)
        predict_table(m, beats_df, op, bs=a.bs).to_csv(csv, index=False)
    predict_command()   # warm-up
    cmd_s = [timed(predict_command)[0] for _ in range(a.runs)]
    print(f"heartai predict's work in this process ({th} thread(s)): {a.n / statistics.median(cmd_s):,.0f} beats/s "
          f"(median {statistics.median(cmd_s):.2f} s, reading and writing included)", flush=True)
    proc_s, r = timed(lambda: subprocess.run([sys.executable, '-m', 'heartai.cli', *cmd], capture_output=True, text=True))
    assert r.returncode == 0, r.stderr
    print(f"heartai predict as a new process: {proc_s:.1f} s for {a.n:,} beats, start-up included", flush=True)

    res = dict(
        benchmark=f"heartai predict throughput: {'cnn1d ' + str(hp) if hp else 'default model (cnn1d defaults)'}, synthetic beats, CPU",
        n_beats=a.n, bs=a.bs, runs=a.runs, model=dict(arch=model.heartai_config['arch'], arch_kwargs=model.heartai_config['arch_kwargs'],
        params=sum(p.numel() for p in model.parameters()), trained_epochs=a.epochs, macs_per_beat=macs, train_s=round(train_s, 1)),
        width16_model=dict(arch_kwargs=big.heartai_config["arch_kwargs"], params=sum(p.numel() for p in big.parameters()), macs_per_beat=big_macs),
        inference=rows, fast_vs_plain_max_abs_logit_diff=diff,
        best=dict(threads=best['threads'], fast=best['fast'], beats_per_s=best['beats_per_s'], gmacs_per_s=best['beats_per_s'] * macs / 1e9),
        command_in_process=dict(threads=th, seconds=cmd_s, median_s=statistics.median(cmd_s), beats_per_s=a.n / statistics.median(cmd_s)),
        command_new_process=dict(threads=th, seconds=proc_s, beats_per_s=a.n / proc_s),
        target=dict(beats_per_s=20_000, cores=2, met=best['beats_per_s'] >= 20_000),
        env=dict(cpu_count=os.cpu_count(), machine=platform.machine(), processor=platform.processor(), torch=torch.__version__,
                 python=platform.python_version(), load_avg_start=load0, load_avg_end=os.getloadavg(),
                 time=time.strftime('%Y-%m-%dT%H:%M:%S%z')))
    print(f"\nbest: {best['beats_per_s']:,.0f} beats/s ({best['threads']} threads, {'fast path' if best['fast'] else 'plain'}); "
          f"{macs / 1e6:.2f} M multiply-accumulates per beat = {res['best']['gmacs_per_s']:.1f} GMAC/s; fast vs plain logits differ by "
          f"at most {diff:.1e}; load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    write_json(out, res)
    print(f"wrote {out}")
    import shutil; shutil.rmtree(tmp, ignore_errors=True)
    return res

if __name__ == '__main__': main()
