"""BindsNET's Diehl & Cook (2015) network on cognitron's mnist-10k split: accuracy and time per image.

The reference for cognitron's Diehl & Cook comparison. The network and the procedure are BindsNET's
own examples/mnist/eth_mnist.py (BindsNET/bindsnet on GitHub; this package does not ship the
examples), run through BindsNET's API; only the data source differs:

* network: ``bindsnet.models.DiehlAndCook2015(n_inpt=784, n_neurons=N, exc=22.5, inh=INH, dt=1.0,
  norm=78.4, theta_plus=0.05, inpt_shape=(1, 28, 28))``; eth_mnist.py's defaults are exc 22.5,
  inh 120, theta_plus 0.05 (``--inh`` picks; the model's own default, and the README example, is
  17.5);
* input: each pixel p (0..255) becomes ``p / 255 * intensity`` (torchvision ToTensor, then
  ``x * intensity``; eth_mnist.py's intensity is 128, so 128 Hz at p = 255), encoded by
  ``PoissonEncoder(time=250, dt=1.0)`` (eth_mnist.py's default time); no rest period between
  images, ``network.reset_state_variables()`` after each one (v, refractory counters, traces;
  theta and weights persist);
* training: one pass, batch size 1, STDP on (PostPre, nu = (1e-4, 1e-2)); the excitatory spike
  counts of every image are kept; every ``update_interval`` (250) images, as eth_mnist.py does,
  ``assign_labels(window spikes, window labels, 10, rates)`` with the running ``rates`` (alpha
  1.0: per-class mean counts summed over the windows so far);
* test: ``network.train(False)`` (no STDP, theta frozen), each test image run once and classified
  with ``all_activity`` and ``proportion_weighting`` (-1, counted wrong, when no assigned neuron
  fires).

Assignments used for the test set (all three reported; ``eth_mnist`` is the headline figure):

* ``eth_mnist``: the assignment eth_mnist.py holds at the end of training: windows up to the last
  multiple of update_interval, so the last window (images 7750..7999 of 8000) is not used;
* ``eth_mnist_plus_last``: the same plus one more assign_labels over the last window;
* ``whole_pass``: a single assign_labels over all training images (per-class mean counts).

Data: data/mnist-10k (IDX, gzip), ordered by bench/reference/mnist10k_split.json (written by
``cargo run -p cognitron-data --example export_split``): training images in split order (the
order cognitron trains in), then the test images.

Time per image: wall time of encoding plus ``network.run`` plus reading the spike monitor plus
``reset_state_variables`` (``s_per_train_image``), and without encoding (``run_only``); the only
monitor is the excitatory spike monitor the label assignment needs (eth_mnist.py also records
voltages and all layers' spikes for its plots). Data loading is excluded.

Reference run (venv /work/venvs/bindsnet: ``pip install bindsnet`` -> bindsnet 0.3.4,
torch 2.15.0; run from the repository root):

    nice -n 19 /work/venvs/bindsnet/bin/python bench/bindsnet_diehl_cook.py --neurons 100 \\
        --train 8000 --test 2000 --seed 0 --threads 1 --out bench/reference/bindsnet_diehl_cook_100.json
"""

import argparse
import gzip
import json
import os
import platform
import sys
import time as wallclock

import numpy as np
import torch

import bindsnet
from bindsnet.encoding import PoissonEncoder
from bindsnet.evaluation import all_activity, assign_labels, proportion_weighting
from bindsnet.models import DiehlAndCook2015
from bindsnet.network.monitors import Monitor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_CLASSES = 10


