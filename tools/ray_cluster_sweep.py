#!/usr/bin/env python
"""A real two-node Ray cluster on this machine's loopback, a tiny heartai sweep on it, and the trials' placement.

Starts a head node and a worker node as separate Ray processes with Ray's own `ray start` (one CPU each, every service
on 127.0.0.1, token authentication with a token of this run), runs `heartai.tune.tune(..., address=...)` against the
head, prints on which node each trial ran, and stops both nodes (always, by their process ids: `ray stop` would stop
every Ray of this machine). Exits 1 unless the trials ran on two different Ray nodes.

    python tools/ray_cluster_sweep.py            # about a minute on 2 cores
    python tools/ray_cluster_sweep.py --keep DIR # keep the sweep, MLflow store and Ray logs in DIR

Ray's CLI rewrites `--node-ip-address 127.0.0.1` to the machine's network address on Linux (and then listens on every
interface); `ray start` is run here through Ray's own CLI entry point with that address kept as loopback
(`python tools/ray_cluster_sweep.py _ray start ...`).
"""
from __future__ import annotations
import argparse, os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _ray_cli(argv):
    "Ray's `ray` command with a node address of 127.0.0.1 kept as loopback (what Ray does on macOS and Windows)."
    from ray._private import ray_constants, services
    ray_constants.ENABLE_RAY_CLUSTER = True                       # allow a worker node to join...
    services.get_node_ip_address = lambda address=None: '127.0.0.1'   # ...on loopback, not the machine's address
    from ray.scripts.scripts import main
    sys.argv = ['ray'] + argv
    main()

def free_port()->int:
    "A TCP port free on 127.0.0.1 now."
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_port(port, proc, log, timeout=90):
    "Wait until 127.0.0.1:`port` accepts connections; a RuntimeError (with the log's tail) if `proc` exits first."
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: raise RuntimeError(f"ray start exited ({proc.returncode}):\n" + Path(log).read_text()[-3000:])
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0: return
        time.sleep(0.5)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s:\n" + Path(log).read_text()[-3000:])

class Node:
    "One Ray node: `ray start --block` in its own session, so that it and every process it starts can be stopped by id."
    def __init__(self, name, args, env, logs):
        self.name, self.log = name, Path(logs)/f'{name}.log'
        self.proc = subprocess.Popen([sys.executable, __file__, '_ray', 'start', '--block', *args], env=env, start_new_session=True,
                                     stdout=open(self.log, 'w'), stderr=subprocess.STDOUT)
    def pids(self)->list:
        "The processes of this node's session (`ray start` and what it started: GCS, raylet, agents, workers)."
        import psutil
        out = []
        for p in psutil.process_iter(['pid']):
            try:
                if os.getsid(p.pid) == self.proc.pid: out.append(p.pid)
            except (ProcessLookupError, PermissionError, psutil.Error): pass
        return out
    def stop(self, grace=15):
        "SIGTERM to the node's processes, SIGKILL to those left after `grace` s; the ids still alive (none, normally)."
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                try: os.kill(pid, sig)
                except ProcessLookupError: pass
            t0 = time.time()
            while self.pids() and time.time() - t0 < grace: time.sleep(0.5)
            try: self.proc.wait(1)
            except subprocess.TimeoutExpired: pass
            if not self.pids(): return []
        return self.pids()

def start_cluster(tmp:Path, env:dict)->tuple:
    "Head and worker node on loopback, one CPU each; (nodes, GCS address)."
    gcs = free_port()
    common = ['--node-ip-address', '127.0.0.1', '--num-cpus', '1', '--num-gpus', '0', '--disable-usage-stats']
    def ports(): return ['--node-manager-port', str(free_port()), '--object-manager-port', str(free_port()),
                         '--dashboard-agent-listen-port', str(free_port()), '--dashboard-agent-grpc-port', str(free_port()),
                         '--metrics-export-port', str(free_port()), '--runtime-env-agent-port', str(free_port())]
    nodes = [Node('head', ['--head', '--port', str(gcs), '--temp-dir', str(tmp/'ray'), '--include-dashboard', 'false', *common, *ports()], env, tmp)]
    try:
        wait_port(gcs, nodes[0].proc, nodes[0].log)
        nodes.append(Node('worker', ['--address', f'127.0.0.1:{gcs}', *common, *ports()], env, tmp))
    except BaseException:
        for n in nodes: n.stop()
        raise
    return nodes, f'127.0.0.1:{gcs}'

def _warm():
    "Import what a trial imports (a trial's worker then starts in seconds, not tens of seconds, on a busy machine)."
    import heartai.training, heartai.tune, ray
    return ray.get_runtime_context().get_node_id()

