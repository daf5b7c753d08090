#!/usr/bin/env python3
"""Side-by-side benchmark: cognitron vs Brian2 (cpp_standalone) [vs NEST].

Models: CUBA, COBA and COBA-HH (Brette et al. 2007 benchmarks 2, 1 and 3; definitions
in bench/reference/brian2_networks.py; COBA-HH is Brian2's examples/COBAHH.py), N = 4000 and 100000, connection probability
80/N (each neuron keeps ~80 inputs), T = 1 s and 10 s biological time, 1 and 2
threads. Every configuration runs in its own fresh subprocess, so the peak RSS is
per configuration.

Typical use (the Brian2/NEST workers need the venv that has brian2 / nest):

    /work/venvs/ref/bin/python bench/bench_vs_brian2.py                  # full matrix, all tools
    /work/venvs/ref/bin/python bench/bench_vs_brian2.py --quick          # N=4000, T=1 s only
    /work/venvs/ref/bin/python bench/bench_vs_brian2.py --tools brian2 --models cuba
    /work/venvs/ref/bin/python bench/bench_vs_brian2.py --json-out /tmp/bench.json
    /work/venvs/ref/bin/python bench/bench_vs_brian2.py --precisions double single
    python3 bench/make_results_md.py /tmp/bench.json        # -> bench/RESULTS.md

Precision (--precisions double single, default double)
  double       everything in float64 (all tools).
  single       brian2: prefs.core.default_float_dtype = float32 (state variables and
               generated code in float; the worker records the dtype of the neuron
               variable `v` as float_dtype_v); cognitron: --set simulation.precision="single";
               nest: not supported, skipped.

Measured quantities
  run_s        time of the simulation loop only.
               brian2: device._last_run_time (excludes compilation and network
               construction); cognitron: summary.json "run_s"; nest: wall time of
               nest.Simulate().
  build_s      brian2: wall time of the compiled binary minus run_s (network
               construction + I/O in the binary; compilation is NOT included, it is
               reported separately as compile_s); cognitron: summary.json "build_s";
               nest: Create+Connect wall time.
  RT factor    run_s / T (< 1 is faster than real time).
  syn ev/s     synaptic events / run_s, synaptic events = sum over neurons of
               spikes x out-degree (brian2/nest: spike counts per neuron x out-degree
               from the synapse source indices; cognitron: summary.json).
  peak RSS     max RSS of the process doing the simulation (os.wait4 rusage):
               brian2: the compiled standalone binary alone (not the python driver,
               not g++); cognitron: its process; nest: the python worker process.
  b2best/cog   best Brian2 run_s over thread counts for the same (model, N, T,
               precision) divided by this cognitron row's run_s (> 1: cognitron faster).
  bytes/syn    cognitron: summary.json "bytes_per_synapse" (synapse storage / synapses).
  repeats      a configuration whose run_s is below --repeat-below (2 s) is run --repeats
               (3) times, for either tool, and the fastest run is kept ("run_s_all" has
               them all): single runs of 0.05-0.5 s vary by 30 % here.
  foreign_cpu_s  CPU seconds the rest of the machine used during a configuration
               (/proc/stat busy time minus the measured process tree's own): a quiet
               machine gives ~0; make_results_md.py reports the largest.

At the end two tables are printed: all rows, then the ratios only (one line per
cognitron row, with the Brian2 run that had the best time). --json-out writes
{"command", "cwd", "started_utc", "finished_utc", "environment", "args", "results"}.

Brian2 threads: --threads 1 maps to openmp_threads=0 (plain serial code, no
OpenMP runtime; pass --brian2-omp1 to use openmp_threads=1 instead); k > 1 maps to
openmp_threads=k. On a loaded machine (more runnable processes than cores) Brian2's
OpenMP runs can be 10-30x slower than usual (barrier waits); --omp-wait-policy
passive softens this somewhat, but only a quiet machine gives meaningful numbers. Cognitron threads: env RAYON_NUM_THREADS. NEST: local_num_threads.
"""
import argparse
import itertools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))

