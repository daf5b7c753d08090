#!/usr/bin/env python3
"""Single COBA-HH cells in Brian2 (exponential Euler, dt 0.1 ms), step by step.

    /work/venvs/ref/bin/python bench/reference/make_hh_cell_reference.py

Writes bench/reference/brian2_hh_cell.json: the membrane potential after every
step and the spike steps of two cells with the equations of Brian2's
examples/COBAHH.py (Brette et al. 2007 benchmark 3; see brian2_networks.COBA_HH_EQS)
plus a constant current I_bias:
  cell 0: I_bias = 300 pA, no synaptic input (regular firing);
  cell 1: I_bias = 0, driven through ge (+6 nS) and gi (+67 nS) by fixed input
          spike trains (Poisson, 2500 Hz and 300 Hz, enough for irregular firing),
          given as step indices.
Initial state of both: v = -65 mV, m = 0.05, h = 0.6, n = 0.3, ge = gi = 0.
cognitron integrates the same cells with the same scheme (crates/core/tests/hh.rs
compares the two step by step).
"""
import datetime
import json
import os
import platform
import sys

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import brian2_networks as bn  # noqa: E402

DT_MS = 0.1
DURATION_MS = 300.0
STEPS = int(round(DURATION_MS / DT_MS))


def main():
    import brian2 as b2
    from brian2 import ms, mV, nS, pA, umetre, cm, ufarad, siemens, msiemens
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT_MS * ms
    rng = np.random.default_rng(2007)
    exc_steps = np.nonzero(rng.random(STEPS) < 2500.0 * DT_MS * 1e-3)[0]
    inh_steps = np.nonzero(rng.random(STEPS) < 300.0 * DT_MS * 1e-3)[0]
    area = 20000 * umetre ** 2
    ns = dict(Cm=(1 * ufarad * cm ** -2) * area, gl=(5e-5 * siemens * cm ** -2) * area,
              El=-60 * mV, EK=-90 * mV, ENa=50 * mV,
              g_na=(100 * msiemens * cm ** -2) * area, g_kd=(30 * msiemens * cm ** -2) * area,
              VT=-63 * mV, taue=5 * ms, taui=10 * ms, Ee=0 * mV, Ei=-80 * mV,
              we=6 * nS, wi=67 * nS)
    eqs = bn.COBA_HH_EQS.replace("*(v-EK))/Cm : volt", "*(v-EK) + I_bias)/Cm : volt") + "I_bias : amp\n"
    assert "I_bias)/Cm" in eqs
    P = b2.NeuronGroup(2, b2.Equations(eqs), threshold="v>-20*mV", refractory=3 * ms,
                       method="exponential_euler", namespace=ns)
    P.v = -65 * mV
    P.m, P.h, P.n = 0.05, 0.6, 0.3
    P.I_bias = [300, 0] * pA
    # input: spike in step s -> ge += we at the end of step s, acting from step s + 1
    n_e, n_i = len(exc_steps), len(inh_steps)
    G = b2.SpikeGeneratorGroup(2, np.r_[np.zeros(n_e, int), np.ones(n_i, int)],
                               np.r_[exc_steps, inh_steps] * DT_MS * ms)
    Se = b2.Synapses(G, P, on_pre="ge += we", namespace=ns)
    Se.connect(i=0, j=1)
    Si = b2.Synapses(G, P, on_pre="gi += wi", namespace=ns)
    Si.connect(i=1, j=1)
    # when="end": the value after each step's update (cognitron's state monitor)
    mon = b2.StateMonitor(P, "v", record=True, when="end")
    spikes = b2.SpikeMonitor(P)
    b2.run(DURATION_MS * ms)
    v = mon.v / mV
    out = dict(
        tool="brian2", versions=dict(brian2=b2.__version__, numpy=np.__version__,
                                     python=platform.python_version()),
        command="python bench/reference/make_hh_cell_reference.py",
        generated=datetime.datetime.now().isoformat(timespec="seconds"),
        description=__doc__.strip(), dt_ms=DT_MS, steps=STEPS, codegen_target="numpy",
        equations=eqs.strip().splitlines(),
        init=dict(v_mv=-65.0, m=0.05, h=0.6, n=0.3), i_bias_pa=[300.0, 0.0],
        input_exc_steps=exc_steps.tolist(), input_inh_steps=inh_steps.tolist(),
        # v after step k (k = 0 .. steps-1), i.e. at time (k + 1) * dt
        v_mv=[v[0].tolist(), v[1].tolist()],
        spike_steps=[np.round(spikes.spike_trains()[k] / (DT_MS * ms)).astype(int).tolist()
                     for k in range(2)],
    )
    path = os.path.join(HERE, "brian2_hh_cell.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path, "spikes:", [len(s) for s in out["spike_steps"]],
          "samples:", [len(x) for x in out["v_mv"]])


if __name__ == "__main__":
    main()
