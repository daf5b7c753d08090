#!/usr/bin/env python3
"""Write bench/RESULTS.md from the JSON that bench_vs_brian2.py --json-out wrote.

    python3 bench/make_results_md.py /tmp/bench.json                 # -> bench/RESULTS.md
    python3 bench/make_results_md.py /tmp/bench.json --out /tmp/R.md

Everything in the file comes from the JSON: the rows (the tables are made by the
same functions that bench_vs_brian2.py prints them with; RT factor, events/s and the
ratios are computed from the stored run_s / synaptic_events), the command line, the
start/finish times, the machine and the tool versions (recorded by bench_vs_brian2.py
when the benchmark ran, not when this script runs). Fields the JSON lacks are written
as "not recorded". The output is written to a temporary file next to --out and then
renamed over it, so a reader never sees a half-written file.

Needs only the Python standard library (no brian2/nest).
"""
import argparse
import json
import os
import shlex
import sys
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_vs_brian2 as bench  # noqa: E402  (tables: markdown, ratio_markdown)

DEFAULT_OUT = os.path.join(HERE, "RESULTS.md")
NR = "not recorded"


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if isinstance(doc, list):  # older bench_vs_brian2.py: a bare list of rows
        doc = dict(results=doc)
    if not isinstance(doc.get("results"), list):
        raise SystemExit(f"{path}: no 'results' list; not a bench_vs_brian2.py --json-out file")
    return doc


def val(d, key, suffix=""):
    v = d.get(key)
    return NR if v is None or v == "" else f"{v}{suffix}"


