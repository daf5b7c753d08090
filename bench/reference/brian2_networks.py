"""Brian2 model definitions used for cognitron's reference statistics and benchmarks.

Every builder has the signature

    run_<model>(N, duration_s, seed, device="runtime", threads=1, build_dir=None,
                p_conn=None, record_spikes=True, **variant_kwargs) -> dict

and returns a dict with (numpy arrays / python scalars):
    spike_i, spike_t      recorded spikes (neuron index, time in s) if record_spikes
    counts                spike count per neuron (always)
    out_degree            number of outgoing synapses per neuron
    n_neurons, n_synapses, pops {name: [start, stop)}
    run_s                 time spent in the simulation loop
                          (cpp_standalone: brian2's device._last_run_time;
                           runtime: wall time of Network.run, which includes
                           the code-generation/compilation of the runtime target)
    params                dict with the full parameter set (strings with units)

`device` is "runtime" (Cython code generation; falls back to numpy when
target="numpy" is passed) or "cpp_standalone". For cpp_standalone only ONE
model may be run per Python process (use a fresh subprocess per config).
"""
import os
import time

import numpy as np


def _setup_device(device, threads, build_dir, target="cython"):
    import brian2 as b2

    if device == "cpp_standalone":
        if build_dir is None:
            import tempfile
            build_dir = tempfile.mkdtemp(prefix="brian2_standalone_")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True)
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
    elif device == "runtime":
        b2.prefs.codegen.target = target
    else:
        raise ValueError(f"unknown device {device!r}")
    b2.defaultclock.dt = 0.1 * b2.ms
    return build_dir


def _finish(b2, net, spike_mon, syn_list, N, pops, duration_s, device, record_spikes, params):
    t0 = time.perf_counter()
    net.run(duration_s * b2.second, report=None)
    wall_run = time.perf_counter() - t0
    if device == "cpp_standalone":
        run_s = float(b2.device._last_run_time)
    else:
        run_s = wall_run
    out_degree = np.zeros(N, dtype=np.int64)
    n_syn = 0
    for S in syn_list:
        src = np.asarray(S.i[:], dtype=np.int64)
        n_syn += len(src)
        out_degree += np.bincount(src, minlength=N)[:N]
    res = dict(
        counts=np.asarray(spike_mon.count[:], dtype=np.int64),
        out_degree=out_degree,
        n_neurons=int(N),
        n_synapses=int(n_syn),
        pops=pops,
        run_s=run_s,
        run_call_wall_s=wall_run,
        duration_s=float(duration_s),
        params=params,
    )
    if record_spikes:
        res["spike_i"] = np.asarray(spike_mon.i[:], dtype=np.int64)
        res["spike_t"] = np.asarray(spike_mon.t[:] / b2.second, dtype=np.float64)
    return res


# ---------------------------------------------------------------------------
# CUBA: Brette et al. 2007 benchmark 2 == brian2/examples/CUBA.py
# ---------------------------------------------------------------------------
def cuba_params(N=4000, p_conn=None):
    return dict(
        model="CUBA (Brette et al. 2007 benchmark 2; brian2 examples/CUBA.py)",
        N=N, N_exc=int(round(0.8 * N)), N_inh=N - int(round(0.8 * N)),
        taum="20 ms", taue="5 ms", taui="10 ms",
        Vt="-50 mV", Vr="-60 mV", El="-49 mV", refractory="5 ms",
        equations=["dv/dt = (ge+gi-(v-El))/taum : volt (unless refractory)",
                   "dge/dt = -ge/taue : volt", "dgi/dt = -gi/taui : volt"],
        method="exact", threshold="v>Vt", reset="v=Vr",
        init="v = Vr + rand()*(Vt-Vr); ge = gi = 0",
        we="1.62 mV (on_pre ge += we, sources i < N_exc)",
        wi="-9 mV (on_pre gi += wi, sources i >= N_exc)",
        p_conn=(p_conn if p_conn is not None else 0.02),
        autapses="allowed", delay="0 ms (applied at the next step, Brian2 semantics)",
        dt="0.1 ms",
    )


