"""Reference spike times of the Pinsky-Rinzel (1994) two-compartment neuron
(J Comput Neurosci 1:39), integrated here with classical RK4 at a small step,
independently of cognitron (plain Python, no dependencies). Potentials are in
the paper's convention (mV above rest); a spike is an upward crossing of
40 mV above rest by the soma (= -20 mV absolute with rest at -60 mV).

Run from the repository root:
    python3 bench/reference/pinsky_rinzel_rk4.py   # ~30 s, writes pinsky_rinzel_rk4.json
Used by crates/core/tests/compartments.rs.
"""
import json, math, sys, platform

P = dict(p=0.5, gna=30.0, gkdr=15.0, gca=10.0, gkahp=0.8, gkc=15.0, gl=0.1,
         vna=120.0, vk=-15.0, vca=140.0, vl=0.0, cm=3.0)


def am(v): return .32 * (13.1 - v) / (math.exp((13.1 - v) / 4) - 1)
def bm(v): return .28 * (v - 40.1) / (math.exp((v - 40.1) / 5) - 1)
def ah(v): return .128 * math.exp((17 - v) / 18)
def bh(v): return 4 / (1 + math.exp((40 - v) / 5))
def an(v): return .016 * (35.1 - v) / (math.exp((35.1 - v) / 5) - 1)
def bn(v): return .25 * math.exp(.5 - .025 * v)
def as_(v): return 1.6 / (1 + math.exp(-.072 * (v - 65)))
def bs(v): return .02 * (v - 51.1) / (math.exp((v - 51.1) / 5) - 1)
def ac(v): return math.exp((v - 10) / 11 - (v - 6.5) / 27) / 18.975 if v <= 50 else 2 * math.exp((6.5 - v) / 27)
def bc(v): return 2 * math.exp((6.5 - v) / 27) - ac(v) if v <= 50 else 0.0


def run(gc, i_s, duration_ms, dt):
    p = P["p"]

    def f(y):
        vs, vd, h, n, s, c, q, ca = y
        m = am(vs) / (am(vs) + bm(vs))
        ica = P["gca"] * s * s * (vd - P["vca"])
        chi = min(ca / 250, 1)
        dvs = (-P["gl"] * (vs - P["vl"]) - P["gna"] * m * m * h * (vs - P["vna"]) - P["gkdr"] * n * (vs - P["vk"])
               + gc / p * (vd - vs) + i_s / p) / P["cm"]
        dvd = (-P["gl"] * (vd - P["vl"]) - ica - P["gkahp"] * q * (vd - P["vk"]) - P["gkc"] * c * chi * (vd - P["vk"])
               + gc / (1 - p) * (vs - vd)) / P["cm"]
        aq = min(.00002 * ca, .01)
        return [dvs, dvd, ah(vs) * (1 - h) - bh(vs) * h, an(vs) * (1 - n) - bn(vs) * n,
                as_(vd) * (1 - s) - bs(vd) * s, ac(vd) * (1 - c) - bc(vd) * c, aq * (1 - q) - .001 * q,
                -.13 * ica - .075 * ca]

    ss = lambda a, b: a / (a + b)
    vs, vd = -4.6, -4.5
    y = [vs, vd, ss(ah(vs), bh(vs)), ss(an(vs), bn(vs)), ss(as_(vd), bs(vd)), ss(ac(vd), bc(vd)), 0.01, 0.2]
    spikes = []
    for i in range(int(round(duration_ms / dt))):
        k1 = f(y)
        k2 = f([a + dt / 2 * b for a, b in zip(y, k1)])
        k3 = f([a + dt / 2 * b for a, b in zip(y, k2)])
        k4 = f([a + dt * b for a, b in zip(y, k3)])
        old = y[0]
        y = [a + dt / 6 * (b + 2 * c + 2 * d + e) for a, b, c, d, e in zip(y, k1, k2, k3, k4)]
        if old < 40.0 <= y[0]:
            spikes.append(round((i + 1) * dt, 4))
    return spikes


if __name__ == "__main__":
    dt, duration = 0.0025, 2000.0
    cases = [dict(g_c=2.1, i_soma=1.5), dict(g_c=10.5, i_soma=1.5)]
    for case in cases:
        case["spike_times_ms"] = run(case["g_c"], case["i_soma"], duration, dt)
    out = dict(model="Pinsky & Rinzel 1994, initial state vs=-4.6 vd=-4.5 (mV above rest), gates at steady state, q=0.01, Ca=0.2",
               method="classical RK4", dt_ms=dt, duration_ms=duration, threshold_mv_above_rest=40.0,
               params=P, cases=cases, python=platform.python_version(), command=" ".join(sys.argv))
    with open("bench/reference/pinsky_rinzel_rk4.json", "w") as fh:
        json.dump(out, fh, indent=1)
