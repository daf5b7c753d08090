"""PyTorch / snnTorch reference runs for cognitron's gradient learning (issue 5).

Trains the issue's reference architectures with PyTorch (ANNs) and snnTorch
(spiking nets) on the project's bundled data and writes one JSON per run to
bench/reference/torch_<model>_<dataset>.json.  Also has a timing mode for the
speed benchmark (cognitron vs PyTorch/snnTorch, same batch and steps).

Tools: Python 3, torch 2.15.0 (CPU build), numpy 2.4.6, snntorch 1.0.0, in the
venv /work/venvs/bindsnet (``pip install snntorch==1.0.0``).  Nothing is
downloaded: the IDX files in data/ are read with gzip + numpy.

Commands (from the repository root; each run is one process so its peak RSS is
its own):

    PY=/work/venvs/bindsnet/bin/python
    nice -n 19 $PY bench/torch_reference.py --model mlp      --dataset mnist-10k
    nice -n 19 $PY bench/torch_reference.py --model mlp      --dataset fashion
    nice -n 19 $PY bench/torch_reference.py --model snn_mlp  --dataset mnist-10k
    nice -n 19 $PY bench/torch_reference.py --model snn_mlp  --dataset fashion
    nice -n 19 $PY bench/torch_reference.py --model snn_mlp_dfa --dataset mnist-10k
    nice -n 19 $PY bench/torch_reference.py --model snn_mlp_dfa --dataset fashion
    #   (snnTorch has no DFA: snnTorch's Leaky neurons, and the feedback by
    #    the custom autograd function DirectFeedbackLinear below)
    #   (torch_snn_mlp_fashion_diag.json: the same run again, --out ..._diag.json,
    #    after the diagnostics were added; identical accuracies, plus the test_* lists)
    nice -n 19 $PY bench/torch_reference.py --model cnn      --dataset mnist-10k
    nice -n 19 $PY bench/torch_reference.py --model cnn      --dataset fashion
    nice -n 19 $PY bench/torch_reference.py --model rsnn_bptt --dataset fashion
    nice -n 19 $PY bench/torch_reference.py --model rsnn_bptt --dataset fashion --rsnn-readout last \
        --out bench/reference/torch_rsnn_bptt_last_fashion.json
    nice -n 19 $PY bench/torch_reference.py --model snn_cnn  --dataset fashion --epochs 3
    nice -n 19 $PY bench/torch_reference.py --model snn_cnn_wide --dataset mnist-10k
    nice -n 19 $PY bench/torch_reference.py --model snn_cnn_wide --dataset fashion --epochs 3
    #   (the first 3 of the 15 epochs, on the 15-epoch cosine schedule)
    # timing only (prints JSON; 50 training batches per model after one
    # warm-up batch, extrapolated to one epoch of --dataset, default Fashion's
    # 60,000 images):
    $PY bench/torch_reference.py --time-only --threads 1 [--model mlp,cnn,...] [--batches 50]
    # --batches 0 times --epochs full epochs instead.
    # check that the neuron equations below are snnTorch's (forward and BPTT
    # gradients, Leaky and RLeaky, all three resets; exits 1 on a mismatch):
    $PY bench/torch_reference.py --check-equations > bench/reference/snntorch_equation_check.json

Defaults: seed 0, torch.set_num_threads(--threads, default 1).  Epoch counts,
batch sizes and learning rates are the protocol's (table below) unless
--epochs / --batch / --lr override them; the JSON records both
"epochs_protocol" and "epochs_run".

Memory: "peak_rss_mib" is resource.getrusage(RUSAGE_SELF).ru_maxrss of the
whole process; of it, importing torch 2.15.0+cu132 alone costs ~527 MiB (its
CUDA-enabled libraries load even on a CPU-only run) and the Fashion-MNIST
float32 arrays bring the peak to ~795 MiB before any model exists
("peak_rss_mib_after_data_load"); compare the increment, not the total.

Protocol (shared with cognitron's experiments)
----------------------------------------------
Data: Fashion-MNIST full 60,000 train / 10,000 test
(data/fashion-mnist/{train,t10k}-*-ubyte.gz); mnist-10k
(data/mnist-10k/*-ubyte.gz) split by the index lists "train" (8,000) and
"test" (2,000) of bench/reference/mnist10k_split.json.  Pixels x/255 as
float32, nothing else.  Shuffling: one torch.Generator seeded with --seed, a
fresh torch.randperm(n_train, generator=g) per epoch; the last partial batch
is kept.  Init: PyTorch defaults (torch.manual_seed(seed) before building the
model).  Optimizer: torch.optim.Adam(betas=(0.9, 0.999), eps=1e-8), constant
learning rate.  Test accuracy after every epoch on the whole test set (no
grad, batch 1000, not counted in the epoch's wall time).

    model      architecture                                         loss                    lr     batch epochs
    mlp        Linear(784,800) ReLU Linear(800,10)                   cross-entropy           1e-3   100   20
    cnn        Conv2d(1,32,5) ReLU MaxPool2 Conv2d(32,64,5) ReLU     cross-entropy           1e-3   100   15
               MaxPool2 Flatten(1024) Linear(1024,128) ReLU
               Linear(128,10)   (no padding)
    snn_mlp    Linear(784,800) Leaky Linear(800,10) Leaky;           sum_t CE(U_out[t], y)   5e-4   128   10
               beta 0.95, threshold 1, reset subtract, 25 steps     (snnTorch tutorial 5)
    snn_mlp_dfa  snn_mlp trained by direct feedback alignment     as snn_mlp              5e-4   128   10
               (DirectFeedbackLinear: hidden spikes get e[t] B)
    snn_cnn    Conv2d(1,12,5) MaxPool2 Leaky Conv2d(12,64,5)         mse_count_loss(0.8,0.2) 1e-2   128   >=1, see JSON;
               MaxPool2 Leaky Flatten Linear(1024,10) Leaky;         (snnTorch tutorial 7)       default 3
               beta 0.5, threshold 1, reset subtract, 25 steps
    rsnn_bptt  Fashion row by row: 28 steps, input row (28 px) ->   CE(sum_t U_out[t], y)   1e-3   100   10
               Linear(28,128) -> RLeaky(128, all_to_all, recurrent
               Linear(128,128) with bias, beta 0.95, threshold 1,
               reset subtract) -> Linear(128,10) -> Leaky(beta 0.95,
               reset_mechanism "none") whose membrane is the output

All spiking layers use spike_grad = snntorch.surrogate.fast_sigmoid(slope=25).
Spiking inputs: the static image is the input current at every step (no
Poisson/rate coding).  Prediction of snn_mlp and snn_cnn: argmax over classes
of the output spike count over the 25 steps (torch.argmax: ties and all-zero
counts go to the lowest class index).  This rule matters: with the tutorial-5
loss (cross-entropy on the membrane) the output neurons learn to fire at many
steps, and on mnist-10k 13-17 % of test images have a tied top count in the
first epochs; the JSON records per epoch the tied fraction and, for snn_mlp,
the accuracy of argmax of the summed output membrane (test_* lists), so a
reimplementation can match the rule or compare both.  On Fashion-MNIST the
spike-count accuracy of snn_mlp peaks at epoch 4 (84.6 %) and then collapses
(58 % at epoch 10) while the membrane accuracy keeps rising (~87 %): the
cross-entropy on membranes is blind to a common shift of all output
membranes, which sink below threshold, and more and more test images give no
output spike at all (argmax -> class 0); see torch_snn_mlp_fashion_diag.json.  rsnn_bptt: argmax of sum_t U_out[t]
(--rsnn-readout last: loss and prediction on U_out at step 28 instead).

The input layers of snn_mlp (Linear) and snn_cnn (Conv2d+MaxPool) see the same
static image at every step, so their output is computed once per batch and
fed at all 25 steps; this is the same function and the same gradient as
calling them inside the time loop (the tutorials do), but 25x cheaper.
--tutorial-loop calls them inside the loop instead (for timing only).

snnTorch 1.0.0 neuron equations (read from snntorch/_neurons/{neurons,leaky,
rleaky}.py and snntorch/surrogate.py; defaults reset_delay=True,
graded_spikes_factor=1, state starts at 0 every batch)
------------------------------------------------------------------------------
theta = threshold, beta clamped to [0, 1], I[t] = input current at step t.
Spike function:  S = H(U - theta) with H(x) = 1 if x > 0 else 0 (strict >),
backward (fast_sigmoid, slope k=25):  dS/dU = 1 / (1 + k*|U - theta|)^2
(no factor k in the numerator; maximum 1 at U = theta).

Leaky, step t (U[0-] = 0):
    R[t] = H(U[t-1] - theta), DETACHED (mem_reset: spike_grad(...).clone().detach(),
           so no gradient flows through the reset term)
    reset "subtract": U[t] = beta*U[t-1] + I[t] - R[t]*theta
    reset "zero":     U[t] = beta*(1 - R[t])*U[t-1] + I[t]
    reset "none":     U[t] = beta*U[t-1] + I[t]
    S[t] = H(U[t] - theta)   (surrogate gradient as above)
  i.e. the reset of a spike emitted at step t-1 is applied at step t
  (reset_delay=True): U[t] itself is NOT lowered when S[t] = 1; the returned
  membrane is the pre-reset value.

RLeaky (all_to_all=True, linear_features=N: recurrent = nn.Linear(N, N) with
bias, learnable), step t (U[0-] = 0, S[0-] = 0):
    R[t] = H(U[t-1] - theta), DETACHED
    B[t] = beta*U[t-1] + I[t] + W_rec @ S[t-1] + b_rec
    reset "subtract": U[t] = B[t] - R[t]*theta
    reset "zero":     U[t] = (1 - R[t]) * B[t]     (differs from Leaky's zero)
    S[t] = H(U[t] - theta)
  S[t-1] in the recurrent term is NOT detached: BPTT flows through the
  recurrent spikes via the surrogate gradient.

mse_count_loss(correct_rate=0.8, incorrect_rate=0.2), T=25 steps:
    count[b,c] = sum_t S_out[t,b,c]; target = int(T*0.8)=20 for the label,
    int(T*0.2)=5 for the other classes;
    loss = mean_{b,c} (count[b,c] - target[b,c])^2 / T.
snn_mlp loss (tutorial 5): sum over t=1..25 of
    F.cross_entropy(U_out[t], y) (mean over the batch), U_out = the output
    Leaky's returned (pre-reset) membrane.
"""