def run_cuba(N=4000, duration_s=2.0, seed=1, device="runtime", threads=1, build_dir=None,
             p_conn=None, record_spikes=True, target="cython"):
    import brian2 as b2
    from brian2 import ms, mV, NeuronGroup, Synapses, SpikeMonitor, Network
    b2.start_scope()
    _setup_device(device, threads, build_dir, target)
    b2.seed(seed)
    p = 0.02 if p_conn is None else p_conn
    NE = int(round(0.8 * N))
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
              we=1.62 * mV, wi=-9 * mV)
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                    method="exact", namespace=ns, name="P")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = Synapses(P, P, on_pre="ge += we", namespace=ns, name="Ce")
    Ci = Synapses(P, P, on_pre="gi += wi", namespace=ns, name="Ci")
    Ce.connect(f"i<{NE}", p=p)
    Ci.connect(f"i>={NE}", p=p)
    mon = SpikeMonitor(P, record=record_spikes, name="spikes")
    net = Network(P, Ce, Ci, mon)
    pops = {"exc": [0, NE], "inh": [NE, N]}
    return _finish(b2, net, mon, [Ce, Ci], N, pops, duration_s, device, record_spikes,
                   cuba_params(N, p))


# ---------------------------------------------------------------------------
# COBA: Brette et al. 2007 benchmark 1 (Vogels & Abbott 2005)
# variants: "base" (ge~N(4,1.5) nS, gi~N(20,12) nS),
#           "a"    (ge~N(40,15) nS, gi~N(200,120) nS, as brian2 examples/COBAHH-less COBA.py),
#           "b"    (Auryn: we=4 nS, wi=51 nS, + constant 200 pA bias, base init)
# ---------------------------------------------------------------------------
COBA_VARIANTS = {
    "base": dict(we_nS=6.0, wi_nS=67.0, ge0_mean_nS=4.0, ge0_std_nS=1.5,
                 gi0_mean_nS=20.0, gi0_std_nS=12.0, I_bias_pA=0.0),
    "a": dict(we_nS=6.0, wi_nS=67.0, ge0_mean_nS=40.0, ge0_std_nS=15.0,
              gi0_mean_nS=200.0, gi0_std_nS=120.0, I_bias_pA=0.0),
    "b": dict(we_nS=4.0, wi_nS=51.0, ge0_mean_nS=4.0, ge0_std_nS=1.5,
              gi0_mean_nS=20.0, gi0_std_nS=12.0, I_bias_pA=200.0),
}
COBA_METHOD = "exponential_euler"


def coba_params(N=4000, p_conn=None, variant="base"):
    v = COBA_VARIANTS[variant]
    return dict(
        model="COBA (Brette et al. 2007 benchmark 1; Vogels & Abbott 2005)",
        variant=variant,
        N=N, N_exc=int(round(0.8 * N)), N_inh=N - int(round(0.8 * N)),
        C="200 pF", gL="10 nS", taum="20 ms (=C/gL)", taue="5 ms", taui="10 ms",
        Vt="-50 mV", Vr="-60 mV", El="-60 mV", Ee="0 mV", Ei="-80 mV", refractory="5 ms",
        equations=["dv/dt = (gL*(El-v) + ge*(Ee-v) + gi*(Ei-v) + I_bias)/C : volt (unless refractory)",
                   "dge/dt = -ge/taue : siemens", "dgi/dt = -gi/taui : siemens"],
        I_bias=f"{v['I_bias_pA']} pA",
        method=COBA_METHOD, threshold="v>Vt", reset="v=Vr",
        init=(f"v = Vr + rand()*(Vt-Vr); ge = clip({v['ge0_mean_nS']} + {v['ge0_std_nS']}*randn(), 0) nS; "
              f"gi = clip({v['gi0_mean_nS']} + {v['gi0_std_nS']}*randn(), 0) nS"),
        we=f"{v['we_nS']} nS (on_pre ge += we, sources i < N_exc)",
        wi=f"{v['wi_nS']} nS (on_pre gi += wi, sources i >= N_exc)",
        p_conn=(p_conn if p_conn is not None else 0.02),
        autapses="allowed", delay="0 ms (applied at the next step, Brian2 semantics)",
        dt="0.1 ms",
    )


