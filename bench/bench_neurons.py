#!/usr/bin/env python3
"""Neuron updates per second per core: cognitron vs Brian2 (cpp_standalone), model by model.

Each model runs as one population of N unconnected neurons driven by a constant
current (so they spike; initial v spread uniformly), dt = 0.1 ms, for T seconds,
on one thread, in both tools in the same run. Reported per row: the simulation
loop's time (cognitron: summary.json run_s; Brian2: device._last_run_time, without
compilation), neuron updates per second (N * steps / run_s), the mean rate (to show
both did the same work) and the ratio.

    /work/venvs/ref/bin/python bench/bench_neurons.py                  # all models, N = 10,000 and 100,000
    /work/venvs/ref/bin/python bench/bench_neurons.py --models lif --sizes 10000 --json-out /tmp/n.json

The equations are the same in both tools (see MODELS: the Brian2 equations next to
the cognitron population table), including the integration method: exact for LIF,
forward Euler for Izhikevich as in the paper, exponential Euler for Hodgkin-Huxley
(Brian2's choice for it), forward Euler for AdEx (Brian2's default for it;
cognitron's default for AdEx is the slower, accurate `dopri5`, so the table here
sets `method = "euler"` to compare the same work).
"""
import argparse
import json
import os
import shlex
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench_vs_brian2 as common  # noqa: E402  (run_measured, collect_environment, atomic writes)

