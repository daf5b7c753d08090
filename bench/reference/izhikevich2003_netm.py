"""Reference statistics of the Izhikevich (2003) network, from the paper's own
algorithm: net.m (IEEE Trans Neural Netw 14:1569, Fig. 3 and the code printed
with it), written out in numpy: 800 excitatory + 200 inhibitory neurons, one
r ~ U(0, 1) per neuron, all-to-all weights 0.5 U(0, 1) / -U(0, 1), thalamic
input 5 N(0, 1) / 2 N(0, 1) per ms, 1 ms steps with two 0.5 ms half steps of v.

Writes bench/reference/izhikevich2003_netm.json: per seed, the mean rate of
each population (Hz) and the frequency (Hz) of the largest peak of the
population-rate power spectrum (1 ms bins, all 1000 neurons, plain DFT of the
mean-subtracted counts, 5-100 Hz), the same statistic that
crates/core/tests/izhikevich.rs computes.

    /work/venvs/ref/bin/python bench/reference/izhikevich2003_netm.py
"""
import datetime
import json
import pathlib
import platform

import numpy as np

NE, NI, T_MS = 800, 200, 1000


def net_m(seed):
    rng = np.random.default_rng(seed)
    re, ri = rng.random(NE), rng.random(NI)
    a = np.r_[0.02 * np.ones(NE), 0.02 + 0.08 * ri]
    b = np.r_[0.2 * np.ones(NE), 0.25 - 0.05 * ri]
    c = np.r_[-65 + 15 * re**2, -65 * np.ones(NI)]
    d = np.r_[8 - 6 * re**2, 2 * np.ones(NI)]
    s = np.c_[0.5 * rng.random((NE + NI, NE)), -rng.random((NE + NI, NI))]
    v = -65.0 * np.ones(NE + NI)
    u = b * v
    times, neurons = [], []
    for t in range(T_MS):
        i_in = np.r_[5 * rng.standard_normal(NE), 2 * rng.standard_normal(NI)]
        fired = np.nonzero(v >= 30)[0]
        times += [t] * len(fired)
        neurons += list(fired)
        v[fired] = c[fired]
        u[fired] += d[fired]
        i_in += s[:, fired].sum(1)
        v += 0.5 * (0.04 * v**2 + 5 * v + 140 - u + i_in)
        v += 0.5 * (0.04 * v**2 + 5 * v + 140 - u + i_in)
        u += a * (b * v - u)
    return np.array(times), np.array(neurons)


def spectral_peak(times):
    counts = np.bincount(times, minlength=T_MS)[:T_MS].astype(float)
    counts -= counts.mean()
    power = np.abs(np.fft.rfft(counts)) ** 2
    freqs = np.fft.rfftfreq(T_MS, 1e-3)
    band = (freqs >= 5) & (freqs <= 100)
    return float(freqs[band][np.argmax(power[band])])


def main():
    runs = []
    for seed in range(20):
        times, neurons = net_m(seed)
        runs.append(
            {
                "seed": seed,
                "rate_exc_hz": float((neurons < NE).sum() / NE / (T_MS / 1000)),
                "rate_inh_hz": float((neurons >= NE).sum() / NI / (T_MS / 1000)),
                "peak_hz": spectral_peak(times),
            }
        )
        print(runs[-1], flush=True)
    out = {
        "tool": "numpy (the published net.m algorithm)",
        "model": "izhikevich2003",
        "versions": {"numpy": np.__version__, "python": platform.python_version()},
        "command": "python bench/reference/izhikevich2003_netm.py",
        "generated": datetime.datetime.now().isoformat(timespec="seconds"),
        "duration_ms": T_MS,
        "runs": runs,
    }
    path = pathlib.Path(__file__).with_name("izhikevich2003_netm.json")
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
