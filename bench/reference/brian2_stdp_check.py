"""The pairing protocols of stdp_reference.py (section b) run in Brian2, as a
check of the event-driven reference values by an independent simulator.

Run from the repository root (about 5 min on 2 shared cores: 312 s measured,
most of it the 590 s of simulated time of the 0.1 Hz protocol):

    nice -n 19 /work/venvs/ref/bin/python bench/reference/brian2_stdp_check.py

Environment used for the committed JSON: Python 3.11.7, brian2 2.9.0, numpy
2.3.5, Cython code generation (runtime target), dt = 0.1 ms (versions and
command are also stored in the JSON). Writes bench/reference/brian2_stdp.json.

Model: one SpikeGeneratorGroup for the pre and one for the post neurons, one
neuron pair per protocol (6 frequencies x delta_t = +10, -10 ms), spikes at
pre k T + 20 ms, post k T + 20 ms + delta_t (k = 0..59, T = 1000/rho ms). One
Synapses object per rule (i -> i), traces as event-driven variables, written
the way Brian2's own STDP example (examples/synapses/STDP.py) writes them:

    on_pre : w = w - o1*(A2m + A3m*r2); r1 += 1; r2 += 1
    on_post: w = w + r1*(A2p + A3p*o2); o1 += 1; o2 += 1

(the pair rule is the same with A3p = A3m = 0). Brian2 updates event-driven
variables with their exact solution at each event, so the only difference
from the event-driven reference is that SpikeGeneratorGroup moves every spike
onto the 0.1 ms grid (floor of t/dt + 1e-3). Brian2 runs the on_pre pathway
before on_post in the same step (orders -1 and +1), the reference's order.

Stored per rule and protocol: Brian2's dw, the reference dw at the exact
times (stdp_reference.json), the reference recomputed at the spike times
Brian2 actually used (SpikeMonitor), and both differences. The second
difference is floating-point noise (asserted < 1e-12); the first is the dt
discretisation of spike times (only 30 Hz, T = 33.33.. ms, has off-grid spikes).
"""
import json
import pathlib
import platform
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import stdp_reference as ref  # noqa: E402

import brian2  # noqa: E402
from brian2 import (ms, second, Network, SpikeGeneratorGroup, SpikeMonitor, Synapses,  # noqa: E402
                    defaultclock, prefs)

OUT = pathlib.Path(__file__).with_name("brian2_stdp.json")
T0 = 20.0  # ms, first pair; keeps post >= 0 for delta_t = -10
RULE_NAMES = ["pair_all_to_all", "triplet_all_to_all_full_visual", "triplet_all_to_all_minimal_visual"]

MODEL = """w : 1
dr1/dt = -r1 / tau_plus : 1 (event-driven)
dr2/dt = -r2 / tau_x : 1 (event-driven)
do1/dt = -o1 / tau_minus : 1 (event-driven)
do2/dt = -o2 / tau_y : 1 (event-driven)"""
ON_PRE = """w = w - o1 * (A2m + A3m * r2)
r1 += 1
r2 += 1"""
ON_POST = """w = w + r1 * (A2p + A3p * o2)
o1 += 1
o2 += 1"""