def run_coba(N=4000, duration_s=2.0, seed=1, device="runtime", threads=1, build_dir=None,
             p_conn=None, record_spikes=True, target="cython", variant="base"):
    import brian2 as b2
    from brian2 import ms, mV, nS, pF, pA, NeuronGroup, Synapses, SpikeMonitor, Network
    b2.start_scope()
    _setup_device(device, threads, build_dir, target)
    b2.seed(seed)
    v = COBA_VARIANTS[variant]
    p = 0.02 if p_conn is None else p_conn
    NE = int(round(0.8 * N))
    ns = dict(C=200 * pF, gL=10 * nS, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV,
              El=-60 * mV, Ee=0 * mV, Ei=-80 * mV, I_bias=v["I_bias_pA"] * pA,
              we=v["we_nS"] * nS, wi=v["wi_nS"] * nS,
              ge0m=v["ge0_mean_nS"] * nS, ge0s=v["ge0_std_nS"] * nS,
              gi0m=v["gi0_mean_nS"] * nS, gi0s=v["gi0_std_nS"] * nS)
    eqs = """
    dv/dt  = (gL*(El-v) + ge*(Ee-v) + gi*(Ei-v) + I_bias)/C : volt (unless refractory)
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    """
    P = NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                    method=COBA_METHOD, namespace=ns, name="P")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = "clip(ge0m + ge0s*randn(), 0*nS, inf*nS)"
    P.gi = "clip(gi0m + gi0s*randn(), 0*nS, inf*nS)"
    Ce = Synapses(P, P, on_pre="ge += we", namespace=ns, name="Ce")
    Ci = Synapses(P, P, on_pre="gi += wi", namespace=ns, name="Ci")
    Ce.connect(f"i<{NE}", p=p)
    Ci.connect(f"i>={NE}", p=p)
    mon = SpikeMonitor(P, record=record_spikes, name="spikes")
    net = Network(P, Ce, Ci, mon)
    pops = {"exc": [0, NE], "inh": [NE, N]}
    return _finish(b2, net, mon, [Ce, Ci], N, pops, duration_s, device, record_spikes,
                   coba_params(N, p, variant))


# ---------------------------------------------------------------------------
# Brunel 2000, model A, g=5, nu_ext = 2 nu_thr (asynchronous irregular, Fig. 8C)
# ---------------------------------------------------------------------------
def brunel_params(NE=10000, NI=2500, g=5.0, eta=2.0):
    return dict(
        model="Brunel 2000 model A (delta synapses), g=5, nu_ext=2*nu_thr (AI)",
        N_E=NE, N_I=NI, C_E=int(0.1 * NE), C_I=int(0.1 * NI),
        connectivity="fixed in-degree: each neuron draws C_E exc and C_I inh presynaptic "
                     "indices uniformly at random WITH replacement (multapses and autapses allowed)",
        J="0.1 mV", g=g, J_inh=f"{-g * 0.1} mV", delay="1.5 ms", tau="20 ms", theta="20 mV",
        V_r="10 mV", V_rest="0 mV", refractory="2 ms (v clamped; input arriving during "
                                              "refractoriness, recurrent or external, is discarded)",
        equations=["dv/dt = -v/tau : volt (unless refractory)"], method="exact",
        nu_thr="theta/(J*C_E*tau) = 10 Hz", nu_ext=f"{eta}*nu_thr per external input",
        external="C_E independent Poisson inputs per neuron, each v += J, drawn as "
                 "Binomial(C_E, nu_ext*dt) per step (equivalent to brian2 PoissonInput) "
                 "but multiplied by not_refractory",
        init="v ~ Uniform[0, 20] mV (theta), independent per neuron",
        dt="0.1 ms",
    )