import argparse
import gzip
import json
import os
import platform
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import snntorch as snn
from snntorch import surrogate
import snntorch.functional as SF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_STEPS = 25

PROTOCOL = {
    "mlp": dict(lr=1e-3, batch=100, epochs=20),
    "cnn": dict(lr=1e-3, batch=100, epochs=15),
    "snn_mlp": dict(lr=5e-4, batch=128, epochs=10),
    # experiments/snn_mlp_dfa.toml: snn_mlp trained by direct feedback alignment.
    "snn_mlp_dfa": dict(lr=5e-4, batch=128, epochs=10),
    "snn_cnn": dict(lr=1e-2, batch=128, epochs=3),
    # experiments/snn_cnn_wide.toml: cosine schedule over the epochs.
    "snn_cnn_wide": dict(lr=1e-3, batch=128, epochs=15, cosine=True, steps=10),
    "rsnn_bptt": dict(lr=1e-3, batch=100, epochs=10),
}


# ---------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_dataset(name):
    """Returns (x_train, y_train, x_test, y_test): float32 N x 1 x 28 x 28 in [0,1], int64 labels."""
    if name == "fashion":
        d = os.path.join(ROOT, "data", "fashion-mnist")
        xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
        ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
        xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))
        yte = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    elif name == "mnist-10k":
        d = os.path.join(ROOT, "data", "mnist-10k")
        x = read_idx(os.path.join(d, "images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(d, "labels-idx1-ubyte.gz"))
        with open(os.path.join(ROOT, "bench", "reference", "mnist10k_split.json")) as f:
            split = json.load(f)
        tr, te = np.asarray(split["train"]), np.asarray(split["test"])
        xtr, ytr, xte, yte = x[tr], y[tr], x[te], y[te]
    else:
        raise ValueError(name)

    def prep(x, y):
        xf = x.astype(np.float32)
        xf /= 255.0  # in place: no second float copy of the images
        xt = torch.from_numpy(xf).reshape(-1, 1, 28, 28)
        return xt, torch.from_numpy(y.astype(np.int64))

    return (*prep(xtr, ytr), *prep(xte, yte))


# ---------------------------------------------------------------- models

def spike_grad():
    return surrogate.fast_sigmoid(slope=25)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 10))

    def forward(self, x):
        return self.net(x)

    def loss(self, out, y):
        return F.cross_entropy(out, y)

    def predict(self, out):
        return out.argmax(1)


