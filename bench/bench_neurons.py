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
sets `method = "euler"` to compare the same work), RK4 at dt = 0.05 ms for
Pinsky-Rinzel. `relu` (Brian2 has no rate unit) is the same update written as a
NeuronGroup; `compartmental` is one cell of N compartments (a Hodgkin-Huxley soma
and axon) against a Brian2 SpatialNeuron of the same morphology, so N counts
compartments there. See MODELS for what differs.
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
    # A ReLU rate unit (cognitron's `relu`: tau dI/dt = -I + synaptic input, r = gain max(0, I + bias
    # - threshold), spikes from a phase accumulator). Brian2 has no rate unit: the same update as a
    # NeuronGroup (filter, rate, phase += r dt, spike and phase -= 1 at phase >= 1). No synaptic input
    # here, so the filtered input stays 0 and every unit fires at bias = 20 Hz; the filter is exact in
    # cognitron and forward Euler in Brian2 (one multiplication per step in both).
    "relu": dict(
        cognitron="""model = "relu"
gain = 1.0
bias = 20.0
tau_ms = 10.0
phase_init = { uniform = [0.0, 1.0] }
""",
        brian2=dict(
            eqs="""dI_f/dt = -I_f/(10*ms) : 1
rate = 1*clip(I_f + 20 - 0, 0, inf)*Hz : Hz
dphase/dt = rate : 1""",
            threshold="phase >= 1", reset="phase = clip(phase - 1, 0, 1)", refractory=None, method="euler",
            init="phase = 'rand()'"),
    ),
    # One multi-compartment cell of N compartments: a 20 x 20 um cylindrical soma (1 compartment)
    # and a 1 um axon of N - 1 compartments of 10 um, squid Hodgkin-Huxley (1952) channels at 6.3 °C
    # in every compartment (so that both tools compute the same gates everywhere), C_m 1 uF/cm^2,
    # R_a 100 ohm cm, 200 pA into the soma (~70 Hz; 1 nA blocks it after two spikes), dt = 0.025 ms.
    # cognitron: gates relaxed exactly at the step's start voltage, then backward Euler for v by
    # Hines elimination. Brian2: SpatialNeuron, gates by exponential Euler (the same relaxation), v by
    # backward Euler (its own tree solver, three tridiagonal systems per section). N counts
    # compartments; rates are somatic spikes/s.
    "compartmental": dict(
        dt=0.025,
        cells=lambda N: 1,
        cognitron=lambda N: f"""n = 1
model = "compartmental"
hh_sections = ["soma", "axon"]
c_m_uf_cm2 = 1.0
r_a_ohm_cm = 100.0
i_soma_pa = 200.0
v_init_mv = -65.0

[[populations.cells.sections]]
name = "soma"
kind = "soma"
length_um = 20.0
diameter_um = 20.0
compartments = 1

[[populations.cells.sections]]
name = "axon"
kind = "axon"
parent = "soma"
length_um = {10.0 * (N - 1)}
diameter_um = 1.0
compartments = {N - 1}
""",
        brian2=dict(spatial=True),
    ),
}


def brian2_spatial(b2, N):
    """The `compartmental` cell as a Brian2 SpatialNeuron (see MODELS)."""
    from brian2 import um, mV, ms, nA, msiemens, cm, uF, ohm, exprel  # noqa: F401
    morpho = b2.Cylinder(diameter=20 * um, length=20 * um, n=1)
    morpho.axon = b2.Cylinder(diameter=1 * um, length=10 * um * (N - 1), n=N - 1)
    eqs = """Im = gL*(EL - v) + gNa*m**3*h*(ENa - v) + gK*n**4*(EK - v) : amp/meter**2
dm/dt = alpham*(1 - m) - betam*m : 1
dh/dt = alphah*(1 - h) - betah*h : 1
dn/dt = alphan*(1 - n) - betan*n : 1
alpham = 1/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
betam = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
alphah = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
betah = 1/(exp(-(v + 35*mV)/(10*mV)) + 1)/ms : Hz
alphan = 0.1/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
betan = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
I : amp (point current)"""
    ns = dict(gL=0.3 * msiemens / cm**2, EL=-54.387 * mV, gNa=120 * msiemens / cm**2, ENa=50 * mV,
              gK=36 * msiemens / cm**2, EK=-77 * mV)
    neuron = b2.SpatialNeuron(morphology=morpho, model=eqs, method="exponential_euler", Cm=1 * uF / cm**2,
                              Ri=100 * ohm * cm, threshold="v > 0*mV", threshold_location=0,
                              refractory="v > 0*mV", namespace=ns)
    v0 = -65.0
    rates = dict(am=1 / b2.exprel(-(v0 + 40) / 10), bm=4 * b2.exp(-(v0 + 65) / 18),
                 ah=0.07 * b2.exp(-(v0 + 65) / 20), bh=1 / (b2.exp(-(v0 + 35) / 10) + 1),
                 an=0.1 / b2.exprel(-(v0 + 55) / 10), bn=0.125 * b2.exp(-(v0 + 65) / 80))
    neuron.v = v0 * mV
    neuron.m = rates["am"] / (rates["am"] + rates["bm"])
    neuron.h = rates["ah"] / (rates["ah"] + rates["bh"])
    neuron.n = rates["an"] / (rates["an"] + rates["bn"])
    neuron.I[0] = 0.2 * nA
    return neuron


def worker_brian2(a):
    import brian2 as b2
    b2.set_device("cpp_standalone", build_on_run=False, directory=a.build_dir)
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    b2.defaultclock.dt = MODELS[a.model].get("dt", 0.1) * b2.ms
    m = MODELS[a.model]["brian2"]
    if m.get("spatial"):
        group = brian2_spatial(b2, a.N)
    else:
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
               spikes=count, rate_hz=count / (cells(a.model, a.N) * a.T), brian2_version=b2.__version__)
    with open(a.result, "w") as f:
        json.dump(out, f)


def cells(model, N):
    """Neurons in a population of size N (one for `compartmental`, where N counts compartments)."""
    return MODELS[model].get("cells", lambda N: N)(N)


def run_cognitron(model, N, T, args, work):
    exp = os.path.join(work, f"{model}.toml")
    with open(exp, "w") as f:
        f.write(f"[simulation]\ndt_ms = {MODELS[model].get('dt', 0.1)}\nduration_ms = {T * 1000.0}\nseed = {args.seed}\n\n")
        table = MODELS[model]["cognitron"]
        f.write(f"[populations.cells]\n{table(N)}\n" if callable(table) else f"[populations.cells]\nn = {N}\n{table}\n")
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
    return dict(run_s=float(s["run_s"]), spikes=spikes, rate_hz=spikes / (cells(model, N) * T), peak_rss_mb=rss,
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