def wait_nodes(address, n=2, timeout=120)->list:
    "Ray's node ids once `n` nodes are alive, each having run a task (the driver connects on loopback, then disconnects)."
    from heartai.tune import ray_session
    t0 = time.time()
    with ray_session(address) as ray:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        while time.time() - t0 < timeout:
            alive = [x['NodeID'] for x in ray.nodes() if x['Alive']]
            if len(alive) >= n:
                warm = ray.remote(num_cpus=1)(_warm)
                ran = ray.get([warm.options(scheduling_strategy=NodeAffinitySchedulingStrategy(i, soft=False)).remote() for i in alive])
                if ran != alive: raise RuntimeError(f"tasks meant for nodes {alive} ran on {ran}")
                return alive
            time.sleep(1)
    raise RuntimeError(f"{n} Ray nodes not alive after {timeout} s")

def sweep(address, tmp:Path, trials:int, beats:int):
    "A tiny heartai sweep on the cluster: `trials` 2-epoch trials of a tiny 1D CNN on synthetic beats."
    from heartai.core import synth_beats
    from heartai.tune import tune, results_frame
    space = dict(arch='cnn1d', n_blocks=2, width=[8, 16], head_hidden=0, lr={'loguniform': [3e-3, 3e-2]}, bs=32)
    res = tune(space, data=synth_beats(beats, seed=0), classes='mitbih', num_samples=trials, max_epochs=2, scheduler='fifo',
               address=address, storage_path=tmp/'sweeps', name='cluster', tracking_uri=f"sqlite:///{tmp/'mlflow.db'}",
               experiment='cluster-sweep', log_model=False, progress='trials')
    return res, results_frame(res)

def main(argv=None)->int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--trials', type=int, default=4, help="trials of the sweep (default 4)")
    p.add_argument('--beats', type=int, default=1000, help="synthetic beats (default 1000)")
    p.add_argument('--keep', help="keep the sweep, the MLflow store and the nodes' logs in this new directory")
    a = p.parse_args(argv)
    keep = Path(a.keep).absolute() if a.keep else None
    if keep is not None and keep.exists(): p.error(f"--keep {keep} exists")
    tmp = Path(tempfile.mkdtemp(prefix='hrc-'))   # short: Ray's socket paths must stay under 108 characters
    token = tmp/'auth_token'; token.write_text(secrets.token_hex(32)); token.chmod(0o600)
    env = {**os.environ, 'RAY_AUTH_MODE': 'token', 'RAY_AUTH_TOKEN_PATH': str(token), 'RAY_USAGE_STATS_ENABLED': '0',
           'PYTHONPATH': os.pathsep.join([str(ROOT)] + [x for x in os.environ.get('PYTHONPATH', '').split(os.pathsep) if x]),
           'OMP_NUM_THREADS': '1'}
    os.environ.update({k: env[k] for k in ('RAY_AUTH_MODE', 'RAY_AUTH_TOKEN_PATH', 'RAY_USAGE_STATS_ENABLED')})
    nodes, ok = [], False
    try:
        t0 = time.time()
        nodes, address = start_cluster(tmp, env)
        ids = wait_nodes(address)
        print(f"Ray cluster on {address}: {len(ids)} nodes {[i[:8] for i in ids]} (started in {time.time() - t0:.0f} s; temp dir {tmp})", flush=True)
        res, fr = sweep(address, tmp, a.trials, a.beats)
        print(f"\n{len(fr)} trials in {res.elapsed_s:.0f} s; placement:")
        print(fr[['trial_id', 'status', f'{res.metric}_best', 'node_id', 'host']].assign(node_id=fr.node_id.str[:12]).to_string(index=False))
        used = sorted(set(fr.node_id) - {''})
        ok = len(used) >= 2 and set(used) <= set(ids) and (fr.status == 'completed').all()
        print(f"\ntrials ran on {len(used)} Ray node(s): " + ', '.join(f"{u[:8]} ({(fr.node_id == u).sum()} trials)" for u in used)
              + ('' if ok else '  <- FAILED: expected every trial completed, on both nodes'))
    finally:
        left = {n.name: n.stop() for n in reversed(nodes)}
        if any(left.values()): print(f"could not stop Ray processes {left}", file=sys.stderr); ok = False
        if keep is not None: shutil.copytree(tmp, keep, ignore=shutil.ignore_patterns('auth_token', 'sockets', '*.sock'), ignore_dangling_symlinks=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print("Ray nodes stopped" + (f"; kept in {keep}" if keep else ''))
    return 0 if ok else 1

if __name__ == '__main__':
    if sys.argv[1:2] == ['_ray']: _ray_cli(sys.argv[2:])
    else:
        code = main()
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)   # Ray's client threads can spin at interpreter exit once the cluster is gone: nothing is left to clean up