def render(doc, json_path):
    env = doc.get("environment") or {}
    results = doc["results"]
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    L = []
    L.append("# cognitron vs Brian2 benchmark results")
    L.append("")
    L.append(f"Generated {now} by `bench/make_results_md.py` from `{os.path.basename(json_path)}`, "
             "written by `bench/bench_vs_brian2.py`. Do not edit by hand; rerun the benchmark "
             "and this script instead (see *How to reproduce*).")
    L.append("")
    L.append(f"* Benchmark run: started {val(doc, 'started_utc')}, finished {val(doc, 'finished_utc')}")
    if doc.get("started_utc") and not doc.get("finished_utc"):
        L.append("  **(the run did not finish: the tables hold only the configurations completed "
                 "before it stopped)**")
    foreign = [(r["foreign_cpu_s"], r) for r in results if r.get("foreign_cpu_s") is not None]
    if foreign:
        worst, wr = max(foreign, key=lambda x: x[0])
        L.append(f"* Quiet machine check: the other processes used at most {worst:.1f} CPU s during one "
                 f"configuration ({wr['tool']} {wr['model']} N={wr['N']} T={wr['T']:g} {wr['precision']} "
                 f"{wr['threads']} thread(s), {wr.get('total_s', 0):.0f} s wall)")
    repeated = [r for r in results if r.get("run_s_all")]
    if repeated:
        L.append(f"* {len(repeated)} configurations shorter than the repeat threshold ran "
                 f"{max(len(r['run_s_all']) for r in repeated)} times each; the tables hold the fastest run")
    if not env:
        L.append("* Machine, tool versions, cognitron commit: not recorded in the JSON "
                 "(written by an older bench_vs_brian2.py)")
    else:
        mem = env.get("mem_total_gib")
        L.append(f"* Machine: {val(env, 'nproc')} CPUs (`nproc`), {val(env, 'cpu_model')}, "
                 f"{NR if mem is None else f'{mem} GiB'} RAM; {val(env, 'platform')}")
        L.append(f"* Python {val(env, 'python_version')} (`{val(env, 'python_executable')}`): "
                 f"brian2 {val(env, 'brian2_version')}, numpy {val(env, 'numpy_version')}, "
                 f"nest {val(env, 'nest_version')}; C++ compiler for Brian2 standalone: {val(env, 'gxx')}")
        dirty = env.get("git_dirty")
        dirty_s = ("" if dirty is None else
                   " (working tree had uncommitted changes to tracked files)" if dirty else " (clean working tree)")
        L.append(f"* cognitron: commit `{val(env, 'git_commit')}`{dirty_s}, binary "
                 f"`{val(env, 'cognitron_bin')}` ({val(env, 'cognitron_version')}, "
                 f"built {val(env, 'cognitron_bin_mtime_utc')})")
    L.append("")
    L.append("Command that produced the JSON" +
             (f" (run in `{doc['cwd']}`)" if doc.get("cwd") else "") + ":")
    L.append("")
    L.append("```sh")
    L.append(doc.get("command") or f"# {NR}")
    L.append("```")
    L.append("")
    L.append("Companion tables, each with its own command: `bench/RESULTS-neurons.md` (neuron updates per "
             "second per core, model by model), `bench/RESULTS-coba_hh.md` (the COBA-HH network, benchmark 3, "
             "at N = 4,000), `bench/RESULTS-nest.md` (NEST 3.10.0 at N = 4,000), `bench/RESULTS-learning.md` "
             "(Diehl & Cook STDP learning against BindsNET: time per image and accuracy) and "
             "`bench/RESULTS-gradient.md` (gradient learning against PyTorch and snnTorch: accuracy and time "
             "per epoch).")
    L.append("")
    L.append("## All runs")
    L.append("")
    L.append("run = simulation loop only (Brian2: `device._last_run_time`, without compilation; "
             "cognitron: summary.json `run_s`; NEST: `nest.Simulate()`); build = network "
             "construction; RT factor = run / T; peak RSS = max RSS of the simulating process. "
             "b2best/cog = best Brian2 run over thread counts at the same (model, N, T, precision) "
             "divided by the cognitron run (> 1: cognitron faster). Precision *single*: Brian2 "
             "`prefs.core.default_float_dtype = float32`, cognitron `simulation.precision = \"single\"`; "
             "NEST runs in double only.")
    L.append("")
    L.append(bench.markdown(results) if results else "(no rows)")
    L.append("")
    L.append("## Ratios")
    L.append("")
    L.append("One line per cognitron run at the same model, N, T and precision as Brian2: "
             "*b2/cog same threads* against the Brian2 run with the same thread count (the "
             "issue's criterion), *b2 ≤ threads/cog* against the fastest Brian2 run on at most as many "
             "threads (the same hardware budget: a 2-thread cognitron run is held against Brian2's 1-thread "
             "run where that is the faster one), *b2best/cog* against the fastest Brian2 run over all thread "
             "counts (its thread count in *b2 threads*; this holds a 1-thread cognitron run against Brian2 on "
             "2 threads). cog bytes/syn = summary.json "
             "`bytes_per_synapse` (synapse storage / number of synapses).")
    L.append("")
    L.append(bench.ratio_markdown(results))
    L.append("")
    failed = [r for r in results if "error" in r]
    if failed:
        L.append(f"{len(failed)} of {len(results)} configurations failed; the error is in the "
                 "tables, the log tail in the JSON (`log_tail`).")
        L.append("")
    L.append("## How to reproduce")
    L.append("")
    L.append("1. Check out the commit above and build cognitron: `cargo build --release` "
             "(binary `target/release/cognitron`).")
    L.append("2. Create the reference venv with brian2 (and optionally nest-simulator) as in "
             "`bench/reference/README.md`.")
    L.append("3. From the repository root, on a quiet machine (other load distorts the timings, "
             "Brian2's OpenMP runs most of all), run the command above, then")
    L.append("")
    L.append("```sh")
    json_arg = None
    if doc.get("args", {}).get("json_out"):
        json_arg = doc["args"]["json_out"]
    L.append(f"python3 bench/make_results_md.py {shlex.quote(json_arg or json_path)}")
    L.append("```")
    L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", help="file written by bench_vs_brian2.py --json-out")
    ap.add_argument("--out", default=DEFAULT_OUT, help="default: bench/RESULTS.md")
    a = ap.parse_args()
    doc = load(a.json)
    bench.write_text_atomic(a.out, render(doc, a.json))
    print(f"wrote {a.out} ({len(doc['results'])} rows)")


if __name__ == "__main__":
    sys.exit(main())