class CNN(MLP):
    def __init__(self):
        nn.Module.__init__(self)
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10),
        )


def _count_diagnostics(spk_rec, y):
    """Sums over a batch: samples whose top spike count is shared by several classes (torch.argmax then
    picks the lowest index), samples with no output spike, and output spikes."""
    counts = spk_rec.sum(0)
    top = counts.max(1, keepdim=True).values
    return {
        "tied_top_count": ((counts == top).sum(1) > 1).sum().item(),
        "no_output_spike": (top.squeeze(1) == 0).sum().item(),
        "output_spikes": counts.sum().item(),
    }


class SpikingMLP(nn.Module):
    """snnTorch tutorial 5 network, static input current at every step."""

    def __init__(self, tutorial_loop=False):
        super().__init__()
        self.fc1 = nn.Linear(784, 800)
        self.lif1 = snn.Leaky(beta=0.95, threshold=1.0, reset_mechanism="subtract", spike_grad=spike_grad())
        self.fc2 = nn.Linear(800, 10)
        self.lif2 = snn.Leaky(beta=0.95, threshold=1.0, reset_mechanism="subtract", spike_grad=spike_grad())
        self.tutorial_loop = tutorial_loop

    def forward(self, x):
        x = x.flatten(1)
        mem1 = self.lif1.reset_mem()
        mem2 = self.lif2.reset_mem()
        cur1 = None if self.tutorial_loop else self.fc1(x)
        spk_rec, mem_rec = [], []
        for _ in range(NUM_STEPS):
            c1 = self.fc1(x) if self.tutorial_loop else cur1
            spk1, mem1 = self.lif1(c1, mem1)
            spk2, mem2 = self.lif2(self.readout(spk1), mem2)
            spk_rec.append(spk2)
            mem_rec.append(mem2)
        return torch.stack(spk_rec), torch.stack(mem_rec)

    def readout(self, spk1):
        return self.fc2(spk1)

    def loss(self, out, y):
        _, mem_rec = out
        return sum(F.cross_entropy(mem_rec[t], y) for t in range(mem_rec.shape[0]))

    def predict(self, out):
        return out[0].sum(0).argmax(1)

    def diagnostics(self, out, y):
        spk_rec, mem_rec = out
        return dict(_count_diagnostics(spk_rec, y), correct_by_membrane=(mem_rec.sum(0).argmax(1) == y).sum().item())