# ----------------------------------------------------------------------------
# cognitron interface (adjust here if the CLI changes)
# ----------------------------------------------------------------------------
COGNITRON_BIN = os.path.join(REPO, "target", "release", "cognitron")
COGNITRON_EXPERIMENTS = {"cuba": os.path.join(REPO, "experiments", "cuba.toml"),
                         "coba": os.path.join(REPO, "experiments", "coba.toml"),
                         "coba_hh": os.path.join(REPO, "experiments", "coba_hh.toml")}
MODELS = list(COGNITRON_EXPERIMENTS)
COGNITRON_CMD = ("{bin} run {exp} --out {out} --no-plots --set simulation.duration_ms={duration_ms} "
                 "--set network.scale={scale}")
# appended to the command (not part of --cognitron-cmd), one list per precision
COGNITRON_PRECISION_ARGS = {"double": [], "single": ["--set", 'simulation.precision="single"']}
PRECISIONS = ["double", "single"]
NEST_PRECISIONS = {"double"}  # NEST computes in double only
BASE_N = 4000  # population sizes in experiments/*.toml sum to this at scale=1


def p_conn_for(N):
    return 80.0 / N


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def busy_cpu_s():
    """CPU seconds all processes of the machine have used since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_measured(cmd, env=None, cwd=None, timeout=None, stdout_path=None, usage=None):
    """Run cmd (list) as a child, return (returncode, wall_s, maxrss_mb). If `usage` is a dict,
    it gets "foreign_cpu_s": CPU seconds the rest of the machine used meanwhile (busy time from
    /proc/stat minus the child's own): near 0 on a quiet machine."""
    out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
    busy0 = busy_cpu_s()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    deadline = None if timeout is None else t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid != 0:
            break
        if deadline is not None and time.perf_counter() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    busy1 = busy_cpu_s()
    if usage is not None and busy0 is not None and busy1 is not None:
        usage["foreign_cpu_s"] = round(max(0.0, busy1 - busy0 - ru.ru_utime - ru.ru_stime), 2)
    p.returncode = os.waitstatus_to_exitcode(status)
    if stdout_path:
        out.close()
    return p.returncode, wall, ru.ru_maxrss / 1024.0  # Linux: KiB


def tail(path, n=30):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------
# workers (run in a fresh subprocess per configuration)
# ----------------------------------------------------------------------------
def worker_rss_wrapper(argv):
    """Used as brian2's run_cmd_unix: run the binary, record its own max RSS + wall."""
    rss_file, cmd = argv[0], argv[1:]
    rc, wall, rss = run_measured(cmd, stdout_path=None)
    with open(rss_file, "w") as f:
        json.dump(dict(maxrss_mb=rss, binary_wall_s=wall), f)
    sys.exit(rc)


def worker_brian2(a):
    import numpy as np
    import brian2 as b2
    import brian2_networks as bn

    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    rss_file = os.path.join(a.build_dir, "binary_rss.json")
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [
        sys.executable, os.path.abspath(__file__), "--worker", "rss", rss_file, "./main"]
    omp = a.threads if (a.threads > 1 or a.brian2_omp1) else 0
    if a.precision == "single":
        b2.prefs.core.default_float_dtype = np.float32
    t0 = time.perf_counter()
    kw = dict(variant=a.coba_variant) if a.model == "coba" else {}
    res = bn.MODELS[a.model](N=a.N, duration_s=a.T, seed=a.seed, device="cpp_standalone",
                             threads=omp, build_dir=a.build_dir, p_conn=p_conn_for(a.N),
                             record_spikes=not a.no_record, **kw)
    total = time.perf_counter() - t0
    with open(rss_file) as f:
        binfo = json.load(f)
    counts, outdeg = res["counts"], res["out_degree"]
    timers = getattr(b2.device, "timers", {})
    compile_s = float(timers.get("compile", {}).get("make", 0.0) if isinstance(timers.get("compile"), dict)
                      else 0.0)
    # dtype actually used for the membrane potential (checks that the preference took effect)
    v_dtypes = sorted({np.dtype(var.dtype).name for var in getattr(b2.device, "arrays", {})
                       if getattr(var, "name", None) == "v"})
    out = dict(tool="brian2", model=a.model, N=a.N, T=a.T, threads=a.threads,
               precision=a.precision, float_dtype_v=",".join(v_dtypes) or None,
               openmp_threads=omp, run_s=res["run_s"],
               build_s=binfo["binary_wall_s"] - res["run_s"],
               compile_s=compile_s, total_worker_s=total,
               spikes=int(counts.sum()), rate_hz=float(counts.sum() / (a.N * a.T)),
               synaptic_events=int(np.dot(counts, outdeg)), n_synapses=res["n_synapses"],
               peak_rss_mb=binfo["maxrss_mb"], brian2_version=b2.__version__)
    if a.precision == "single" and v_dtypes != ["float32"]:
        out["error"] = f"float32 requested but v has dtype {out['float_dtype_v']}"
    with open(a.result, "w") as f:
        json.dump(out, f)


def worker_nest(a):
    import numpy as np
    import nest

    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": a.threads, "rng_seed": a.seed,
                          "print_time": False})
    rng = np.random.default_rng(a.seed)
    N, NE = a.N, int(round(0.8 * a.N))
    p = p_conn_for(N)
    t0 = time.perf_counter()
    if a.model == "cuba":
        # Brian2 CUBA: ge is a voltage; NEST current-based with I = ge*C/taum
        C, taum = 250.0, 20.0
        params = dict(C_m=C, tau_m=taum, E_L=-49.0, V_th=-50.0, V_reset=-60.0, t_ref=5.0,
                      tau_syn_ex=5.0, tau_syn_in=10.0, I_e=0.0)
        pop = nest.Create("iaf_psc_exp", N, params=params)
        we, wi = 1.62 * C / taum, -9.0 * C / taum  # pA
        pop.set({"V_m": list(-60.0 + 10.0 * rng.random(N))})
    elif a.model == "coba":
        from brian2_networks import COBA_VARIANTS
        v = COBA_VARIANTS[a.coba_variant]
        params = dict(C_m=200.0, g_L=10.0, E_L=-60.0, E_ex=0.0, E_in=-80.0, V_th=-50.0,
                      V_reset=-60.0, t_ref=5.0, tau_syn_ex=5.0, tau_syn_in=10.0,
                      I_e=float(v["I_bias_pA"]))
        pop = nest.Create("iaf_cond_exp", N, params=params)
        we, wi = v["we_nS"], -v["wi_nS"]  # NEST: inhibitory conductance weights negative
        pop.set({"V_m": list(-60.0 + 10.0 * rng.random(N)),
                 "g_ex": list(np.clip(v["ge0_mean_nS"] + v["ge0_std_nS"] * rng.standard_normal(N), 0, None)),
                 "g_in": list(np.clip(v["gi0_mean_nS"] + v["gi0_std_nS"] * rng.standard_normal(N), 0, None))})
    elif a.model == "coba_hh":
        # Brette et al. 2007 benchmark 3: NEST's hh_cond_exp_traub is this model (Traub-Miles
        # kinetics, V_T = -63 mV; spikes detected at V_m > V_T + 30 mV, t_ref 3 ms as COBAHH.py);
        # integrated by NEST with adaptive GSL RKF45, not exponential Euler.
        params = dict(C_m=200.0, g_Na=20000.0, g_K=6000.0, g_L=10.0, E_Na=50.0, E_K=-90.0,
                      E_L=-60.0, V_T=-63.0, E_ex=0.0, E_in=-80.0, tau_syn_ex=5.0, tau_syn_in=10.0,
                      t_ref=3.0, I_e=0.0)
        pop = nest.Create("hh_cond_exp_traub", N, params=params)
        we, wi = 6.0, -67.0  # nS; NEST: inhibitory conductance weights negative
        pop.set({"V_m": list(-65.0 + 5.0 * rng.standard_normal(N)),
                 "Act_m": 0.0, "Inact_h": 0.0, "Act_n": 0.0})
        # g_ex / g_in cannot be set in this model: one kick at 0.1 ms of the drawn initial
        # conductances, through one synapse per neuron from a spike generator.
        kick = nest.Create("spike_generator", params={"spike_times": [0.1]})
        ge0 = np.clip(40.0 + 15.0 * rng.standard_normal(N), 0, None)
        gi0 = np.clip(200.0 + 120.0 * rng.standard_normal(N), 0, None)
        nest.Connect(kick, pop, "all_to_all", {"weight": ge0.reshape(N, 1), "delay": 0.1})
        nest.Connect(kick, pop, "all_to_all", {"weight": -gi0.reshape(N, 1), "delay": 0.1})
    else:
        raise ValueError(a.model)
    rule = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    nest.Connect(pop[:NE], pop, rule, {"weight": we, "delay": 0.1})
    nest.Connect(pop[NE:], pop, rule, {"weight": wi, "delay": 0.1})
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    nest.Simulate(a.T * 1000.0)
    run_s = time.perf_counter() - t0
    senders = np.asarray(sr.get("events")["senders"]) - pop[0].global_id
    counts = np.bincount(senders, minlength=N)
    # out-degree: total connections from each source (excluding the recorder)
    conns = nest.GetConnections(source=pop, target=pop)
    src = np.asarray(conns.get("source")) - pop[0].global_id
    outdeg = np.bincount(src, minlength=N)
    out = dict(tool="nest", model=a.model, N=N, T=a.T, threads=a.threads, precision="double", run_s=run_s,
               build_s=build_s, spikes=int(counts.sum()), rate_hz=float(counts.sum() / (N * a.T)),
               synaptic_events=int(np.dot(counts, outdeg)), n_synapses=int(len(src)),
               nest_version=nest.__version__)
    with open(a.result, "w") as f:
        json.dump(out, f)