def main():
    prefs.codegen.target = "cython"
    defaultclock.dt = 0.1 * ms
    protocols = [(rho, d) for d in ref.DELTAS for rho in ref.RHOS]
    pre_i, pre_t, post_i, post_t = [], [], [], []
    for idx, (rho, d) in enumerate(protocols):
        pre, post = ref.pairing_trains(rho, d)
        pre_i += [idx] * len(pre)
        pre_t += list(pre + T0)
        post_i += [idx] * len(post)
        post_t += list(post + T0)
    n = len(protocols)
    pre_g = SpikeGeneratorGroup(n, pre_i, np.array(pre_t) * ms)
    post_g = SpikeGeneratorGroup(n, post_i, np.array(post_t) * ms)
    mon_pre, mon_post = SpikeMonitor(pre_g), SpikeMonitor(post_g)
    net = Network(pre_g, post_g, mon_pre, mon_post)
    syns = {}
    for name in RULE_NAMES:
        p, inter = ref.RULES[name]
        assert inter == "all_to_all"
        ns = dict(tau_plus=p["tau_plus"] * ms, tau_minus=p["tau_minus"] * ms, tau_x=p["tau_x"] * ms,
                  tau_y=p["tau_y"] * ms, A2p=p["A2_plus"], A3p=p["A3_plus"], A2m=p["A2_minus"],
                  A3m=p["A3_minus"])
        s = Synapses(pre_g, post_g, MODEL, on_pre=ON_PRE, on_post=ON_POST, namespace=ns, name=name)
        s.connect(j="i")
        s.w = 0.0
        syns[name] = s
        net.add(s)
    duration = max(max(pre_t), max(post_t)) + 1.0
    t_start = time.time()
    net.run(duration * ms)
    wall = time.time() - t_start

    spikes_pre = mon_pre.spike_trains()
    spikes_post = mon_post.spike_trains()
    ref_json = json.loads(ref.OUT.read_text())["b_protocols"]["rules"]
    results, worst_same, worst_dt = {}, 0.0, 0.0
    for name in RULE_NAMES:
        p, inter = ref.RULES[name]
        w = np.asarray(syns[name].w[:])
        per = {}
        for d in ref.DELTAS:
            key = "dt_plus10" if d > 0 else "dt_minus10"
            rows = {"dw_brian2": [], "dw_reference_exact_times": [], "dw_reference_brian2_times": [],
                    "brian2_minus_reference_exact": [], "brian2_minus_reference_brian2_times": []}
            for j, rho in enumerate(ref.RHOS):
                k = protocols.index((rho, d))
                assert syns[name].i[k] == k and syns[name].j[k] == k
                dw_b = float(w[k])
                dw_exact = ref_json[name][key]["dw"][j]
                tp = np.asarray(spikes_pre[k] / ms)
                tq = np.asarray(spikes_post[k] / ms)
                assert len(tp) == ref.N_PAIRS and len(tq) == ref.N_PAIRS
                dw_same = ref.simulate(tp, tq, p, inter, w0=0.0)
                rows["dw_brian2"].append(dw_b)
                rows["dw_reference_exact_times"].append(dw_exact)
                rows["dw_reference_brian2_times"].append(dw_same)
                rows["brian2_minus_reference_exact"].append(dw_b - dw_exact)
                rows["brian2_minus_reference_brian2_times"].append(dw_b - dw_same)
                worst_same = max(worst_same, abs(dw_b - dw_same))
                worst_dt = max(worst_dt, abs(dw_b - dw_exact))
            per[key] = rows
        results[name] = per
    assert worst_same < 1e-12, worst_same

    data = {
        "doc": "Brian2 (runtime, Cython, dt = 0.1 ms) run of the pairing protocols of "
               "stdp_reference.json section b_protocols for the all-to-all rules: 60 pairs, pre at "
               "20 ms + k*1000/rho, post delta_t later (ms). dw = final w (w starts at 0, additive, "
               "no bounds, so dw does not depend on the start). 'dw_reference_exact_times' = event-driven reference at the exact times; "
               "'dw_reference_brian2_times' = the same reference code run on the spike times Brian2 "
               "emitted (SpikeMonitor: on the 0.1 ms grid). brian2_minus_reference_brian2_times is "
               "float noise (max in max_abs_vs_reference_same_times); brian2_minus_reference_exact "
               "is the spike-time discretisation (max in max_abs_vs_reference_exact_times).",
        "command": "nice -n 19 /work/venvs/ref/bin/python bench/reference/brian2_stdp_check.py",
        "versions": {"python": platform.python_version(), "brian2": brian2.__version__,
                     "numpy": np.__version__, "codegen_target": "cython"},
        "dt_ms": 0.1,
        "model": {"equations": MODEL, "on_pre": ON_PRE, "on_post": ON_POST},
        "rho_hz": ref.RHOS,
        "max_abs_vs_reference_same_times": worst_same,
        "max_abs_vs_reference_exact_times": worst_dt,
        "wall_s": wall,
        "rules": results,
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} (Brian2 run {wall:.0f} s); max |brian2 - ref(same times)| = {worst_same:.2e}, "
          f"max |brian2 - ref(exact times)| = {worst_dt:.2e}")
    for name in RULE_NAMES:
        for key in ("dt_plus10", "dt_minus10"):
            r = results[name][key]
            print(f"{name} {key}".ljust(42) + "".join(f"{x:9.5f}" for x in r["dw_brian2"]))
            print("   diff vs exact".ljust(42) + "".join(f"{x:9.1e}" for x in r["brian2_minus_reference_exact"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