class DirectFeedbackLinear(torch.autograd.Function):
    """y = x W^T + b whose backward sends the output error e to x through a
    fixed random matrix B (e B) instead of W (e W): direct feedback alignment
    (Nokland 2016).  W and b get their true gradients."""

    @staticmethod
    def forward(ctx, x, weight, bias, feedback):
        ctx.save_for_backward(x, feedback)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, feedback = ctx.saved_tensors
        return grad_out @ feedback, grad_out.t() @ x, grad_out.sum(0), None


class SpikingMLPDFA(SpikingMLP):
    """snn_mlp trained by direct feedback alignment, as experiments/snn_mlp_dfa.toml:
    at every step, the error at the output layer's input current (dL/dI_out[t],
    after BPTT through the output Leaky) reaches the hidden spikes as
    e[t] B, B of shape (10, 800) fixed, uniform in +-1/sqrt(10) (cognitron's
    scale); the hidden Leaky backpropagates it through its own membrane only.
    With one hidden layer, DFA's feedback path is exactly this one matrix.
    snnTorch has no DFA: its neurons are used as they are, and the feedback
    is this custom autograd function."""

    def __init__(self, tutorial_loop=False):
        super().__init__(tutorial_loop)
        bound = 1.0 / 10 ** 0.5
        self.register_buffer("feedback", torch.empty(10, 800).uniform_(-bound, bound))

    def readout(self, spk1):
        return DirectFeedbackLinear.apply(spk1, self.fc2.weight, self.fc2.bias, self.feedback)


class SpikingCNN(nn.Module):
    """snnTorch tutorial 7 network, static input current at every step."""

    def __init__(self, tutorial_loop=False):
        super().__init__()
        beta = 0.5
        self.conv1 = nn.Conv2d(1, 12, 5)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad())
        self.conv2 = nn.Conv2d(12, 64, 5)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad())
        self.fc = nn.Linear(64 * 4 * 4, 10)
        self.lif3 = snn.Leaky(beta=beta, spike_grad=spike_grad())
        self.loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)
        self.tutorial_loop = tutorial_loop

    def forward(self, x):
        mem1 = self.lif1.reset_mem()
        mem2 = self.lif2.reset_mem()
        mem3 = self.lif3.reset_mem()
        cur1 = None if self.tutorial_loop else F.max_pool2d(self.conv1(x), 2)
        spk_rec = []
        for _ in range(NUM_STEPS):
            c1 = F.max_pool2d(self.conv1(x), 2) if self.tutorial_loop else cur1
            spk1, mem1 = self.lif1(c1, mem1)
            spk2, mem2 = self.lif2(F.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc(spk2.flatten(1)), mem3)
            spk_rec.append(spk3)
        return torch.stack(spk_rec)

    def loss(self, out, y):
        return self.loss_fn(out, y)

    def predict(self, out):
        return out.sum(0).argmax(1)

    def diagnostics(self, out, y):
        return _count_diagnostics(out, y)


class SpikingCNNWide(nn.Module):
    """experiments/snn_cnn_wide.toml: conv3x3(32, pad 1) pool LIF conv3x3(64, pad 1) pool LIF
    Linear(3136,128) LIF Linear(128,10) leaky readout; 10 steps of the static image; loss:
    cross-entropy of the readout membrane summed over the steps."""

    STEPS = 10

    def __init__(self):
        super().__init__()
        beta = 0.9
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad())
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad())
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.lif3 = snn.Leaky(beta=beta, spike_grad=spike_grad())
        self.fc2 = nn.Linear(128, 10)
        self.readout = snn.Leaky(beta=beta, reset_mechanism="none", spike_grad=spike_grad())

    def forward(self, x):
        mem1, mem2, mem3 = self.lif1.reset_mem(), self.lif2.reset_mem(), self.lif3.reset_mem()
        mem_out = self.readout.reset_mem()
        cur1 = F.max_pool2d(self.conv1(x), 2)
        acc = 0
        for _ in range(self.STEPS):
            spk1, mem1 = self.lif1(cur1, mem1)
            spk2, mem2 = self.lif2(F.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc1(spk2.flatten(1)), mem3)
            _, mem_out = self.readout(self.fc2(spk3), mem_out)
            acc = acc + mem_out
        return acc

    def loss(self, out, y):
        return F.cross_entropy(out, y)

    def predict(self, out):
        return out.argmax(1)


