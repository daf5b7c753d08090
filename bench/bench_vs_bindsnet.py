#!/usr/bin/env python3
"""cognitron against BindsNET on Diehl & Cook (2015): the same network, data and images, in one run.

Both train the network of BindsNET's examples/mnist/eth_mnist.py (models.DiehlAndCook2015: 784
Poisson inputs at up to 128 Hz, N excitatory neurons with adaptive thresholds and one spike per
step, N inhibitory, exc 22.5, inh 120, PostPre STDP, norm 78.4, dt 1 ms, 250 ms per image) on the
first --train images of cognitron's mnist-10k training split (the same order), then test on the
first --test test images with learning off:

* BindsNET: bench/bindsnet_diehl_cook.py (its API, eth_mnist.py's procedure), torch threads = --threads;
* cognitron: `cognitron train experiments/diehl_cook_100_bindsnet.toml` (N set by --neurons),
  RAYON_NUM_THREADS = --threads.

Prints time per training image and per test image for each (wall time of the training and test
loops, data loading excluded), the ratio BindsNET / cognitron, and both accuracies.

    cargo build --release
    /work/venvs/bindsnet/bin/python bench/bench_vs_bindsnet.py --neurons 100 --train 500 --test 200

Accuracies on so few images say little; the full comparison (8,000 / 2,000 images) is in
bench/RESULTS.md with its commands.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_bindsnet(args, out_json):
    command = [
        sys.executable,
        os.path.join(ROOT, "bench", "bindsnet_diehl_cook.py"),
        "--neurons", str(args.neurons),
        "--train", str(args.train),
        "--test", str(args.test),
        "--threads", str(args.threads),
        "--progress", "1000000",
        "--out", out_json,
    ]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with open(out_json) as f:
        d = json.load(f)
    return {
        "train_s_per_image": d["timing"]["s_per_train_image"],
        "test_s_per_image": d["timing"]["s_per_test_image"],
        "accuracy": 100 * d["accuracy"]["whole_pass"]["all_activity"],
    }


def run_cognitron(args, out_dir):
    binary = os.path.join(ROOT, "target", "release", "cognitron")
    command = [
        binary, "train", os.path.join(ROOT, "experiments", "diehl_cook_100_bindsnet.toml"),
        "--out", out_dir, "--fresh", "--no-plots",
        "--set", f"populations.exc.n={args.neurons}",
        "--set", f"populations.inh.n={args.neurons}",
        "--set", f"training.train_images={args.train}",
        "--set", f"training.test_images={args.test}",
        "--set", f"training.label_images={args.train}",
    ]
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    subprocess.run(command, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    with open(os.path.join(out_dir, "summary.json")) as f:
        d = json.load(f)
    return {
        "train_s_per_image": d["train_s_per_image"],
        "test_s_per_image": d["test_s_per_image"],
        "accuracy": d["test_accuracy"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--train", type=int, default=500)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cog = run_cognitron(args, os.path.join(tmp, "cognitron"))
        bn = run_bindsnet(args, os.path.join(tmp, "bindsnet.json"))
    rows = [
        ("time per training image (ms)", 1000 * bn["train_s_per_image"], 1000 * cog["train_s_per_image"]),
        ("time per test image (ms)", 1000 * bn["test_s_per_image"], 1000 * cog["test_s_per_image"]),
    ]
    print(f"Diehl & Cook, {args.neurons} neurons, {args.train} training / {args.test} test images of "
          f"mnist-10k, {args.threads} thread(s)")
    print(f"| {'':30} | {'BindsNET':>10} | {'cognitron':>10} | {'ratio':>7} |")
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 12}|{'-' * 9}|")
    for name, b, c in rows:
        print(f"| {name:30} | {b:10.2f} | {c:10.3f} | {b / c:6.1f}x |")
    print(f"| {'test accuracy (%)':30} | {bn['accuracy']:10.2f} | {cog['accuracy']:10.2f} | {'':>7} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "bindsnet": bn, "cognitron": cog}, f, indent=1)


if __name__ == "__main__":
    main()
