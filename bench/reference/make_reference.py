#!/usr/bin/env python3
"""Generate Brian2 reference statistics for cognitron.

    /work/venvs/ref/bin/python bench/reference/make_reference.py            # cuba coba brunel
    /work/venvs/ref/bin/python bench/reference/make_reference.py --models coba_hh
    /work/venvs/ref/bin/python bench/reference/make_reference.py --models cuba

Writes bench/reference/brian2_<model>.json. Statistics (identical definition in
cognitron): per population rate_hz = spikes / (n * duration_s); cv_isi = mean over
neurons with >= 3 spikes of std(ISI)/mean(ISI) (numpy std, ddof=0); over the
whole run including the initial transient.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import brian2_networks as bn  # noqa: E402

DEFAULTS = {
    "cuba": dict(N=4000, duration_s=2.0, seeds=[1, 2, 3, 4, 5]),
    "coba": dict(N=4000, duration_s=2.0, seeds=[1, 2, 3, 4, 5]),
    "brunel": dict(N=12500, duration_s=1.0, seeds=[1, 2]),
    "coba_hh": dict(N=4000, duration_s=2.0, seeds=[1, 2, 3, 4, 5]),
}


def versions():
    import brian2
    v = dict(brian2=brian2.__version__, numpy=np.__version__, python=platform.python_version())
    try:
        import Cython
        v["cython"] = Cython.__version__
    except ImportError:
        pass
    try:
        import sympy
        v["sympy"] = sympy.__version__
    except ImportError:
        pass
    return v


def late_rate(res, window_s=0.5):
    T = res["duration_s"]
    return float(np.sum(res["spike_t"] >= T - window_s) / (res["n_neurons"] * window_s))


def sustained(res, min_rate_hz=0.5):
    """activity in the last 500 ms, and in each 100 ms bin of that window"""
    T = res["duration_s"]
    h, _ = np.histogram(res["spike_t"], bins=np.linspace(T - 0.5, T, 6))
    return bool(late_rate(res) >= min_rate_hz and np.all(h > 0))


def summarize(per_seed):
    pops = per_seed[0]["stats"].keys()
    out = {}
    for p in pops:
        out[p] = {}
        for key in ("rate_hz", "cv_isi"):
            vals = [s["stats"][p][key] for s in per_seed if s["stats"][p][key] is not None]
            out[p][key] = dict(mean=float(np.mean(vals)) if vals else None,
                               std=float(np.std(vals)) if vals else None,  # across seeds, ddof=0
                               values=vals)
    return out


def run_model(model, N, duration_s, seeds, target, **kw):
    per_seed = []
    fn = bn.MODELS[model]
    for s in seeds:
        t0 = time.perf_counter()
        res = fn(N=N, duration_s=duration_s, seed=s, device="runtime", target=target, **kw)
        wall = time.perf_counter() - t0
        st = bn.population_stats(res)
        entry = dict(seed=s, stats=st, late_rate_hz_last_500ms=late_rate(res),
                     sustained=sustained(res), n_synapses=res["n_synapses"],
                     wall_s=wall)
        print(f"[{model}{'/' + kw['variant'] if 'variant' in kw else ''}] seed {s}: "
              + ", ".join(f"{p} {v['rate_hz']:.3f} Hz cv {v['cv_isi']}" for p, v in st.items())
              + f"  late {entry['late_rate_hz_last_500ms']:.2f} Hz  ({wall:.1f} s)", flush=True)
        per_seed.append((entry, res["params"]))
    return [e for e, _ in per_seed], per_seed[0][1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["cuba", "coba", "brunel"], choices=list(DEFAULTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--target", default="cython", choices=["cython", "numpy"])
    ap.add_argument("--outdir", default=HERE)
    args = ap.parse_args()
    cmd = "python " + " ".join([os.path.relpath(sys.argv[0], os.path.dirname(os.path.dirname(HERE)))] + sys.argv[1:])

    for model in args.models:
        d = dict(DEFAULTS[model])
        seeds = args.seeds or d["seeds"]
        extra = {}
        variant_log = []
        if model == "coba":
            # choose the first variant that sustains activity for every seed
            for variant in ("base", "a", "b"):
                per_seed, params = run_model(model, d["N"], d["duration_s"], seeds, args.target,
                                             variant=variant)
                ok = all(e["sustained"] for e in per_seed)
                variant_log.append(dict(variant=variant, sustained_all_seeds=ok,
                                        late_rates_hz=[e["late_rate_hz_last_500ms"] for e in per_seed]))
                if ok:
                    break
            extra["variant_selection"] = variant_log
        else:
            per_seed, params = run_model(model, d["N"], d["duration_s"], seeds, args.target)
        out = dict(
            tool="brian2",
            model=model,
            versions=versions(),
            device=f"runtime (codegen target {args.target})",
            command=cmd,
            generated=datetime.datetime.now().isoformat(timespec="seconds"),
            N=d["N"], duration_s=d["duration_s"], dt_ms=0.1, seeds=seeds,
            populations={k: dict(start=v[0], stop=v[1]) for k, v in
                         (("exc", [0, int(round(0.8 * d["N"]))]),
                          ("inh", [int(round(0.8 * d["N"])), d["N"]]),
                          ("all", [0, d["N"]]))},
            statistics_definition=("rate_hz = spikes/(n*duration_s); cv_isi = mean over neurons with >=3 "
                                   "spikes of std(ISI)/mean(ISI), numpy std ddof=0; whole run incl. start; "
                                   "across-seed std uses ddof=0"),
            params=params,
            summary=summarize(per_seed),
            per_seed=per_seed,
            **extra,
        )
        path = os.path.join(args.outdir, f"brian2_{model}.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=2)
        print("wrote", path, flush=True)
        for p, v in out["summary"].items():
            print(f"  {p}: rate {v['rate_hz']['mean']:.3f} +- {v['rate_hz']['std']:.3f} Hz, "
                  f"cv {v['cv_isi']['mean']:.3f} +- {v['cv_isi']['std']:.3f}")


if __name__ == "__main__":
    main()