def run_brunel(N=None, duration_s=1.0, seed=1, device="runtime", threads=1, build_dir=None,
               p_conn=None, record_spikes=True, target="cython", g=5.0, eta=2.0):
    import brian2 as b2
    from brian2 import ms, mV, Hz, NeuronGroup, Synapses, SpikeMonitor, Network, BinomialFunction
    b2.start_scope()
    _setup_device(device, threads, build_dir, target)
    b2.seed(seed)
    NE, NI = 10000, 2500
    if N is not None:
        NE = int(round(0.8 * N)); NI = N - NE
    N = NE + NI
    CE, CI = int(0.1 * NE), int(0.1 * NI)
    J = 0.1 * mV
    tau = 20 * ms
    theta = 20 * mV
    nu_thr = theta / (J * CE * tau)
    nu_ext = eta * nu_thr
    dt = 0.1 * ms
    ext = BinomialFunction(CE, float(nu_ext * dt), name="ext_poisson")
    ns = dict(tau=tau, theta=theta, Vr=10 * mV, J=J, Ji=-g * J, ext_poisson=ext)
    P = NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)", threshold="v>theta",
                    reset="v = Vr", refractory=2 * ms, method="exact", namespace=ns, name="P")
    P.v = "rand() * theta"
    # external drive: same slot as PoissonInput ('synapses'), discarded while refractory
    P.run_regularly("v += J * ext_poisson() * int(not_refractory)", when="synapses",
                    name="external")
    Ce = Synapses(P, P, on_pre="v_post += J * int(not_refractory_post)", delay=1.5 * ms,
                  namespace=ns, name="Ce")
    Ci = Synapses(P, P, on_pre="v_post += Ji * int(not_refractory_post)", delay=1.5 * ms,
                  namespace=ns, name="Ci")
    # fixed in-degree, presynaptic partners drawn with replacement (numpy; seeded)
    rng = np.random.default_rng(seed)
    post_e = np.repeat(np.arange(N), CE)
    pre_e = rng.integers(0, NE, size=N * CE)
    post_i = np.repeat(np.arange(N), CI)
    pre_i = rng.integers(NE, N, size=N * CI)
    Ce.connect(i=pre_e, j=post_e)
    Ci.connect(i=pre_i, j=post_i)
    mon = SpikeMonitor(P, record=record_spikes, name="spikes")
    net = Network(P, Ce, Ci, mon)
    pops = {"exc": [0, NE], "inh": [NE, N]}
    return _finish(b2, net, mon, [Ce, Ci], N, pops, duration_s, device, record_spikes,
                   brunel_params(NE, NI, g, eta))


# ---------------------------------------------------------------------------
# COBA-HH: Brette et al. 2007 benchmark 3 == brian2/examples/COBAHH.py
# (Hodgkin-Huxley neurons with Traub-Miles kinetics, exponential conductances)
# ---------------------------------------------------------------------------
COBA_HH_EQS = """
dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK))/Cm : volt
dm/dt = alpha_m*(1-m)-beta_m*m : 1
dn/dt = alpha_n*(1-n)-beta_n*n : 1
dh/dt = alpha_h*(1-h)-beta_h*h : 1
dge/dt = -ge*(1./taue) : siemens
dgi/dt = -gi*(1./taui) : siemens
alpha_m = 0.32*(mV**-1)*(13*mV-v+VT)/(exp((13*mV-v+VT)/(4*mV))-1.)/ms : Hz
beta_m = 0.28*(mV**-1)*(v-VT-40*mV)/(exp((v-VT-40*mV)/(5*mV))-1)/ms : Hz
alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*(15*mV-v+VT)/(exp((15*mV-v+VT)/(5*mV))-1.)/ms : Hz
beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
"""


def coba_hh_params(N=4000, p_conn=None):
    return dict(
        model="COBA-HH (Brette et al. 2007 benchmark 3; brian2 examples/COBAHH.py)",
        N=N, N_exc=int(round(0.8 * N)), N_inh=N - int(round(0.8 * N)),
        area="20000 um^2", Cm="1 uF/cm^2 * area = 200 pF", gl="5e-5 S/cm^2 * area = 10 nS",
        g_na="100 mS/cm^2 * area = 20 uS", g_kd="30 mS/cm^2 * area = 6 uS",
        El="-60 mV", EK="-90 mV", ENa="50 mV", VT="-63 mV", taue="5 ms", taui="10 ms",
        Ee="0 mV", Ei="-80 mV",
        equations=[l for l in COBA_HH_EQS.strip().splitlines()],
        method="exponential_euler", threshold="v>-20*mV", refractory="3 ms (no reset)",
        init=("v = El + (randn()*5 - 5)*mV; ge = (randn()*1.5 + 4)*10 nS; "
              "gi = (randn()*12 + 20)*10 nS (not clipped); m = h = n = 0"),
        we="6 nS (on_pre ge += we, sources i < N_exc)",
        wi="67 nS (on_pre gi += wi, sources i >= N_exc)",
        p_conn=(p_conn if p_conn is not None else 0.02),
        autapses="allowed", delay="0 ms (applied at the next step, Brian2 semantics)",
        dt="0.1 ms",
    )