# ----------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------
def error_message(log_path, n=3):
    """The lines of a failed run's log that say what went wrong (for the table)."""
    lines = [l.strip() for l in tail(log_path, 60).splitlines() if l.strip()]
    err = [l for l in lines if "error" in l.lower()]
    msg = " / ".join((err or lines)[-n:])
    return msg[:400] if msg else "(no output)"


def run_config(tool, model, N, T, threads, precision, args, tmp_root):
    tag = f"{tool}_{model}_N{N}_T{T:g}_{precision}_t{threads}"
    work = tempfile.mkdtemp(prefix=tag + "_", dir=tmp_root)
    log = os.path.join(work, "log.txt")
    base = dict(tool=tool, model=model, N=N, T=T, threads=threads, precision=precision)
    if tool == "cognitron":
        if not os.path.exists(args.cognitron_bin):
            return dict(base, error=f"binary not found: {args.cognitron_bin}")
        scale = N / BASE_N
        scale_s = str(int(scale)) if float(scale).is_integer() else repr(scale)
        outdir = os.path.join(work, "out")
        cmd = shlex.split(args.cognitron_cmd.format(bin=args.cognitron_bin,
                                                   exp=COGNITRON_EXPERIMENTS[model], out=outdir,
                                                   duration_ms=int(round(T * 1000)), scale=scale_s))
        cmd += COGNITRON_PRECISION_ARGS[precision]
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        usage = {}
        rc, wall, rss = run_measured(cmd, env=env, cwd=REPO, timeout=args.timeout, stdout_path=log, usage=usage)
        summary = os.path.join(outdir, "summary.json")
        if rc != 0 or not os.path.exists(summary):
            return dict(base, error=f"rc={rc}: {error_message(log)}", log_tail=tail(log),
                        cmd=shlex.join(cmd))
        with open(summary) as f:
            s = json.load(f)
        pops = s.get("populations", {})
        spikes = sum(int(p.get("spikes", 0)) for p in pops.values()) if pops else None
        res = dict(base, run_s=float(s["run_s"]), build_s=s.get("build_s"), total_s=wall,
                   rayon_threads=s.get("rayon_threads"),
                   synaptic_events=s.get("synaptic_events"), peak_rss_mb=rss,
                   reported_peak_rss_mb=s.get("peak_rss_mb"), reported_threads=s.get("threads"),
                   reported_precision=s.get("precision"),
                   synapses=s.get("synapses"), synapse_bytes=s.get("synapse_bytes"),
                   bytes_per_synapse=s.get("bytes_per_synapse"),
                   spikes=spikes, rate_hz=(spikes / (N * T) if spikes is not None else None),
                   populations=pops, cmd=shlex.join(cmd), **usage)
        rp = res["reported_precision"]
        if rp is not None and str(rp) != precision:
            res["error"] = f"requested precision {precision}, summary.json says {rp}"
    else:
        result = os.path.join(work, "result.json")
        cmd = [args.python, os.path.abspath(__file__), "--worker", tool, "--model", model,
               "--N", str(N), "--T", str(T), "--threads", str(threads), "--seed", str(args.seed),
               "--build-dir", os.path.join(work, "build"), "--result", result,
               "--coba-variant", args.coba_variant, "--precision", precision]
        if args.brian2_omp1:
            cmd.append("--brian2-omp1")
        if args.no_record:
            cmd.append("--no-record")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if args.omp_wait_policy:
            env["OMP_WAIT_POLICY"] = args.omp_wait_policy
        usage = {}
        rc, wall, rss = run_measured(cmd, env=env, cwd=work, timeout=args.timeout, stdout_path=log, usage=usage)
        if rc != 0 or not os.path.exists(result):
            return dict(base, error=f"rc={rc}: {error_message(log)}", log_tail=tail(log))
        with open(result) as f:
            res = json.load(f)
        res["total_s"] = wall
        res.update(usage)
        if tool == "nest":
            res["peak_rss_mb"] = rss
    if not args.keep_builds:
        shutil.rmtree(work, ignore_errors=True)
    else:
        res["workdir"] = work
    return res


