"""How much does heartai's loader cost? ECGDataLoaders vs a plain PyTorch DataLoader, alone and in a training epoch.

87,000 synthetic beats (heartai.core.synth_beats; generation time excluded), batch size 256, CPU unless --device:

(a) one pass over the training loader: ECGDataLoaders (channels=('raw',), no augmentation) vs
    torch.utils.data.DataLoader(TensorDataset(X, y), batch_size=256, shuffle=True) -- median of 5 runs each;
    runs of the two sides alternate (also in (b)), so load from other processes affects both alike;
(b) one training epoch of the same small CNN (3 conv layers, ~52k parameters, torch.optim.Adam, cross-entropy):
    fastai `Learner.fit(1)` on ECGDataLoaders vs a plain PyTorch loop over the TensorDataset DataLoader -- median of 3.
    The fastai time of the training phase alone is measured with a callback (fit(1) also validates; that is reported
    separately), so both sides do the same work.

Reports the ratios and the loader's share of a training epoch (loader-only pass / training epoch; target <= 5 %),
prints a table and writes JSON (default bench/results/loader.json; an existing file is kept unless --overwrite).

    .venv/bin/python bench/bench_loader.py [--n 87000] [--bs 256] [--device cpu] [--overwrite]
"""
import argparse, os, platform, statistics, time
from functools import partial
from pathlib import Path
from _results import write_json, claim_output
import numpy as np, torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fastai
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.callback.progress import ProgressCallback
from fastai.optimizer import OptimWrapper
from fastai.losses import CrossEntropyLossFlat
from heartai.core import synth_beats, SAMPLE_COLS, TARGET, seed_everything, pick_device
from heartai.data.block import ECGDataLoaders