class RecurrentSNN(nn.Module):
    """Row-by-row recurrent spiking net, trained by BPTT."""

    BETA_HIDDEN = 0.95
    BETA_OUT = 0.95

    def __init__(self, readout_loss="sum"):
        super().__init__()
        self.readout_loss = readout_loss
        self.fc_in = nn.Linear(28, 128)
        self.rlif = snn.RLeaky(beta=self.BETA_HIDDEN, threshold=1.0, linear_features=128, all_to_all=True,
                               reset_mechanism="subtract", spike_grad=spike_grad())
        self.fc_out = nn.Linear(128, 10)
        self.readout = snn.Leaky(beta=self.BETA_OUT, reset_mechanism="none", spike_grad=spike_grad())

    def forward(self, x):
        rows = x.reshape(x.shape[0], 28, 28)
        cur = self.fc_in(rows)  # B x 28 steps x 128, one Linear call for all rows
        spk, mem = self.rlif.reset_mem()
        mem_out = self.readout.reset_mem()
        acc = 0
        for t in range(28):
            spk, mem = self.rlif(cur[:, t], spk, mem)
            _, mem_out = self.readout(self.fc_out(spk), mem_out)
            acc = acc + mem_out
        return acc if self.readout_loss == "sum" else mem_out

    def loss(self, out, y):
        return F.cross_entropy(out, y)

    def predict(self, out):
        return out.argmax(1)


def build(model, tutorial_loop=False, rsnn_readout="sum"):
    if model == "mlp":
        return MLP()
    if model == "cnn":
        return CNN()
    if model == "snn_mlp":
        return SpikingMLP(tutorial_loop)
    if model == "snn_mlp_dfa":
        return SpikingMLPDFA(tutorial_loop)
    if model == "snn_cnn":
        return SpikingCNN(tutorial_loop)
    if model == "snn_cnn_wide":
        return SpikingCNNWide()
    if model == "rsnn_bptt":
        return RecurrentSNN(rsnn_readout)
    raise ValueError(model)


# ---------------------------------------------------------------- train / eval

def evaluate(net, x, y, batch=1000):
    """Test accuracy, and for spiking nets the fractions of _count_diagnostics over the test set."""
    net.eval()
    correct = 0
    diag = {}
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = net(x[i:i + batch])
            correct += (net.predict(out) == y[i:i + batch]).sum().item()
            if hasattr(net, "diagnostics"):
                for k, v in net.diagnostics(out, y[i:i + batch]).items():
                    diag[k] = diag.get(k, 0) + v
    net.train()
    diag = {k: v / x.shape[0] for k, v in diag.items()}
    if "output_spikes" in diag:
        diag["output_spikes"] /= 10  # per output neuron per sample
    return correct / x.shape[0], diag