# ----------------------------------------------------------------------------
# environment (recorded in the JSON; make_results_md.py puts it in RESULTS.md)
# ----------------------------------------------------------------------------
def _out(cmd, cwd=None):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60)
        return r.stdout.strip() if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


_VERSIONS_SNIPPET = r"""
import json, platform
v = {"python": platform.python_version()}
for m in ("brian2", "numpy", "nest"):
    try:
        v[m] = __import__(m).__version__
    except Exception as e:
        v[m] = None
print("@@VERSIONS@@" + json.dumps(v))
"""


def collect_environment(python=None, cognitron_bin=None):
    """Machine, tool versions and repository state, as measured now."""
    import platform
    env = dict(nproc=None, cpu_model=None, mem_total_gib=None, platform=platform.platform())
    nproc = _out(["nproc"])
    env["nproc"] = int(nproc) if nproc and nproc.isdigit() else os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    env["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    env["mem_total_gib"] = round(int(line.split()[1]) / 1024.0 ** 2, 1)
                    break
    except OSError:
        pass
    env["gxx"] = (_out(["g++", "--version"]) or "").split("\n")[0] or None
    if python:
        vout = _out([python, "-c", _VERSIONS_SNIPPET])
        versions = {}
        for line in (vout or "").splitlines():
            if line.startswith("@@VERSIONS@@"):
                versions = json.loads(line[len("@@VERSIONS@@"):])
        env["python_executable"] = python
        env.update({f"{k}_version": v for k, v in versions.items()})
    env["git_commit"] = _out(["git", "rev-parse", "--short", "HEAD"], cwd=REPO)
    porcelain = _out(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO)
    env["git_dirty"] = None if porcelain is None else bool(porcelain)
    if cognitron_bin:
        env["cognitron_bin"] = cognitron_bin
        if os.path.exists(cognitron_bin):
            env["cognitron_version"] = _out([cognitron_bin, "--version"])
            env["cognitron_bin_mtime_utc"] = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(cognitron_bin)))
    return env