def run_coba_hh(N=4000, duration_s=2.0, seed=1, device="runtime", threads=1, build_dir=None,
                p_conn=None, record_spikes=True, target="cython"):
    import brian2 as b2
    from brian2 import ms, mV, nS, umetre, cm, ufarad, siemens, msiemens
    from brian2 import NeuronGroup, Synapses, SpikeMonitor, Network, Equations
    b2.start_scope()
    _setup_device(device, threads, build_dir, target)
    b2.seed(seed)
    p = 0.02 if p_conn is None else p_conn
    NE = int(round(0.8 * N))
    area = 20000 * umetre ** 2
    ns = dict(Cm=(1 * ufarad * cm ** -2) * area, gl=(5e-5 * siemens * cm ** -2) * area,
              El=-60 * mV, EK=-90 * mV, ENa=50 * mV,
              g_na=(100 * msiemens * cm ** -2) * area, g_kd=(30 * msiemens * cm ** -2) * area,
              VT=-63 * mV, taue=5 * ms, taui=10 * ms, Ee=0 * mV, Ei=-80 * mV,
              we=6 * nS, wi=67 * nS)
    P = NeuronGroup(N, Equations(COBA_HH_EQS), threshold="v>-20*mV", refractory=3 * ms,
                    method="exponential_euler", namespace=ns, name="P")
    P.v = "El + (randn() * 5 - 5)*mV"
    P.ge = "(randn() * 1.5 + 4) * 10.*nS"
    P.gi = "(randn() * 12 + 20) * 10.*nS"
    Ce = Synapses(P, P, on_pre="ge += we", namespace=ns, name="Ce")
    Ci = Synapses(P, P, on_pre="gi += wi", namespace=ns, name="Ci")
    Ce.connect(f"i<{NE}", p=p)
    Ci.connect(f"i>={NE}", p=p)
    mon = SpikeMonitor(P, record=record_spikes, name="spikes")
    net = Network(P, Ce, Ci, mon)
    pops = {"exc": [0, NE], "inh": [NE, N]}
    return _finish(b2, net, mon, [Ce, Ci], N, pops, duration_s, device, record_spikes,
                   coba_hh_params(N, p))


MODELS = {"cuba": run_cuba, "coba": run_coba, "brunel": run_brunel, "coba_hh": run_coba_hh}


def population_stats(res):
    """rate_hz and cv_isi per population + 'all' (cognitron computes the same)."""
    N = res["n_neurons"]
    T = res["duration_s"]
    si, st = res["spike_i"], res["spike_t"]
    order = np.lexsort((st, si))
    si, st = si[order], st[order]
    counts = np.bincount(si, minlength=N)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    cv = np.full(N, np.nan)
    for n in np.nonzero(counts >= 3)[0]:
        isi = np.diff(st[bounds[n]:bounds[n + 1]])
        cv[n] = np.std(isi) / np.mean(isi)
    pops = dict(res["pops"])
    pops["all"] = [0, N]
    out = {}
    for name, (a, b) in pops.items():
        n = b - a
        c = cv[a:b]
        valid = ~np.isnan(c)
        out[name] = dict(
            n=int(n), spikes=int(counts[a:b].sum()),
            rate_hz=float(counts[a:b].sum() / (n * T)),
            cv_isi=(float(np.mean(c[valid])) if valid.any() else None),
            n_cv_neurons=int(valid.sum()),
        )
    return out
