#!/usr/bin/env python3
"""cognitron vs PyTorch / snnTorch: time per training epoch of the same
networks, same batch size and time steps, same thread count, in one run.

For each model and thread count it trains cognitron (`cognitron train
experiments/<model>.toml` on the first BATCHES x batch Fashion-MNIST images,
one epoch) and PyTorch/snnTorch (`bench/torch_reference.py --time-only`,
BATCHES batches after one warm-up batch), extrapolates both to one epoch of
60,000 images, and prints the seconds per epoch, the ratio (torch / cognitron,
> 1: cognitron faster) and each process's peak RSS (torch's includes ~530 MiB
for importing torch itself; see torch_reference.py).

    cargo build --release
    python3 bench/bench_vs_torch.py --torch-python /work/venvs/bindsnet/bin/python \
        --threads 1 2 --batches 30 --json-out /tmp/bench_torch.json

Set the machine quiet first: absolute times on a shared 2-core machine are
noise, the ratio of two runs made one after the other is the figure.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "cognitron")

# model -> (experiment file, batch size, time steps)
MODELS = {
    "mlp": ("experiments/mlp.toml", 100, 1),
    "cnn": ("experiments/cnn.toml", 100, 1),
    "snn_mlp": ("experiments/snn_mlp.toml", 128, 25),
    "snn_cnn": ("experiments/snn_cnn.toml", 128, 25),
    "snn_cnn_wide": ("experiments/snn_cnn_wide.toml", 128, 10),
    "rsnn_bptt": ("experiments/rsnn_bptt.toml", 100, 28),
}
EPOCH_IMAGES = 60_000


def timed(cmd, env):
    """Runs cmd under /usr/bin/time for its own peak RSS; returns (stdout, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as f:
        proc = subprocess.run(["/usr/bin/time", "-o", f.name, "-f", "%M"] + cmd, capture_output=True, env=env,
                              cwd=ROOT, text=True)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        rss_kib = float(f.read().strip().splitlines()[-1])
    return proc.stdout, rss_kib / 1024


def cognitron(model, threads, batches):
    path, batch, steps = MODELS[model]
    out_dir = tempfile.mkdtemp(prefix=f"bench-torch-{model}-")
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [
        BIN, "train", path, "--out", out_dir, "--fresh", "--no-plots",
        "--set", f"training.train_images={batches * batch}",
        "--set", "training.test_images=100",
        "--set", "training.epochs=1",
        "--set", 'training.dataset="fashion-mnist"',
    ]
    _, rss = timed(cmd, env)
    with open(os.path.join(out_dir, "summary.json")) as f:
        summary = json.load(f)
    train_s = summary["history"][0]["train_s"]
    per_batch = train_s / batches
    return {
        "s_per_batch": per_batch,
        "s_per_epoch": per_batch * EPOCH_IMAGES / batch,
        "peak_rss_mib": rss,
        "batch_size": batch,
        "steps": steps,
    }


def torch(python, model, threads, batches):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [python, "bench/torch_reference.py", "--time-only", "--threads", str(threads), "--model", model,
           "--batches", str(batches)]
    out, rss = timed(cmd, env)
    result = json.loads(out)["results"][0]
    return {
        "s_per_batch": result["s_per_batch"],
        "s_per_epoch": result["s_per_epoch"],
        "peak_rss_mib": rss,
        "batch_size": result["batch_size"],
        "steps": result["num_steps"] or 1,
        "versions": json.loads(out)["versions"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torch-python", default="/work/venvs/bindsnet/bin/python")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--json-out")
    args = parser.parse_args()
    rows = []
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for model in args.models.split(","):
        for threads in args.threads:
            t = torch(args.torch_python, model, threads, args.batches)
            c = cognitron(model, threads, args.batches)
            assert t["batch_size"] == c["batch_size"] and t["steps"] == c["steps"], (model, t, c)
            row = {"model": model, "threads": threads, "torch": t, "cognitron": c,
                   "ratio": t["s_per_epoch"] / c["s_per_epoch"]}
            rows.append(row)
            print(f"{model:10s} threads {threads}: torch {t['s_per_epoch']:8.1f} s/epoch, "
                  f"cognitron {c['s_per_epoch']:8.1f} s/epoch, ratio {row['ratio']:.2f}x; "
                  f"peak RSS torch {t['peak_rss_mib']:.0f} MiB, cognitron {c['peak_rss_mib']:.0f} MiB", flush=True)
    print()
    print("| model | batch | steps | threads | PyTorch/snnTorch s/epoch | cognitron s/epoch | ratio | peak RSS torch (MiB) | peak RSS cognitron (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        t, c = r["torch"], r["cognitron"]
        print(f"| {r['model']} | {c['batch_size']} | {c['steps']} | {r['threads']} | {t['s_per_epoch']:.1f} | "
              f"{c['s_per_epoch']:.1f} | {r['ratio']:.2f} | {t['peak_rss_mib']:.0f} | {c['peak_rss_mib']:.0f} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"started": started, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                       "batches": args.batches, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