def train_batches(net, opt, x, y, order, batch, max_batches=None):
    """One pass over `order` in mini-batches; returns (mean loss, train accuracy, batches, seconds)."""
    total_loss, correct, seen, nb = 0.0, 0, 0, 0
    t0 = time.perf_counter()
    for i in range(0, order.shape[0], batch):
        if max_batches is not None and nb >= max_batches:
            break
        idx = order[i:i + batch]
        xb, yb = x[idx], y[idx]
        out = net(xb)
        loss = net.loss(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss {loss.item()} at batch {nb}")
        total_loss += loss.item() * idx.shape[0]
        with torch.no_grad():
            correct += (net.predict(out) == yb).sum().item()
        seen += idx.shape[0]
        nb += 1
    return total_loss / seen, correct / seen, nb, time.perf_counter() - t0


def versions():
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "snntorch": snn.__version__,
        "cpu": platform.processor() or platform.machine(),
    }


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_training(args):
    proto = PROTOCOL[args.model]
    lr = args.lr or proto["lr"]
    batch = args.batch or proto["batch"]
    epochs = args.epochs or proto["epochs"]
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte = load_dataset(args.dataset)
    rss_data = peak_rss_mib()
    net = build(args.model, args.tutorial_loop, args.rsnn_readout)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    # cognitron's cosine schedule: lr(e) = lr (1 + cos(pi e / epochs)) / 2 in epoch e = 0, 1, ...
    # (over the protocol's epochs even if fewer are run, so that a short run
    # follows the same learning rates as the first epochs of the full one)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=proto["epochs"]) if proto.get("cosine") else None
    gen = torch.Generator().manual_seed(args.seed)
    out_path = args.out or os.path.join(ROOT, "bench", "reference", f"torch_{args.model}_{args.dataset}.json")
    rec = {
        "model": args.model,
        "dataset": args.dataset,
        "n_train": int(xtr.shape[0]),
        "n_test": int(xte.shape[0]),
        "command": "python " + " ".join(sys.argv),
        "seed": args.seed,
        "threads": torch.get_num_threads(),
        "batch_size": batch,
        "lr": lr,
        "optimizer": "Adam(betas=(0.9, 0.999), eps=1e-8), "
                     + ("cosine lr over the epochs" if schedule else "constant lr"),
        "epochs_protocol": proto["epochs"] if args.model != "snn_cnn" else "as affordable (>= 1)",
        "epochs_run": 0,
        "num_steps": {"snn_mlp": NUM_STEPS, "snn_mlp_dfa": NUM_STEPS, "snn_cnn": NUM_STEPS, "rsnn_bptt": 28,
                      "snn_cnn_wide": SpikingCNNWide.STEPS}.get(args.model),
        "params": sum(p.numel() for p in net.parameters()),
        "versions": versions(),
        "peak_rss_mib_after_data_load": rss_data,
        "note_test_diagnostics": "spiking nets, per epoch on the test set: test_tied_top_count = fraction of "
                                 "samples whose top output spike count is shared (argmax -> lowest class), "
                                 "test_no_output_spike = fraction with no output spike, test_output_spikes = "
                                 "mean spikes per output neuron per sample, test_correct_by_membrane (snn_mlp) = "
                                 "accuracy of argmax of the output membrane summed over the steps",
        "train_loss": [],
        "train_accuracy": [],
        "test_accuracy": [],
        "wall_s_per_epoch": [],
        "batches_per_epoch": None,
        "note_timing": "wall_s_per_epoch: training only (forward+backward+Adam), niced, 1 torch thread, "
                       "on a 2-core machine shared with other jobs: an upper bound of the quiet-machine time",
    }
    if args.model in ("snn_mlp", "snn_mlp_dfa", "snn_cnn", "rsnn_bptt"):
        rec["neuron"] = {
            "snntorch_class": "RLeaky + Leaky(readout)" if args.model == "rsnn_bptt" else "Leaky",
            "beta": {"snn_mlp": 0.95, "snn_mlp_dfa": 0.95, "snn_cnn": 0.5}.get(
                args.model, {"hidden": RecurrentSNN.BETA_HIDDEN, "readout": RecurrentSNN.BETA_OUT}),
            "threshold": 1.0,
            "reset_mechanism": "subtract" if args.model != "rsnn_bptt" else
            {"hidden": "subtract", "readout": "none (membrane is the output)"},
            "reset_detached": True,
            "reset_delay": True,
            "surrogate": "fast_sigmoid(slope=25): forward H(U-theta) with strict >, backward 1/(1+25|U-theta|)^2",
            "input": "static image as input current at every step" if args.model != "rsnn_bptt"
            else "row t of the image (28 pixels) at step t, through Linear(28,128)",
            "loss": {"snn_mlp": "sum over 25 steps of cross_entropy(output membrane[t], y)",
                     "snn_mlp_dfa": "sum over 25 steps of cross_entropy(output membrane[t], y)",
                     "snn_cnn": "snntorch.functional.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)",
                     "rsnn_bptt": "cross_entropy(sum over 28 steps of readout membrane, y)"
                     if args.rsnn_readout == "sum" else
                     "cross_entropy(readout membrane at the last (28th) step, y)"}[args.model],
            "prediction": "argmax of output spike count" if args.model != "rsnn_bptt"
            else f"argmax of the readout membrane ({args.rsnn_readout} over time)",
            "input_layer_hoisted": (not args.tutorial_loop) and args.model in ("snn_mlp", "snn_mlp_dfa", "snn_cnn"),
        }
        if args.model == "snn_mlp_dfa":
            rec["credit_assignment"] = ("direct feedback alignment: the output error e[t] (gradient at the output "
                                        "Leaky's input current) reaches the hidden spikes as e[t] B, B (10 x 800) "
                                        "fixed uniform +-1/sqrt(10); DirectFeedbackLinear in this script")
    t_start = time.perf_counter()
    for ep in range(epochs):
        order = torch.randperm(xtr.shape[0], generator=gen)
        loss, tr_acc, nb, secs = train_batches(net, opt, xtr, ytr, order, batch)
        te_acc, diag = evaluate(net, xte, yte)
        for k, v in diag.items():
            rec.setdefault("test_" + k, []).append(v)
        rec["train_loss"].append(loss)
        rec["train_accuracy"].append(tr_acc)
        rec["test_accuracy"].append(te_acc)
        rec["wall_s_per_epoch"].append(secs)
        rec["batches_per_epoch"] = nb
        if schedule:
            schedule.step()
        rec["epochs_run"] = ep + 1
        rec["final_test_accuracy"] = te_acc
        rec["total_wall_s_including_eval"] = time.perf_counter() - t_start
        rec["peak_rss_mib"] = peak_rss_mib()
        print(f"[{args.model} {args.dataset}] epoch {ep + 1}/{epochs} loss {loss:.4f} "
              f"train {tr_acc:.4f} test {te_acc:.4f} ({secs:.1f} s)", flush=True)
        # Written after every epoch so an interrupted long run still leaves its curve.
        with open(out_path, "w") as f:
            json.dump(rec, f, indent=1)
    print(f"wrote {out_path}")