def read_idx(path):
    """Array of an IDX file (gzip): uint8 data shaped by the header's dimensions."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def bindsnet_version():
    try:
        from importlib.metadata import version

        return version("bindsnet")
    except Exception:
        return getattr(bindsnet, "__version__", "unknown")


def accuracy(predictions, labels):
    return float((predictions.long() == labels.long()).float().mean().item())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--train", type=int, default=8000, help="training images, split order")
    parser.add_argument("--test", type=int, default=2000, help="test images, split order")
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed, as eth_mnist.py")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--time", type=int, default=250, help="ms per image (eth_mnist.py: 250)")
    parser.add_argument("--dt", type=float, default=1.0)
    parser.add_argument("--intensity", type=float, default=128.0, help="Hz at pixel 255")
    parser.add_argument("--exc", type=float, default=22.5)
    parser.add_argument("--inh", type=float, default=120.0, help="eth_mnist.py: 120")
    parser.add_argument("--theta-plus", type=float, default=0.05)
    parser.add_argument("--update-interval", type=int, default=250)
    parser.add_argument("--progress", type=int, default=100, help="print every N images")
    parser.add_argument("--out", help="JSON file to write")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    split = json.load(open(os.path.join(REPO, "bench/reference/mnist10k_split.json")))
    folder = os.path.join(REPO, "data/mnist-10k")
    images = read_idx(os.path.join(folder, "images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(folder, "labels-idx1-ubyte.gz"))
    train_idx = split["train"][: args.train]
    test_idx = split["test"][: args.test]
    assert len(train_idx) == args.train and len(test_idx) == args.test

    def pixels(i):
        # torchvision ToTensor (byte / 255) then eth_mnist.py's Lambda(x * intensity).
        return torch.from_numpy(images[i].copy()).float().div(255).view(1, 28, 28) * args.intensity

    network = DiehlAndCook2015(
        n_inpt=784,
        n_neurons=args.neurons,
        exc=args.exc,
        inh=args.inh,
        dt=args.dt,
        norm=78.4,
        theta_plus=args.theta_plus,
        inpt_shape=(1, 28, 28),
    )
    encoder = PoissonEncoder(time=args.time, dt=args.dt)
    steps = int(args.time / args.dt)
    exc_spikes = Monitor(network.layers["Ae"], state_vars=["s"], time=steps)
    network.add_monitor(exc_spikes, name="Ae_spikes")

    def present(i):
        """Encode image i, run it, return (excitatory spike counts, encode s, run s)."""
        t0 = wallclock.perf_counter()
        encoded = encoder(pixels(i))
        t1 = wallclock.perf_counter()
        network.run(inputs={"X": encoded.view(steps, 1, 1, 28, 28)}, time=args.time)
        counts = exc_spikes.get("s").view(steps, args.neurons).sum(0).float()
        network.reset_state_variables()
        t2 = wallclock.perf_counter()
        return counts, t1 - t0, t2 - t1

    # Training: one pass in split order, eth_mnist.py's windowed label assignment.
    train_counts = torch.zeros(args.train, args.neurons)
    train_labels = torch.tensor(labels[train_idx].astype(np.int64))
    assignments = -torch.ones(args.neurons, dtype=torch.long)
    proportions = torch.zeros(args.neurons, N_CLASSES)
    rates = torch.zeros(args.neurons, N_CLASSES)
    window_accuracy = {"all": [], "proportion": []}
    encode_s = run_s = 0.0
    network.train(True)
    start = wallclock.perf_counter()
    for step in range(args.train):
        if step % args.update_interval == 0 and step > 0:
            # Spike counts as a [samples, 1, neurons] "time" axis: the evaluation functions
            # only ever sum over time.
            window = train_counts[step - args.update_interval : step].unsqueeze(1)
            window_labels = train_labels[step - args.update_interval : step]
            window_accuracy["all"].append(
                accuracy(all_activity(window, assignments, N_CLASSES), window_labels)
            )
            window_accuracy["proportion"].append(
                accuracy(
                    proportion_weighting(window, assignments, proportions, N_CLASSES),
                    window_labels,
                )
            )
            assignments, proportions, rates = assign_labels(
                window, window_labels, N_CLASSES, rates
            )
        counts, enc, run = present(train_idx[step])
        train_counts[step] = counts
        encode_s += enc
        run_s += run
        if args.progress and (step + 1) % args.progress == 0:
            done = step + 1
            print(
                f"train {done}/{args.train}: {(encode_s + run_s) / done:.4f} s/image, "
                f"{train_counts[:done].sum(1).mean():.2f} exc spikes/image, "
                f"window acc {window_accuracy['all'][-1:] }",
                flush=True,
            )
    train_wall = wallclock.perf_counter() - start

    # The three assignments (module docstring).
    eth = (assignments.clone(), proportions.clone())
    # First image of the window eth_mnist.py records but never assigns from.
    last_start = (args.train - 1) // args.update_interval * args.update_interval
    plus_last = assign_labels(
        train_counts[last_start:].unsqueeze(1), train_labels[last_start:], N_CLASSES, rates.clone()
    )[:2]
    whole = assign_labels(train_counts.unsqueeze(1), train_labels, N_CLASSES)[:2]
    schemes = {"eth_mnist": eth, "eth_mnist_plus_last": plus_last, "whole_pass": whole}

    # Test: no plasticity.
    network.train(False)
    test_counts = torch.zeros(args.test, args.neurons)
    test_labels = torch.tensor(labels[test_idx].astype(np.int64))
    test_encode_s = test_run_s = 0.0
    for k, i in enumerate(test_idx):
        counts, enc, run = present(i)
        test_counts[k] = counts
        test_encode_s += enc
        test_run_s += run
        if args.progress and (k + 1) % args.progress == 0:
            print(f"test {k + 1}/{args.test}: {(test_encode_s + test_run_s) / (k + 1):.4f} s/image", flush=True)

    test_spikes = test_counts.unsqueeze(1)
    results = {}
    for name, (assign, props) in schemes.items():
        results[name] = {
            "all_activity": accuracy(all_activity(test_spikes, assign, N_CLASSES), test_labels),
            "proportion_weighting": accuracy(
                proportion_weighting(test_spikes, assign, props, N_CLASSES), test_labels
            ),
            "assigned_neurons": int((assign >= 0).sum().item()),
            "assignment_class_counts": [int((assign == c).sum().item()) for c in range(N_CLASSES)],
        }

    n_train = max(args.train, 1)
    n_test = max(args.test, 1)
    weights = network.connections[("X", "Ae")].feature_index["weight"].value
    report = {
        "what": "BindsNET DiehlAndCook2015 (eth_mnist.py procedure) on cognitron's mnist-10k split",
        "command": " ".join(["python"] + [os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
        "versions": {
            "bindsnet": bindsnet_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": platform.processor() or platform.machine(),
        "threads": args.threads,
        "seed": args.seed,
        "neurons": args.neurons,
        "train_images": args.train,
        "test_images": args.test,
        "split": "bench/reference/mnist10k_split.json (first --train of train, first --test of test)",
        "network": {
            "model": "bindsnet.models.DiehlAndCook2015",
            "exc": args.exc,
            "inh": args.inh,
            "theta_plus": args.theta_plus,
            "norm": 78.4,
            "nu": [1e-4, 1e-2],
            "dt_ms": args.dt,
        },
        "encoding": {
            "encoder": "bindsnet.encoding.PoissonEncoder(time, dt)",
            "rate_hz": "pixel / 255 * intensity",
            "intensity": args.intensity,
            "max_rate_hz": args.intensity,
            "time_ms_per_image": args.time,
            "rest_between_images_ms": 0,
        },
        "update_interval": args.update_interval,
        "accuracy": {
            "headline": "eth_mnist",
            **results,
        },
        "training_window_accuracy": window_accuracy,
        "timing": {
            "s_per_train_image": (encode_s + run_s) / n_train,
            "s_per_train_image_run_only": run_s / n_train,
            "s_per_test_image": (test_encode_s + test_run_s) / n_test,
            "s_per_test_image_run_only": test_run_s / n_test,
            "train_loop_wall_s": train_wall,
            "note": "wall, perf_counter; encode + network.run + monitor read + reset; data loading excluded",
        },
        "activity": {
            "train_exc_spikes_per_image": float(train_counts.sum(1).mean()),
            "test_exc_spikes_per_image": float(test_counts.sum(1).mean()),
            "test_images_without_exc_spike": int((test_counts.sum(1) == 0).sum()),
            "theta_mean_mv": float(network.layers["Ae"].theta.mean()),
            "theta_max_mv": float(network.layers["Ae"].theta.max()),
            "weight_column_sum_mean": float(weights.sum(0).mean()),
        },
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
