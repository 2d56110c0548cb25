#!/usr/bin/env python
"""onnxruntime vs heartai's torch predict: beats per second of the default model on the same synthetic beats, on the CPU.

The model is the default one of `heartai train` (`heartai.training.train`: cnn1d with its default hyperparameters) trained
1 epoch on 2,000 synthetic beats, exported with `heartai.onnx.export_onnx` (one ONNX file). The same --n beats
(heartai.core.synth_beats, generation time excluded) are classified in memory, in batches of --bs, by:

(a) logits: `heartai.inference.predict_logits` on the PyTorch model (its fast path: batch norms folded into the
    convolutions, what `heartai predict` runs) and on the `heartai.onnx.OnnxModel` (onnxruntime's CPU provider, its
    default graph optimisations);
(b) the table `heartai predict` writes: `heartai.inference.predict_table` (inputs, logits, probabilities, decisions) with
    each model.

Each is one run over the --n beats, repeated --repeats times (torch and onnxruntime alternating, so that other work on
the machine hits both alike); the median is reported, with the ratio onnxruntime / torch, at 1 thread and at --threads
threads (torch's threads and onnxruntime's intra-op threads alike). Also: the largest logit difference between the two
(and against the plain PyTorch model), the ONNX file's size, and the machine's load (other work slows every number).
Results go to bench/results/onnx.json (an existing file is kept unless --overwrite).

    .venv/bin/python bench/bench_onnx.py [--n 50000] [--repeats 3] [--threads 2] [--overwrite] [--note TEXT]
"""
import os, platform, shutil, statistics, time
from _results import write_json, claim_output, scratch_home, speed_parser

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

def main(argv=None):
    p = speed_parser(__doc__, 'onnx.json')
    p.add_argument('--repeats', type=int, default=3, help='runs of each, the median is reported')
    p.add_argument('--note', default='', help='a remark stored with the results (e.g. the machine was shared)')
    a = p.parse_args(argv)
    out = claim_output(a.out, a.overwrite)
    tmp = scratch_home('bench_onnx-')
    import numpy as np, torch, onnxruntime
    from heartai.core import synth_beats, SAMPLE_COLS
    from heartai.inference import predict_logits, predict_table
    from heartai.training import train
    from heartai.learner import load_ecg_model
    from heartai.onnx import export_onnx, load_onnx_model
    load0 = os.getloadavg()

    torch.set_num_threads(a.threads)
    train('synthetic', tmp/'run', n=2000, epochs=1, lr=3e-3, mlflow=False, progress=False)
    export_s, f = timed(lambda: export_onnx(tmp/'run', tmp/'model.onnx'))
    model = load_ecg_model(tmp/'run')
    df = synth_beats(a.n, seed=1)
    X = df[SAMPLE_COLS].to_numpy(np.float32).copy()
    rows, ratios, outs = [], {}, {}
    for threads in sorted({1, a.threads}):
        torch.set_num_threads(threads)
        runners = {'torch': model, 'onnxruntime': load_onnx_model(f, threads=threads)}
        for what, run in (('logits', lambda m: predict_logits(m, X, bs=a.bs)), ('predict_table', lambda m: predict_table(m, df, bs=a.bs))):
            for m in runners.values(): predict_logits(m, X[:2048], bs=a.bs)   # warm-up
            secs = {k: [] for k in runners}
            for _ in range(a.repeats):
                for k, m in runners.items():
                    s, r = timed(lambda: run(m)); secs[k].append(s)
                    if what == 'logits': outs[k] = r
            for k in runners:
                med = statistics.median(secs[k])
                rows.append(dict(what=what, runtime=k, threads=threads, seconds=secs[k], median_s=med, beats_per_s=a.n / med))
                print(f"{what}, {threads} thread(s), {k}: {a.n / med:,.0f} beats/s (median of {a.repeats}: {med:.2f} s)", flush=True)
            ratios[f'{what}_threads{threads}'] = statistics.median(secs['torch']) / statistics.median(secs['onnxruntime'])
            print(f"  onnxruntime / torch: {ratios[f'{what}_threads{threads}']:.2f}x", flush=True)
    with torch.inference_mode(): plain = predict_logits(model, X, bs=a.bs, fast=False)
    diff = dict(onnx_vs_torch_fast=float((outs['onnxruntime'] - outs['torch']).abs().max()),
                onnx_vs_torch_plain=float((outs['onnxruntime'] - plain).abs().max()))
    best = {k: max((r for r in rows if r['what'] == 'logits' and r['runtime'] == k), key=lambda r: r['beats_per_s']) for k in runners}
    res = dict(
        benchmark="onnxruntime vs heartai's torch predict: default model (cnn1d defaults), the same synthetic beats, CPU",
        n_beats=a.n, bs=a.bs, repeats=a.repeats, note=a.note,
        model=dict(arch=model.heartai_config['arch'], arch_kwargs=model.heartai_config['arch_kwargs'],
                   params=sum(p.numel() for p in model.parameters()), onnx_bytes=f.stat().st_size, export_s=round(export_s, 1)),
        measurements=rows, onnx_over_torch_speed=ratios, max_abs_logit_diff=diff,
        best=dict(torch=dict(threads=best['torch']['threads'], beats_per_s=best['torch']['beats_per_s']),
                  onnxruntime=dict(threads=best['onnxruntime']['threads'], beats_per_s=best['onnxruntime']['beats_per_s']),
                  ratio=best['onnxruntime']['beats_per_s'] / best['torch']['beats_per_s']),
        env=dict(cpu_count=os.cpu_count(), machine=platform.machine(), processor=platform.processor(), torch=torch.__version__,
                 onnxruntime=onnxruntime.__version__, python=platform.python_version(), load_avg_start=load0,
                 load_avg_end=os.getloadavg(), time=time.strftime('%Y-%m-%dT%H:%M:%S%z')))
    print(f"\nbest logits: onnxruntime {res['best']['onnxruntime']['beats_per_s']:,.0f} beats/s ({res['best']['onnxruntime']['threads']} threads), "
          f"torch {res['best']['torch']['beats_per_s']:,.0f} beats/s ({res['best']['torch']['threads']} threads): {res['best']['ratio']:.2f}x; "
          f"logits differ by at most {diff['onnx_vs_torch_plain']:.1e} (plain torch), {diff['onnx_vs_torch_fast']:.1e} (torch fast path); "
          f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    write_json(out, res)
    print(f"wrote {out}")
    shutil.rmtree(tmp, ignore_errors=True)
    return res

if __name__ == '__main__': main()