# ----------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------
def fmt(x, f="{:.3f}"):
    return "—" if x is None else f.format(x)


def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def best_brian2(results):
    """(model, N, T, precision) -> the successful Brian2 row with the smallest run_s."""
    best = {}
    for r in results:
        if r["tool"] == "brian2" and "error" not in r and "run_s" in r:
            k = (r["model"], r["N"], r["T"], r.get("precision", "double"))
            if k not in best or r["run_s"] < best[k]["run_s"]:
                best[k] = r
    return best


def _ratio(b2row, cog_run_s):
    if b2row is None or not cog_run_s or cog_run_s <= 0:
        return None
    return b2row["run_s"] / cog_run_s


def markdown(results):
    best_b2 = best_brian2(results)
    lines = ["| tool | model | N | T (s) | precision | threads | run (s) | build (s) | RT factor "
             "| syn. events/s | peak RSS (MB) | rate (Hz) | b2best/cog |",
             "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        prec = r.get("precision", "double")
        if "error" in r:
            lines.append(f"| {r['tool']} | {r['model']} | {r['N']} | {r['T']:g} | {prec} | "
                         f"{r['threads']} | FAILED: {md_cell(r['error'])} | | | | | | |")
            continue
        ev = r.get("synaptic_events")
        evs = ev / r["run_s"] if ev and r["run_s"] > 0 else None
        ratio = None
        if r["tool"] == "cognitron":
            ratio = _ratio(best_b2.get((r["model"], r["N"], r["T"], prec)), r["run_s"])
        lines.append(
            f"| {r['tool']} | {r['model']} | {r['N']} | {r['T']:g} | {prec} | {r['threads']} | "
            f"{fmt(r['run_s'])} | {fmt(r.get('build_s'))} | {fmt(r['run_s'] / r['T'])} | "
            f"{fmt(evs, '{:.3g}')} | {fmt(r.get('peak_rss_mb'), '{:.0f}')} | "
            f"{fmt(r.get('rate_hz'), '{:.2f}')} | {fmt(ratio, '{:.2f}')} |")
    return "\n".join(lines)


def ratio_markdown(results):
    """One line per cognitron row: its time against Brian2 at the same thread
    count (the issue's criterion), against Brian2's best on at most as many
    threads (the same hardware budget), and against Brian2's best over thread counts
    (stricter where Brian2's 2-thread OpenMP run is slower than its 1-thread run),
    at the same (model, N, T, precision)."""
    best_b2 = best_brian2(results)
    same_b2 = {(r["model"], r["N"], r["T"], r.get("precision", "double"), r["threads"]): r
               for r in results if r["tool"] == "brian2" and "error" not in r and "run_s" in r}
    lines = ["| model | N | T (s) | precision | cog threads | cog run (s) | b2 run, same threads (s) "
             "| b2/cog same threads | b2 ≤ threads/cog | b2 best run (s) | b2 threads | b2best/cog | cog bytes/syn "
             "| cog peak RSS (MB) | b2 peak RSS (MB) |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if r["tool"] != "cognitron":
            continue
        prec = r.get("precision", "double")
        b = best_b2.get((r["model"], r["N"], r["T"], prec))
        same = same_b2.get((r["model"], r["N"], r["T"], prec, r["threads"]))
        b_run = fmt(b["run_s"]) if b else "—"
        b_thr = str(b["threads"]) if b else "—"
        b_rss = fmt(b.get("peak_rss_mb"), "{:.0f}") if b else "—"
        same_run = fmt(same["run_s"]) if same else "—"
        # Brian2's fastest run on at most as many threads: the same hardware budget.
        budget = [same_b2[(r["model"], r["N"], r["T"], prec, t)] for t in range(1, r["threads"] + 1)
                  if (r["model"], r["N"], r["T"], prec, t) in same_b2]
        within = min(budget, key=lambda x: x["run_s"]) if budget else None
        key = f"| {r['model']} | {r['N']} | {r['T']:g} | {prec} | {r['threads']} | "
        if "error" in r:
            lines.append(key + f"FAILED: {md_cell(r['error'])} | {same_run} | — | — | {b_run} | {b_thr} | — | — | — "
                         f"| {b_rss} |")
            continue
        lines.append(key + f"{fmt(r['run_s'])} | {same_run} | {fmt(_ratio(same, r['run_s']), '{:.2f}')} | "
                     f"{fmt(_ratio(within, r['run_s']), '{:.2f}')} | "
                     f"{b_run} | {b_thr} | {fmt(_ratio(b, r['run_s']), '{:.2f}')} | "
                     f"{fmt(r.get('bytes_per_synapse'), '{:.2f}')} | "
                     f"{fmt(r.get('peak_rss_mb'), '{:.0f}')} | {b_rss} |")
    return "\n".join(lines)


def write_text_atomic(path, text):
    """Writes `text` to a temporary file beside `path`, then renames it into place."""
    path = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp_" + os.path.basename(path) + "_",
                               dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path, obj):
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", nargs="+", default=None, choices=["brian2", "cognitron", "nest"],
                    help="default: brian2 + cognitron, plus nest if importable by --python")
    ap.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    ap.add_argument("--sizes", nargs="+", type=int, default=[4000, 100000])
    ap.add_argument("--durations", nargs="+", type=float, default=[1.0, 10.0])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--precisions", nargs="+", default=["double"], choices=PRECISIONS,
                    help="floating-point precision(s) to run (NEST: double only)")
    ap.add_argument("--quick", action="store_true", help="only N=4000, T=1 s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--coba-variant", default="base", help="see brian2_networks.COBA_VARIANTS")
    ap.add_argument("--python", default=sys.executable, help="python with brian2/nest installed")
    ap.add_argument("--cognitron-bin", default=COGNITRON_BIN)
    ap.add_argument("--cognitron-cmd", default=COGNITRON_CMD,
                    help="template; placeholders {bin} {exp} {out} {duration_ms} {scale}")
    ap.add_argument("--brian2-omp1", action="store_true",
                    help="threads=1 -> openmp_threads=1 instead of 0 (serial)")
    ap.add_argument("--omp-wait-policy", default=None, choices=["active", "passive"],
                    help="set OMP_WAIT_POLICY for brian2/nest workers (passive was ~3-5x less bad "
                         "than active when other processes compete for the cores)")
    ap.add_argument("--no-record", action="store_true",
                    help="brian2/nest: count spikes only (SpikeMonitor record=False)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per configuration, seconds")
    ap.add_argument("--tmpdir", default=tempfile.gettempdir(),
                    help="where per-config work dirs (brian2 build dirs) go; outside the repo")
    ap.add_argument("--keep-builds", action="store_true")
    ap.add_argument("--json-out", default=None)
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs of a configuration whose first run_s is below --repeat-below; the fastest is kept")
    ap.add_argument("--repeat-below", type=float, default=2.0, metavar="SECONDS",
                    help="short runs are noisy: repeat configurations faster than this (both tools)")
    # worker mode
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--N", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--T", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--build-dir", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--precision", default="double", choices=PRECISIONS, help=argparse.SUPPRESS)

    if len(sys.argv) > 2 and sys.argv[1] == "--worker" and sys.argv[2] == "rss":
        return worker_rss_wrapper(sys.argv[3:])
    args = ap.parse_args()
    if args.worker:
        args.threads = args.threads[0]
        return {"brian2": worker_brian2, "nest": worker_nest}[args.worker](args)

    if args.quick:
        args.sizes, args.durations = [4000], [1.0]
    tools = args.tools
    if tools is None:
        tools = ["brian2", "cognitron"]
        probe = subprocess.run([args.python, "-c", "import nest"], capture_output=True)
        if probe.returncode == 0:
            tools.append("nest")
    args.tools = tools
    tmp_root = tempfile.mkdtemp(prefix="cognitron_bench_", dir=args.tmpdir)
    results = []
    command = shlex.join([sys.executable] + sys.argv)
    doc = dict(command=command, cwd=os.getcwd(),
               started_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), finished_utc=None,
               environment=collect_environment(args.python, args.cognitron_bin),
               args={k: v for k, v in vars(args).items()
                     if k not in ("worker", "model", "N", "T", "build_dir", "result", "precision")},
               results=results)
    print(f"# bench_vs_brian2: tools={tools} models={args.models} N={args.sizes} "
          f"T={args.durations} precisions={args.precisions} threads={args.threads} "
          f"(work dir {tmp_root})", flush=True)
    if "nest" in tools and any(p not in NEST_PRECISIONS for p in args.precisions):
        print("# nest: double precision only; single-precision rows skipped", flush=True)
    for model, N, T, precision, threads, tool in itertools.product(
            args.models, args.sizes, args.durations, args.precisions, args.threads, tools):
        if tool == "nest" and precision not in NEST_PRECISIONS:
            continue
        t0 = time.perf_counter()
        r = run_config(tool, model, N, T, threads, precision, args, tmp_root)
        if "error" not in r and r["run_s"] < args.repeat_below and args.repeats > 1:
            runs = [r] + [run_config(tool, model, N, T, threads, precision, args, tmp_root)
                          for _ in range(args.repeats - 1)]
            runs = [x for x in runs if "error" not in x]
            r = dict(min(runs, key=lambda x: x["run_s"]), run_s_all=[x["run_s"] for x in runs])
        results.append(r)
        head = f"  {tool:9s} {model} N={N} T={T:g} {precision} threads={threads}:"
        if "error" in r:
            print(f"{head} FAILED {r['error']}\n{r.get('log_tail', '')}", flush=True)
        else:
            runs = f" (fastest of {len(r['run_s_all'])})" if "run_s_all" in r else ""
            print(f"{head} run {r['run_s']:.3f} s{runs}, rate {fmt(r.get('rate_hz'), '{:.2f}')} Hz, "
                  f"rss {fmt(r.get('peak_rss_mb'), '{:.0f}')} MB "
                  f"({time.perf_counter() - t0:.0f} s incl. setup), "
                  f"other processes' CPU meanwhile {fmt(r.get('foreign_cpu_s'), '{:.1f}')} s", flush=True)
        if args.json_out:  # after every configuration, so a long run that dies keeps its rows
            write_json_atomic(args.json_out, doc)
    doc["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if not args.keep_builds:
        shutil.rmtree(tmp_root, ignore_errors=True)
    print()
    print(markdown(results))
    print()
    print("Ratios (> 1: cognitron faster): b2/cog same threads = Brian2 run_s at the same thread count "
          "/ cognitron run_s; b2best/cog = Brian2's best run_s over thread counts / cognitron run_s "
          "(both at the same model, N, T, precision)")
    print()
    print(ratio_markdown(results))
    if args.json_out:
        write_json_atomic(args.json_out, doc)
        print(f"\nraw results: {args.json_out}")

if __name__ == "__main__":
    sys.exit(main())