# name -> (cognitron population table, Brian2 model). Each fires at a moderate rate.
MODELS = {
    # LIF with current-based exponential synapses (the CUBA neuron), exact integration.
    "lif": dict(
        cognitron="""model = "lif"
tau_m_ms = 20.0
c_m_pf = 250.0
e_l_mv = -70.0
v_th_mv = -55.0
v_reset_mv = -70.0
t_ref_ms = 2.0
i_bias_pa = 250.0
synapse = "current_exp"
tau_exc_ms = 5.0
tau_inh_ms = 10.0
v_init_mv = { uniform = [-70.0, -55.0] }
""",
        brian2=dict(
            eqs="""dv/dt = (-70*mV - v + 250*pA*20*ms/(250*pF) + (ge + gi)*20*ms/(250*pF))/(20*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : amp
dgi/dt = -gi/(10*ms) : amp""",
            threshold="v > -55*mV", reset="v = -70*mV", refractory="2*ms", method="exact",
            init="v = '-70*mV + 15*mV*rand()'"),
    ),
    # Izhikevich (2003) regular spiking, I = 10, forward Euler.
    "izhikevich": dict(
        cognitron="""model = "izhikevich"
a = 0.02
b = 0.2
c_mv = -65.0
d = 8.0
i_bias = 10.0
v_init_mv = { uniform = [-70.0, -60.0] }
""",
        brian2=dict(
            eqs="""dv/dt = (0.04*v**2/mV + 5*v + 140*mV - u + 10*mV)/ms : volt
du/dt = 0.02*(0.2*v - u)/ms : volt""",
            threshold="v >= 30*mV", reset="v = -65*mV; u += 8*mV", refractory=None, method="euler",
            init="v = '-70*mV + 10*mV*rand()'; u = '0.2*v'"),
    ),
    # AdEx, Naud et al. (2008) "tonic" parameters, I = 500 pA; forward Euler in Brian2.
    "adex": dict(
        cognitron="""model = "adex"
c_m_pf = 200.0
g_l_ns = 10.0
e_l_mv = -70.0
v_t_mv = -50.0
delta_t_mv = 2.0
a_ns = 2.0
tau_w_ms = 30.0
b_pa = 0.0
v_r_mv = -58.0
v_peak_mv = 0.0
i_bias_pa = 500.0
method = "euler"
v_init_mv = { uniform = [-70.0, -60.0] }
""",
        brian2=dict(
            eqs="""dv/dt = (-10*nS*(v + 70*mV) + 10*nS*2*mV*exp((v + 50*mV)/(2*mV)) - w + 500*pA)/(200*pF) : volt
dw/dt = (2*nS*(v + 70*mV) - w)/(30*ms) : amp""",
            threshold="v > 0*mV", reset="v = -58*mV; w += 0*pA", refractory=None, method="euler",
            init="v = '-70*mV + 10*mV*rand()'"),
    ),
    # The COBA-HH neuron of Brette et al. (2007) benchmark 3 (Traub-Miles kinetics,
    # conductance synapses), driven by 1 nA; exponential Euler in both.
    "hh": dict(
        cognitron="""model = "hh"
kinetics = "traub_miles"
c_m_pf = 200.0
g_na_ns = 20000.0
g_k_ns = 6000.0
g_leak_ns = 10.0
e_na_mv = 50.0
e_k_mv = -90.0
e_leak_mv = -60.0
v_t_mv = -63.0
v_th_mv = -20.0
t_ref_ms = 3.0
i_bias_pa = 1000.0
synapse = "conductance_exp"
tau_exc_ms = 5.0
tau_inh_ms = 10.0
e_exc_mv = 0.0
e_inh_mv = -80.0
v_init_mv = { uniform = [-70.0, -60.0] }
""",
        brian2=dict(
            eqs="""dv/dt = (10*nS*(-60*mV - v) + ge*(0*mV - v) + gi*(-80*mV - v) - 20000*nS*(m*m*m)*h*(v - 50*mV) - 6000*nS*(n*n*n*n)*(v + 90*mV) + 1000*pA)/(200*pF) : volt
dm/dt = 0.32*(mV**-1)*(13.*mV-v-63*mV)/(exp((13.*mV-v-63*mV)/(4.*mV))-1.)/ms*(1-m)-0.28*(mV**-1)*(v+63*mV-40.*mV)/(exp((v+63*mV-40.*mV)/(5.*mV))-1.)/ms*m : 1
dn/dt = 0.032*(mV**-1)*(15.*mV-v-63*mV)/(exp((15.*mV-v-63*mV)/(5.*mV))-1.)/ms*(1.-n)-.5*exp((10.*mV-v-63*mV)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV-v-63*mV)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v-63*mV)/(5.*mV)))/ms*h : 1
dge/dt = -ge/(5*ms) : siemens
dgi/dt = -gi/(10*ms) : siemens""",
            threshold="v > -20*mV", reset=None, refractory="3*ms", method="exponential_euler",
            init="v = '-70*mV + 10*mV*rand()'"),
    ),
    # Pinsky & Rinzel (1994) two-compartment cell, bursting at I_s = 1.5 uA/cm^2; RK4 at
    # dt = 0.05 ms in both (cognitron's integrator for it). Potentials relative to rest
    # (mV), time in ms; x / (e^x - 1) written as 1 / exprel(x).
    "pinsky_rinzel": dict(
        dt=0.05,
        cognitron="""model = "pinsky_rinzel"
i_soma_ua_cm2 = 1.5
""",
        brian2=dict(
            eqs="""dVs/dt = (-0.1*Vs - 30*minf**2*h*(Vs - 120) - 15*n*(Vs + 15) + 2.1/0.5*(Vd - Vs) + 1.5/0.5)/3/ms : 1
dVd/dt = (-0.1*Vd - ica - (0.8*q + 15*c*chi)*(Vd + 15) + 2.1/0.5*(Vs - Vd))/3/ms : 1
ica = 10*s**2*(Vd - 140) : 1
chi = clip(Ca/250, 0, 1) : 1
minf = am/(am + bm) : 1
am = 1.28/exprel((13.1 - Vs)/4) : 1
bm = 1.4/exprel((Vs - 40.1)/5) : 1
dh/dt = (0.128*exp((17 - Vs)/18)*(1 - h) - 4/(1 + exp((40 - Vs)/5))*h)/ms : 1
dn/dt = (0.08/exprel((35.1 - Vs)/5)*(1 - n) - 0.25*exp(0.5 - 0.025*Vs)*n)/ms : 1
ds/dt = (1.6/(1 + exp(-0.072*(Vd - 65)))*(1 - s) - 0.1/exprel((Vd - 51.1)/5)*s)/ms : 1
ac = int(Vd <= 50)*exp((Vd - 10)/11 - (Vd - 6.5)/27)/18.975 + int(Vd > 50)*2*exp((6.5 - Vd)/27) : 1
bc = int(Vd <= 50)*(2*exp((6.5 - Vd)/27) - ac) : 1
dc/dt = (ac*(1 - c) - bc*c)/ms : 1
dq/dt = (clip(0.00002*Ca, 0, 0.01)*(1 - q) - 0.001*q)/ms : 1
dCa/dt = (-0.13*ica - 0.075*Ca)/ms : 1""",
            threshold="Vs > 40", reset=None, refractory="Vs > 40", method="rk4",
            init="Vs = '-4.6'; Vd = '-4.5'; h = '0.99'; n = '0.001'; s = '0.01'; c = '0.01'; q = '0.01'; Ca = '0.2'"),
    ),
}


def worker_brian2(a):
    import brian2 as b2
    b2.set_device("cpp_standalone", build_on_run=False, directory=a.build_dir)
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    b2.defaultclock.dt = MODELS[a.model].get("dt", 0.1) * b2.ms
    m = MODELS[a.model]["brian2"]
    kw = dict(threshold=m["threshold"], method=m["method"])
    if m["reset"]:
        kw["reset"] = m["reset"]
    if m["refractory"]:
        kw["refractory"] = m["refractory"]
    group = b2.NeuronGroup(a.N, m["eqs"], **kw)
    for assignment in m["init"].split(";"):
        name, expr = assignment.split("=", 1)
        setattr(group, name.strip(), expr.strip().strip("'"))
    spikes = b2.SpikeMonitor(group, record=False)
    b2.seed(a.seed)
    b2.run(a.T * b2.second)
    b2.device.build(run=True, compile=True)
    count = int(spikes.num_spikes)
    out = dict(tool="brian2", model=a.model, N=a.N, T=a.T, threads=1, run_s=b2.device._last_run_time,
               spikes=count, rate_hz=count / (a.N * a.T), brian2_version=b2.__version__)
    with open(a.result, "w") as f:
        json.dump(out, f)


