"""Spike times of the AdEx firing patterns (Naud et al. 2008, Table 1) in Brian2,
as the reference for crates/core/tests/adex.rs (`example_matches_brian2_spike_times`).

Same protocol as experiments/adex_patterns.toml: one neuron per pattern, at rest
(v = E_L, w = 0), the table's step current I from 50 ms on, 600 ms in all.
Brian2 integrates with RK4 at dt = 0.001 ms (a hundred times finer than cognitron's
0.1 ms); the right-hand side sees v clipped at the 0 mV cut-off, as in cognitron
and NEST; threshold v > 0 mV, reset v = V_r, w += b. Brian2 records a spike
at the start of the 0.001 ms step whose end state crosses (Cython code generation).

Run from the repository root (~1 min on 2 shared cores):
    /work/venvs/ref/bin/python bench/reference/adex_brian2.py
"""
import json
import platform
import sys

import brian2
import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, defaultclock, mV, ms, nS, pA, pF, prefs, run, start_scope, volt

# C (pF), g_L (nS), E_L, V_T, Delta_T (mV), a (nS), tau_w (ms), b (pA), V_r (mV), I (pA)
TABLE = {
    "tonic": (200, 10, -70, -50, 2, 2, 30, 0, -58, 500),
    "adapting": (200, 12, -70, -50, 2, 2, 300, 60, -58, 500),
    "initial_burst": (130, 18, -58, -50, 2, 4, 150, 120, -50, 400),
    "regular_bursting": (200, 10, -58, -50, 2, 2, 120, 100, -46, 210),
    "delayed_accelerating": (200, 12, -70, -50, 2, -10, 300, 0, -58, 300),
    "delayed_regular_bursting": (100, 10, -65, -50, 2, -10, 90, 30, -47, 110),
    "transient": (100, 10, -65, -50, 2, 10, 90, 100, -47, 180),
    "irregular": (100, 12, -60, -50, 2, -11, 130, 30, -48, 160),
}
ONSET_MS, DURATION_MS, DT_MS = 50.0, 600.0, 0.001


def spikes(row):
    c, g_l, e_l, v_t, delta_t, a, tau_w, b, v_r, i = row
    start_scope()
    defaultclock.dt = DT_MS * ms
    ns = dict(C=c * pF, gL=g_l * nS, EL=e_l * mV, VT=v_t * mV, DT=delta_t * mV, a=a * nS, tw=tau_w * ms, b=b * pA, Vr=v_r * mV)
    eqs = """
    dv/dt = (-gL*(v - EL) + gL*DT*exp((clip(v, -1*volt, 0*mV) - VT)/DT) - w + I_inj)/C : volt
    dw/dt = (a*(clip(v, -1*volt, 0*mV) - EL) - w)/tw : amp
    I_inj : amp
    """
    group = NeuronGroup(1, eqs, threshold="v > 0*mV", reset="v = Vr; w += b", method="rk4", namespace=ns)
    group.v = e_l * mV
    monitor = SpikeMonitor(group)
    run(ONSET_MS * ms)
    group.I_inj = i * pA
    run((DURATION_MS - ONSET_MS) * ms)
    return [round(float(t), 6) for t in monitor.t / ms]


def main():
    prefs.codegen.target = "cython"
    out = {
        "patterns": {name: spikes(row) for name, row in TABLE.items()},
        "protocol": {"onset_ms": ONSET_MS, "duration_ms": DURATION_MS, "dt_ms": DT_MS, "method": "rk4", "v_peak_mv": 0.0},
        "table": {name: list(row) for name, row in TABLE.items()},
        "versions": {"python": platform.python_version(), "brian2": brian2.__version__, "numpy": np.__version__},
        "command": " ".join(sys.argv),
    }
    with open("bench/reference/brian2_adex_patterns.json", "w") as f:
        json.dump(out, f, indent=1)
    for name, t in out["patterns"].items():
        print(f"{name}: {len(t)} spikes")


if __name__ == "__main__":
    main()