def run_timing(args):
    models = args.model.split(",") if args.model else list(PROTOCOL)
    xtr, ytr, _, _ = load_dataset(args.dataset)
    results = []
    for model in models:
        proto = PROTOCOL[model]
        batch = args.batch or proto["batch"]
        torch.manual_seed(args.seed)
        net = build(model, args.tutorial_loop, args.rsnn_readout)
        opt = torch.optim.Adam(net.parameters(), lr=args.lr or proto["lr"], betas=(0.9, 0.999), eps=1e-8)
        gen = torch.Generator().manual_seed(args.seed)
        # One warm-up batch (allocator, first-call overheads) outside the timing.
        order = torch.randperm(xtr.shape[0], generator=gen)
        train_batches(net, opt, xtr, ytr, order, batch, max_batches=1)
        batches_per_epoch = -(-xtr.shape[0] // batch)
        if args.batches > 0:
            _, _, nb, secs = train_batches(net, opt, xtr, ytr, order[batch:], batch, max_batches=args.batches)
            per_batch = secs / nb
            epoch_s = per_batch * batches_per_epoch
            extrapolated = True
        else:
            secs, nb = 0.0, 0
            for _ in range(args.epochs or 1):
                order = torch.randperm(xtr.shape[0], generator=gen)
                _, _, b, s = train_batches(net, opt, xtr, ytr, order, batch)
                secs += s
                nb += b
            per_batch = secs / nb
            epoch_s = secs / (args.epochs or 1)
            extrapolated = False
        results.append({
            "model": model,
            "dataset": args.dataset,
            "n_train": int(xtr.shape[0]),
            "threads": torch.get_num_threads(),
            "batch_size": batch,
            "num_steps": {"snn_mlp": NUM_STEPS, "snn_mlp_dfa": NUM_STEPS, "snn_cnn": NUM_STEPS, "rsnn_bptt": 28,
                          "snn_cnn_wide": SpikingCNNWide.STEPS}.get(model),
            "batches_timed": nb,
            "s_per_batch": per_batch,
            "s_per_epoch": epoch_s,
            "epoch_extrapolated": extrapolated,
            "tutorial_loop": args.tutorial_loop,
            # Process-wide peak (includes the data and earlier models): time one model per call for its own.
            "peak_rss_mib_process": peak_rss_mib(),
        })
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"versions": versions(), "results": results}, indent=1))


# ---------------------------------------------------------------- equation check

class _Spike(torch.autograd.Function):
    """H(x) with strict >, backward 1/(1+k|x|)^2: the docstring's fast_sigmoid, written independently."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1.0 + ctx.k * x.abs()) ** 2, None


def _manual_leaky(cur, beta, theta, mode, w_rec=None, b_rec=None, k=25.0):
    """The docstring's Leaky (w_rec None) / RLeaky equations over cur: T x B x N."""
    mem = torch.zeros_like(cur[0])
    spk = torch.zeros_like(cur[0])
    spks, mems = [], []
    for t in range(cur.shape[0]):
        reset = (mem - theta > 0).to(cur.dtype)  # detached: a plain comparison carries no gradient
        base_input = cur[t] if w_rec is None else cur[t] + spk @ w_rec.T + b_rec
        if mode == "subtract":
            mem = beta * mem + base_input - reset * theta
        elif mode == "zero":
            mem = (1 - reset) * beta * mem + base_input if w_rec is None else (1 - reset) * (beta * mem + base_input)
        else:
            mem = beta * mem + base_input
        spk = _Spike.apply(mem - theta, k)
        spks.append(spk)
        mems.append(mem)
    return torch.stack(spks), torch.stack(mems)