def run_cognitron(model, N, T, args, work):
    exp = os.path.join(work, f"{model}.toml")
    with open(exp, "w") as f:
        f.write(f"[simulation]\ndt_ms = {MODELS[model].get('dt', 0.1)}\nduration_ms = {T * 1000.0}\nseed = {args.seed}\n\n")
        f.write(f"[populations.cells]\nn = {N}\n{MODELS[model]['cognitron']}\n")
        f.write('[monitors]\nspikes = { cells = "none" }\n')
    out = os.path.join(work, "out")
    cmd = [args.cognitron_bin, "run", exp, "--out", out, "--no-plots"]
    log = os.path.join(work, "log.txt")
    rc, wall, rss = common.run_measured(cmd, env=dict(os.environ, RAYON_NUM_THREADS="1"), stdout_path=log)
    if rc != 0:
        return dict(error=f"rc={rc}: {common.error_message(log)}")
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    spikes = s["populations"]["cells"]["spikes"]
    return dict(run_s=float(s["run_s"]), spikes=spikes, rate_hz=spikes / (N * T), peak_rss_mb=rss,
                cmd=shlex.join(cmd))


def run_brian2(model, N, T, args, work):
    result = os.path.join(work, "result.json")
    log = os.path.join(work, "brian2_log.txt")
    cmd = [args.python, os.path.abspath(__file__), "--worker", "--model", model, "--N", str(N), "--T", str(T),
           "--seed", str(args.seed), "--build-dir", os.path.join(work, "build"), "--result", result]
    rc, wall, rss = common.run_measured(cmd, env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=work,
                                        stdout_path=log)
    if rc != 0 or not os.path.exists(result):
        return dict(error=f"rc={rc}: {common.error_message(log)}")
    with open(result) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000, 100000])
    ap.add_argument("--T", type=float, default=1.0, help="biological time (s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--python", default=sys.executable, help="python with brian2")
    ap.add_argument("--cognitron-bin", default=os.path.join(REPO, "target", "release", "cognitron"))
    ap.add_argument("--json-out", default=None)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--N", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--build-dir", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_brian2(args)

    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rows = []
    for model in args.models:
        steps = int(round(args.T * 1000.0 / MODELS[model].get("dt", 0.1)))
        for N in args.sizes:
            row = dict(model=model, N=N, T=args.T)
            for tool, runner in (("brian2", run_brian2), ("cognitron", run_cognitron)):
                with tempfile.TemporaryDirectory(prefix=f"bench_neurons_{tool}_{model}_{N}_") as work:
                    r = runner(model, N, args.T, args, work)
                row[tool] = r
                if "run_s" in r:
                    r["updates_per_s"] = N * steps / r["run_s"]
                print(f"{tool:9} {model:11} N={N:<7} " + (f"run {r['run_s']:.3f} s, "
                      f"{r['updates_per_s']:.3e} updates/s, {r['rate_hz']:.2f} Hz" if "run_s" in r
                      else r["error"]), flush=True)
            b, c = row["brian2"], row["cognitron"]
            row["ratio"] = b["run_s"] / c["run_s"] if "run_s" in b and "run_s" in c else None
            rows.append(row)
    print()
    print(markdown(rows))
    if args.json_out:
        doc = dict(started_utc=started, finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   command=shlex.join([os.path.relpath(sys.executable) if False else args.python]
                                      + sys.argv), cwd=os.getcwd(),
                   environment=common.collect_environment(args.python, args.cognitron_bin), results=rows)
        common.write_json_atomic(args.json_out, doc)


def markdown(rows):
    lines = ["| model | N | T (s) | Brian2 run (s) | cognitron run (s) | Brian2 updates/s/core "
             "| cognitron updates/s/core | Brian2 rate (Hz) | cognitron rate (Hz) | Brian2/cognitron |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    f = common.fmt
    for r in rows:
        b, c = r["brian2"], r["cognitron"]
        lines.append(f"| {r['model']} | {r['N']} | {r['T']:g} | {f(b.get('run_s'))} | {f(c.get('run_s'))} | "
                     f"{f(b.get('updates_per_s'), '{:.3e}')} | {f(c.get('updates_per_s'), '{:.3e}')} | "
                     f"{f(b.get('rate_hz'), '{:.2f}')} | {f(c.get('rate_hz'), '{:.2f}')} | "
                     f"{f(r.get('ratio'), '{:.2f}')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
