"""Spike times of the firing patterns of Izhikevich (2004), "Which model to
use for cortical spiking neurons?", IEEE Trans Neural Netw 15:1063, Fig. 1,
from the algorithm of the paper's published code figure1.m, written out in
plain Python: per panel its a, b, c, d, initial V, step tau, stimulus
condition and I-V constants; forward Euler `V += tau (0.04 V^2 + 5 V + 140 -
u + I)`, then `u += tau a (b V - u)`, then `if V > 30: V = c, u += d`.

Writes bench/reference/izhikevich2004_figure1.json: for each panel (by its
cognitron preset name) the loop indices k (t = k tau) at which the neuron
spiked. crates/core/tests/izhikevich.rs requires the same steps.

    python3 bench/reference/izhikevich2004_figure1.py
"""
import json
import pathlib


def simulate(a, b, c, d, v0, tau, t_end, current, k1=5.0, k0=140.0):
    v, u = v0, b * v0
    spikes = []
    steps = int(round(t_end / tau))
    for k in range(steps + 1):  # figure1.m: for t = 0:tau:t_end
        t = k * tau
        i = current(t)
        v = v + tau * (0.04 * v * v + k1 * v + k0 - u + i)
        u = u + tau * a * (b * v - u)
        if v > 30:
            spikes.append(k)
            v = c
            u = u + d
    return spikes


def pulses(windows, amplitude, base=0.0):
    return lambda t: amplitude if any(t0 < t < t1 for t0, t1 in windows) else base


PANELS = {
    # (A) T1 = tspan(end)/10
    "tonic_spiking": lambda: simulate(0.02, 0.2, -65, 6, -70, 0.25, 100, lambda t: 14 if t > 10 else 0),
    "phasic_spiking": lambda: simulate(0.02, 0.25, -65, 6, -64, 0.25, 200, lambda t: 0.5 if t > 20 else 0),
    "tonic_bursting": lambda: simulate(0.02, 0.2, -50, 2, -70, 0.25, 220, lambda t: 15 if t > 22 else 0),
    "phasic_bursting": lambda: simulate(0.02, 0.25, -55, 0.05, -64, 0.2, 200, lambda t: 0.6 if t > 20 else 0),
    "mixed_mode": lambda: simulate(0.02, 0.2, -55, 4, -70, 0.25, 160, lambda t: 10 if t > 16 else 0),
    "spike_frequency_adaptation": lambda: simulate(0.01, 0.2, -65, 8, -70, 0.25, 85, lambda t: 30 if t > 8.5 else 0),
    "class1_excitability": lambda: simulate(
        0.02, -0.1, -55, 6, -60, 0.25, 300, lambda t: 0.075 * (t - 30) if t > 30 else 0, k1=4.1, k0=108
    ),
    "class2_excitability": lambda: simulate(
        0.2, 0.26, -65, 0, -64, 0.25, 300, lambda t: -0.5 + 0.015 * (t - 30) if t > 30 else -0.5
    ),
    "spike_latency": lambda: simulate(0.02, 0.2, -65, 6, -70, 0.2, 100, pulses([(10, 13)], 7.04)),
    "resonator": lambda: simulate(
        0.1, 0.26, -60, -1, -62, 0.25, 400, pulses([(40, 44), (60, 64), (280, 284), (320, 324)], 0.65)
    ),
    "integrator": lambda: simulate(
        0.02, -0.1, -55, 6, -60, 0.25, 100,
        pulses([(100 / 11, 100 / 11 + 2), (100 / 11 + 5, 100 / 11 + 7), (70, 72), (80, 82)], 9),
        k1=4.1, k0=108,
    ),
    "rebound_spike": lambda: simulate(0.03, 0.25, -60, 4, -64, 0.2, 200, pulses([(20, 25)], -15)),
    "rebound_burst": lambda: simulate(0.03, 0.25, -52, 0, -64, 0.2, 200, pulses([(20, 25)], -15)),
    "bistability": lambda: simulate(0.1, 0.26, -60, 0, -61, 0.25, 300, pulses([(37.5, 42.5), (216, 221)], 1.24, 0.24)),
}


def main():
    out = {
        "source": "figure1.m of Izhikevich (2004), transcribed to Python",
        "command": "python3 bench/reference/izhikevich2004_figure1.py",
        "spike_steps": {name: run() for name, run in PANELS.items()},
    }
    for name, steps in out["spike_steps"].items():
        print(name, steps)
    path = pathlib.Path(__file__).with_name("izhikevich2004_figure1.json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