def small_cnn(c_in=1, n_out=5):
    "Three strided conv layers, global average pooling and a linear head: ~52k parameters."
    def block(ci, co, k): return [nn.Conv1d(ci, co, k, stride=2, padding=k//2), nn.BatchNorm1d(co), nn.ReLU()]
    return nn.Sequential(*block(c_in, 32, 7), *block(32, 64, 5), *block(64, 128, 5),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(128, n_out))


class TrainTimer(Callback):
    "Wall time of the training phase of each epoch (before_train .. after_train), without validation."
    order = 100
    def before_fit(self): self.train_s = []
    def before_train(self): self.t0 = time.perf_counter()
    def after_train(self):
        if self.dls.device.type == 'cuda': torch.cuda.synchronize()
        self.train_s.append(time.perf_counter() - self.t0)


def timed(f, device):
    if device.type == 'cuda': torch.cuda.synchronize()
    t0 = time.perf_counter(); f()
    if device.type == 'cuda': torch.cuda.synchronize()
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=87_000, help='synthetic beats')
    p.add_argument('--bs', type=int, default=256, help='batch size')
    p.add_argument('--device', default='cpu', help="'cpu', 'cuda', or 'auto' (heartai.core.pick_device)")
    p.add_argument('--runs-loader', type=int, default=5)
    p.add_argument('--runs-train', type=int, default=3)
    p.add_argument('--out', default=str(Path(__file__).parent/'results'/'loader.json'))
    p.add_argument('--overwrite', action='store_true', help='replace an existing results file')
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: leave torch\'s default)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    out = claim_output(a.out, a.overwrite)
    device = pick_device(a.device)
    load0 = os.getloadavg()[0]   # other work on the machine skews timings: recorded with the results

    t0 = time.perf_counter()
    df = synth_beats(a.n, seed=0)
    gen_s = time.perf_counter() - t0
    X = torch.tensor(df[SAMPLE_COLS].to_numpy()).unsqueeze(1)           # (n, 1, 187)
    y = torch.tensor(df[TARGET].to_numpy())

    # everything in the training split (plus a small validation split that fit(1) also runs over)
    n_valid = min(2000, a.n // 10)
    extra = synth_beats(n_valid, seed=1)
    full = __import__('pandas').concat([df, extra], ignore_index=True)
    splits = (np.arange(a.n), np.arange(a.n, a.n + n_valid))
    mk_dls = lambda: ECGDataLoaders.from_df(full, splits=splits, bs=a.bs, classes='mitbih', device=device, seed=0)
    dls = mk_dls()
    plain_dl = DataLoader(TensorDataset(X, y), batch_size=a.bs, shuffle=True)

    # (a) loader only: one pass over the training batches (moved to the device, as training would)
    def ecg_pass():
        for xb, yb in dls.train: pass
    def plain_pass():
        for xb, yb in plain_dl: xb, yb = xb.to(device), yb.to(device)
    ecg_pass(); plain_pass()                                              # warm-up
    # the two sides alternate, so that other work on the machine hits both alike
    ecg_s, plain_s = map(list, zip(*[(timed(ecg_pass, device), timed(plain_pass, device)) for _ in range(a.runs_loader)]))

    # (b) one training epoch, same model, same optimizer (torch.optim.Adam, lr 1e-3), cross-entropy
    def fastai_epoch():
        seed_everything(0)
        learn = Learner(dls, small_cnn().to(device), loss_func=CrossEntropyLossFlat(),
                        opt_func=partial(OptimWrapper, opt=torch.optim.Adam), lr=1e-3, cbs=TrainTimer())
        learn.remove_cb(ProgressCallback)
        with learn.no_logging():
            total = timed(lambda: learn.fit(1), device)
        return learn.train_timer.train_s[0], total
    def plain_epoch():
        seed_everything(0)
        model = small_cnn().to(device); opt = torch.optim.Adam(model.parameters(), lr=1e-3); lf = nn.CrossEntropyLoss()
        def run():
            model.train()
            for xb, yb in plain_dl:
                xb, yb = xb.to(device), yb.to(device)
                loss = lf(model(xb), yb); loss.backward(); opt.step(); opt.zero_grad()
        return timed(run, device)
    n_params = sum(p.numel() for p in small_cnn().parameters())
    fastai_epoch(); plain_epoch()                                          # warm-up
    fa, pl_train_s = map(list, zip(*[(fastai_epoch(), plain_epoch()) for _ in range(a.runs_train)]))   # alternating
    fa_train_s, fa_total_s = [t for t, _ in fa], [t for _, t in fa]

    med = statistics.median
    res = dict(
        n_beats=a.n, bs=a.bs, n_valid_fastai=n_valid, device=str(device), n_batches=len(dls.train),
        model=dict(name='small_cnn: 3x (Conv1d stride 2, BatchNorm, ReLU), avgpool, linear', params=n_params,
                   optimizer='torch.optim.Adam lr=1e-3', loss='cross-entropy'),
        loader_epoch=dict(ecg_s=ecg_s, plain_s=plain_s, ecg_median_s=med(ecg_s), plain_median_s=med(plain_s),
                          ratio_ecg_over_plain=med(ecg_s) / med(plain_s),
                          ecg_per_batch_us=1e6 * med(ecg_s) / len(dls.train)),
        train_epoch=dict(fastai_train_s=fa_train_s, fastai_fit1_total_s=fa_total_s, plain_s=pl_train_s,
                         fastai_train_median_s=med(fa_train_s), fastai_fit1_median_s=med(fa_total_s),
                         plain_median_s=med(pl_train_s), ratio_fastai_over_plain=med(fa_train_s) / med(pl_train_s)),
        loader_share=dict(ecg_loader_over_fastai_train=med(ecg_s) / med(fa_train_s),
                          plain_loader_over_plain_train=med(plain_s) / med(pl_train_s), target_max=0.05),
        env=dict(torch_num_threads=torch.get_num_threads(), torch=torch.__version__, fastai=fastai.__version__,
                 python=platform.python_version(), cpu_count=os.cpu_count(), machine=platform.machine(),
                 load_avg_1m_start_end=[load0, os.getloadavg()[0]], generation_s_excluded=gen_s,
                 time=time.strftime('%Y-%m-%dT%H:%M:%S%z')),
    )

    L, T = res['loader_epoch'], res['train_epoch']
    rows = [('one pass over the training loader', L['ecg_median_s'], L['plain_median_s'], L['ratio_ecg_over_plain']),
            ('training epoch (train phase)', T['fastai_train_median_s'], T['plain_median_s'], T['ratio_fastai_over_plain'])]
    print(f"\n{a.n:,} beats, bs {a.bs}, {len(dls.train)} batches, device {device}, torch threads {torch.get_num_threads()}, "
          f"model {n_params:,} params\n")
    print(f"{'':36s} {'heartai':>10s} {'plain torch':>12s} {'ratio':>7s}")
    for name, e, pl, r in rows: print(f"{name:36s} {e:9.3f}s {pl:11.3f}s {r:7.2f}")
    print(f"{'fastai fit(1) incl. validation':36s} {T['fastai_fit1_median_s']:9.3f}s")
    print(f"\nloader share of a training epoch: heartai {res['loader_share']['ecg_loader_over_fastai_train']:.1%} "
          f"(target <= 5 %), plain torch {res['loader_share']['plain_loader_over_plain_train']:.1%}")

    write_json(out, res)
    print(f"wrote {out}")
    return res


if __name__ == '__main__': main()