def check_equations(args):
    """Compares snnTorch's Leaky/RLeaky (forward and BPTT gradients) with the docstring's equations."""
    torch.manual_seed(args.seed)
    T, B, N = 30, 4, 16
    report = {"versions": versions(), "T": T, "B": B, "N": N, "cases": []}
    ok = True
    for recurrent in (False, True):
        for mode in ("subtract", "zero", "none"):
            beta, theta = 0.9, 1.0
            # float32: snnTorch's spike functions return .float() whatever the input dtype
            cur0 = (torch.rand(T, B, N) * 0.6).requires_grad_(True)
            probe_s, probe_m = torch.randn(T, B, N), torch.randn(T, B, N)
            if recurrent:
                lif = snn.RLeaky(beta=beta, threshold=theta, linear_features=N, all_to_all=True,
                                 reset_mechanism=mode, spike_grad=spike_grad())
            else:
                lif = snn.Leaky(beta=beta, threshold=theta, reset_mechanism=mode, spike_grad=spike_grad())
            if recurrent:
                spk, mem = lif.reset_mem()
            else:
                mem = lif.reset_mem()
            s_ref, m_ref = [], []
            for t in range(T):
                if recurrent:
                    spk, mem = lif(cur0[t], spk, mem)
                else:
                    spk, mem = lif(cur0[t], mem)
                s_ref.append(spk)
                m_ref.append(mem)
            s_ref, m_ref = torch.stack(s_ref), torch.stack(m_ref)
            params = [cur0] + ([lif.recurrent.weight, lif.recurrent.bias] if recurrent else [])
            g_ref = torch.autograd.grad((s_ref * probe_s).sum() + (m_ref * probe_m).sum(), params)
            w = lif.recurrent.weight if recurrent else None
            b = lif.recurrent.bias if recurrent else None
            s_man, m_man = _manual_leaky(cur0, beta, theta, mode, w, b)
            g_man = torch.autograd.grad((s_man * probe_s).sum() + (m_man * probe_m).sum(), params)
            case = {
                "neuron": "RLeaky" if recurrent else "Leaky",
                "reset_mechanism": mode,
                "spikes": int(s_ref.sum().item()),
                "max_abs_diff_mem": (m_ref - m_man).abs().max().item(),
                "spikes_differ": int((s_ref != s_man).sum().item()),
                # relative to the largest gradient: BPTT through 30 recurrent steps reaches |g| ~ 1e2,
                # where float32 summation order (addmm vs matmul) alone gives ~1e-6 relative
                "max_rel_diff_grads": max(((a - c).abs().max() / a.abs().max()).item() for a, c in zip(g_ref, g_man)),
            }
            case["match"] = (case["max_abs_diff_mem"] < 1e-4 and case["spikes_differ"] == 0
                             and case["max_rel_diff_grads"] < 1e-5)
            ok &= case["match"]
            report["cases"].append(case)
    # DirectFeedbackLinear: the forward and the weight gradients of nn.Linear, the input gradient e B.
    torch.manual_seed(1)
    layer = nn.Linear(800, 10)
    feedback = torch.empty(10, 800).uniform_(-0.3, 0.3)
    spikes = (torch.rand(16, 800) < 0.2).float().requires_grad_()
    probe = torch.randn(16, 10)
    out_ref = layer(spikes)
    g_ref = torch.autograd.grad((out_ref * probe).sum(), [layer.weight, layer.bias])
    out_dfa = DirectFeedbackLinear.apply(spikes, layer.weight, layer.bias, feedback)
    g_x, g_w, g_b = torch.autograd.grad((out_dfa * probe).sum(), [spikes, layer.weight, layer.bias])
    case = {
        "function": "DirectFeedbackLinear",
        "max_abs_diff_forward": (out_ref - out_dfa).abs().max().item(),
        "max_abs_diff_weight_grads": max((a - c).abs().max().item() for a, c in zip(g_ref, (g_w, g_b))),
        "max_abs_diff_input_grad_vs_eB": (g_x - probe @ feedback).abs().max().item(),
    }
    case["match"] = max(v for k, v in case.items() if k.startswith("max")) < 1e-5
    ok &= case["match"]
    report["cases"].append(case)
    report["all_match"] = ok
    print(json.dumps(report, indent=1))
    if not ok:
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="mlp|cnn|snn_mlp|snn_mlp_dfa|snn_cnn|snn_cnn_wide|rsnn_bptt (comma list in --time-only)")
    p.add_argument("--dataset", default="fashion", choices=["fashion", "mnist-10k"])
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="JSON path (default bench/reference/torch_<model>_<dataset>.json)")
    p.add_argument("--time-only", action="store_true", help="time training only, print JSON, write nothing")
    p.add_argument("--batches", type=int, default=50, help="--time-only: batches to time (0: full --epochs)")
    p.add_argument("--rsnn-readout", default="sum", choices=["sum", "last"],
                   help="rsnn_bptt logits: readout membrane summed over the 28 steps, or at the last step")
    p.add_argument("--check-equations", action="store_true",
                   help="check the docstring's Leaky/RLeaky equations against snnTorch (forward and gradients)")
    p.add_argument("--tutorial-loop", action="store_true",
                   help="recompute the static input layer at every step, as the snnTorch tutorials do")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.check_equations:
        check_equations(args)
    elif args.time_only:
        run_timing(args)
    else:
        if not args.model:
            p.error("--model is required")
        run_training(args)


if __name__ == "__main__":
    main()
