//! Gradients against known answers: backprop (dense, convolution, pooling,
//! ReLU, flatten) against finite differences of the loss; backprop through
//! time in LIF layers (surrogate derivative, recurrent weights, resets)
//! against forward-mode differentiation of the same equations written
//! independently in f64; the losses against finite differences.

use cognitron_learn::gradient::layers::{Conv2d, Dense, Lif, Pool, PoolKind, Reset, Shape, Surrogate};
use cognitron_learn::gradient::loss::{self, Batch, Loss, Rates};
use cognitron_learn::gradient::model::{CreditAssignment, Layer, Network};
use cognitron_learn::gradient::train::batch_loss;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const RATES: Rates = Rates {
    correct_rate: 0.8,
    incorrect_rate: 0.2,
};

fn fill_input(network: &mut Network, batch: usize, rng: &mut impl Rng) -> Vec<f32> {
    let x: Vec<f32> = (0..network.steps * batch * network.input.len())
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    network.input_mut(batch).copy_from_slice(&x);
    x
}

fn loss_at(network: &mut Network, x: &[f32], batch: usize, labels: &[u8], kind: Loss) -> f64 {
    network.input_mut(batch).copy_from_slice(x);
    network.forward(batch);
    batch_loss(network, kind, &RATES, labels, false).0
}

/// Every parameter's backprop gradient against central differences.
fn check_against_finite_differences(mut network: Network, batch: usize, kind: Loss, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x = fill_input(&mut network, batch, &mut rng);
    let labels: Vec<u8> = (0..batch).map(|_| rng.gen_range(0..network.classes() as u8)).collect();
    network.forward(batch);
    batch_loss(&mut network, kind, &RATES, &labels, true);
    network.zero_grads();
    network.backward();
    let grads: Vec<Vec<f32>> = network.params().iter().map(|p| p.grad.clone()).collect();
    let mut checked = 0;
    for (k, grad) in grads.iter().enumerate() {
        // A sample of each tensor's entries, always including the first.
        let stride = (grad.len() / 12).max(1);
        for i in (0..grad.len()).step_by(stride) {
            let analytic = grad[i] as f64;
            let original = network.params()[k].value[i];
            // A ReLU or max-pool kink within eps of the point spoils one
            // difference; it cannot spoil all three step sizes.
            let mut numerics = Vec::new();
            for eps in [3e-3f32, 1e-3, 3e-4] {
                network.params_mut()[k].value[i] = original + eps;
                let up = loss_at(&mut network, &x, batch, &labels, kind);
                network.params_mut()[k].value[i] = original - eps;
                let down = loss_at(&mut network, &x, batch, &labels, kind);
                network.params_mut()[k].value[i] = original;
                numerics.push((up - down) / (2.0 * eps as f64));
            }
            assert!(
                numerics
                    .iter()
                    .any(|n| (n - analytic).abs() <= 1e-3 + 2e-2 * analytic.abs().max(n.abs())),
                "tensor {k} entry {i}: backprop {analytic:.6}, finite differences {numerics:.6?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} entries checked");
}

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

#[test]
fn mlp_backprop_matches_finite_differences() {
    let mut r = rng(1);
    let layers = vec![
        Layer::Dense(Dense::new(12, 9, &mut r)),
        Layer::Relu(Shape::flat(9)),
        Layer::Dense(Dense::new(9, 7, &mut r)),
        Layer::Relu(Shape::flat(7)),
        Layer::Dense(Dense::new(7, 4, &mut r)),
    ];
    let network = Network::new(Shape::flat(12), 1, layers, CreditAssignment::Backprop, &mut r);
    check_against_finite_differences(network, 5, Loss::CrossEntropy, 2);
}

#[test]
fn cnn_backprop_matches_finite_differences() {
    let mut r = rng(3);
    let image = Shape {
        channels: 2,
        height: 8,
        width: 8,
    };
    let conv1 = Conv2d::new(image, 3, 3, 1, &mut r); // 3x8x8
    let pool1 = Pool::new(PoolKind::Max, 2, conv1.output); // 3x4x4
    let conv2 = Conv2d::new(pool1.output, 4, 3, 0, &mut r); // 4x2x2
    let pool2 = Pool::new(PoolKind::Average, 2, conv2.output); // 4x1x1
    let out2 = conv2.output;
    let layers = vec![
        Layer::Conv(conv1.clone()),
        Layer::Relu(conv1.output),
        Layer::Pool(pool1.clone()),
        Layer::Conv(conv2),
        Layer::Relu(out2),
        Layer::Pool(pool2),
        Layer::Flatten(Shape::flat(4)),
        Layer::Dense(Dense::new(4, 3, &mut r)),
    ];
    // 11 samples: more than one group of the convolution's batching.
    let mut network = Network::new(image, 1, layers, CreditAssignment::Backprop, &mut r);
    // Larger weights than the default initialisation spread the ReLUs'
    // inputs, so that few lie within a finite-difference step of their kink.
    for p in network.params_mut() {
        p.value.iter_mut().for_each(|w| *w *= 3.0);
    }
    check_against_finite_differences(network, 11, Loss::CrossEntropy, 4);
}

#[test]
fn spiking_output_losses_match_finite_differences_below_threshold() {
    // With a threshold no membrane reaches, nothing spikes and the membrane
    // loss is smooth: backprop through time must match finite differences
    // exactly (the surrogate plays no part).
    let mut r = rng(5);
    let steps = 6;
    let lif = Lif::new(
        Shape::flat(4),
        0.8,
        1e6,
        Reset::Subtract,
        Surrogate::FastSigmoid,
        25.0,
        true,
        false,
        &mut r,
    );
    let layers = vec![
        Layer::Dense(Dense::new(10, 6, &mut r)),
        Layer::Relu(Shape::flat(6)),
        Layer::Dense(Dense::new(6, 4, &mut r)),
        Layer::Lif(lif),
    ];
    let network = Network::new(Shape::flat(10), steps, layers, CreditAssignment::Backprop, &mut r);
    check_against_finite_differences(network, 3, Loss::CrossEntropyMembrane, 6);
}

#[test]
fn losses_match_finite_differences() {
    let mut r = rng(7);
    let (steps, batch, classes) = (3, 4, 5);
    let labels: Vec<u8> = (0..batch).map(|_| r.gen_range(0..classes as u8)).collect();
    let output: Vec<f32> = (0..steps * batch * classes).map(|_| r.gen_range(-2.0..2.0)).collect();
    let membrane: Vec<f32> = (0..steps * batch * classes).map(|_| r.gen_range(-2.0..2.0)).collect();
    for kind in [
        Loss::CrossEntropy,
        Loss::CrossEntropyCount,
        Loss::MseCount,
        Loss::CrossEntropyMembrane,
    ] {
        let value = |output: &[f32], membrane: &[f32]| {
            let b = Batch {
                steps,
                classes,
                labels: &labels,
                output,
                membrane: Some(membrane),
            };
            loss::loss(kind, &b, &RATES, None, None)
        };
        let b = Batch {
            steps,
            classes,
            labels: &labels,
            output: &output,
            membrane: Some(&membrane),
        };
        let mut g_out = vec![0.0; output.len()];
        let mut g_mem = Vec::new();
        loss::loss(kind, &b, &RATES, Some(&mut g_out), Some(&mut g_mem));
        let eps = 1e-2;
        for i in 0..output.len() {
            for (which, analytic) in [(0, g_out[i]), (1, g_mem.get(i).copied().unwrap_or(0.0))] {
                let (mut o, mut m) = (output.clone(), membrane.clone());
                let target = if which == 0 { &mut o } else { &mut m };
                target[i] += eps;
                let up = value(&o, &m);
                let target = if which == 0 { &mut o } else { &mut m };
                target[i] -= 2.0 * eps;
                let down = value(&o, &m);
                let numeric = (up - down) / (2.0 * eps as f64);
                assert!(
                    (numeric - analytic as f64).abs() < 1e-3,
                    "{kind:?} {} {i}: {analytic} vs {numeric}",
                    if which == 0 { "output" } else { "membrane" }
                );
            }
        }
    }
    // Known values: uniform logits give ln(classes).
    let zeros = vec![0.0f32; batch * classes];
    let b = Batch {
        steps: 1,
        classes,
        labels: &labels,
        output: &zeros,
        membrane: None,
    };
    let ce = loss::loss(Loss::CrossEntropy, &b, &RATES, None, None);
    assert!((ce - (classes as f64).ln()).abs() < 1e-6, "{ce}");
}

/// The LIF layer's equations in f64, differentiated forward in time along
/// one direction (tangent) of the inputs and recurrent weights; returns the
/// directional derivative of L = sum(a * s + c * m).
#[allow(clippy::too_many_arguments)]
fn forward_mode(
    lif: &Lif,
    x: &[f32],
    x_dot: &[f64],
    v_dot: &[f64],
    a: &[f32],
    c: &[f32],
    steps: usize,
    batch: usize,
) -> f64 {
    let n = lif.shape.len();
    let (beta, theta, slope) = (lif.beta as f64, lif.threshold as f64, lif.slope);
    let v = lif.recurrent.as_ref().map(|p| &p.value);
    let mut total = 0.0;
    for b in 0..batch {
        let (mut m, mut s) = (vec![0.0f64; n], vec![0.0f64; n]);
        let (mut m_dot, mut s_dot) = (vec![0.0f64; n], vec![0.0f64; n]);
        for t in 0..steps {
            let row = (t * batch + b) * n;
            let (mut new_m, mut new_m_dot) = (vec![0.0; n], vec![0.0; n]);
            for i in 0..n {
                let mut current = x[row + i] as f64;
                let mut current_dot = x_dot[row + i];
                if let (Some(v), true) = (v, t > 0) {
                    for j in 0..n {
                        current += v[i * n + j] as f64 * s[j];
                        current_dot += v[i * n + j] as f64 * s_dot[j] + v_dot[i * n + j] * s[j];
                    }
                }
                // The reset's own derivative (through s) counts unless detached.
                let keep = if lif.detach_reset { 0.0 } else { 1.0 };
                let (carried, carried_dot) = if t == 0 {
                    (0.0, 0.0)
                } else {
                    match lif.reset {
                        Reset::Subtract => (beta * m[i] - theta * s[i], beta * m_dot[i] - keep * theta * s_dot[i]),
                        Reset::Zero => (
                            beta * m[i] * (1.0 - s[i]),
                            beta * m_dot[i] * (1.0 - s[i]) - keep * beta * m[i] * s_dot[i],
                        ),
                        Reset::None => (beta * m[i], beta * m_dot[i]),
                    }
                };
                new_m[i] = carried + current;
                new_m_dot[i] = carried_dot + current_dot;
            }
            for i in 0..n {
                m[i] = new_m[i];
                m_dot[i] = new_m_dot[i];
                s[i] = if m[i] as f32 > lif.threshold { 1.0 } else { 0.0 };
                let u = (m[i] - theta) as f32;
                s_dot[i] = lif.surrogate.derivative(slope, u) as f64 * m_dot[i];
                total += a[row + i] as f64 * s_dot[i] + c[row + i] as f64 * m_dot[i];
            }
        }
    }
    total
}

#[test]
fn lif_backprop_through_time_matches_forward_mode() {
    let (steps, batch, n) = (7, 3, 5);
    for (case, (reset, detach, recurrent, surrogate)) in [
        (Reset::Subtract, true, false, Surrogate::FastSigmoid),
        (Reset::Subtract, false, true, Surrogate::FastSigmoid),
        (Reset::Zero, true, true, Surrogate::Arctan),
        (Reset::Zero, false, false, Surrogate::Triangle),
        (Reset::None, true, true, Surrogate::Arctan),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = rng(10 + case as u64);
        let mut lif = Lif::new(
            Shape::flat(n),
            0.85,
            0.6,
            reset,
            surrogate,
            surrogate.default_slope() * 0.2,
            detach,
            recurrent,
            &mut r,
        );
        let x: Vec<f32> = (0..steps * batch * n).map(|_| r.gen_range(-0.2..0.9)).collect();
        let a: Vec<f32> = (0..x.len()).map(|_| r.gen_range(-1.0..1.0)).collect();
        let c: Vec<f32> = (0..x.len()).map(|_| r.gen_range(-1.0..1.0)).collect();
        let mut spikes = vec![0.0; x.len()];
        lif.forward(&x, &mut spikes, steps);
        let fired = spikes.iter().filter(|&&s| s > 0.0).count();
        assert!(
            fired > 10 && fired < x.len() * 2 / 3,
            "case {case}: {fired} spikes, want some but not all"
        );
        lif.membrane_grad = c.clone();
        let mut grad_x = vec![0.0; x.len()];
        lif.backward(&spikes, &a, Some(&mut grad_x), steps);
        // Directions: random tangents of x and of the recurrent weights.
        let x_dot: Vec<f64> = (0..x.len()).map(|_| r.gen_range(-1.0..1.0)).collect();
        let v_len = if recurrent { n * n } else { 0 };
        let v_dot: Vec<f64> = (0..v_len).map(|_| r.gen_range(-1.0..1.0)).collect();
        let want = forward_mode(&lif, &x, &x_dot, &v_dot, &a, &c, steps, batch);
        let mut got: f64 = grad_x.iter().zip(&x_dot).map(|(g, d)| *g as f64 * d).sum();
        if let Some(v) = &lif.recurrent {
            got += v.grad.iter().zip(&v_dot).map(|(g, d)| *g as f64 * d).sum::<f64>();
        }
        assert!(
            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
            "case {case} ({reset:?}, detach {detach}, recurrent {recurrent}): reverse {got}, forward {want}"
        );
    }
}

#[test]
fn a_static_input_runs_the_first_layers_once_with_the_same_gradients() {
    // conv - relu - pool - flatten - dense - LIF - dense - LIF, over 5 steps
    // of the same input: once per step, and once per sample.
    let build = |static_input: bool| {
        let mut r = rng(21);
        let image = Shape {
            channels: 1,
            height: 6,
            width: 6,
        };
        let conv = Conv2d::new(image, 3, 3, 0, &mut r); // 3x4x4
        let pool = Pool::new(PoolKind::Max, 2, conv.output); // 3x2x2
        let lif = |n| {
            Lif::new(
                Shape::flat(n),
                0.9,
                0.3,
                Reset::Subtract,
                Surrogate::FastSigmoid,
                5.0,
                true,
                false,
                &mut rng(22),
            )
        };
        let layers = vec![
            Layer::Conv(conv.clone()),
            Layer::Relu(conv.output),
            Layer::Pool(pool),
            Layer::Flatten(Shape::flat(12)),
            Layer::Dense(Dense::new(12, 8, &mut r)),
            Layer::Lif(lif(8)),
            Layer::Dense(Dense::new(8, 4, &mut r)),
            Layer::Lif(lif(4)),
        ];
        let mut network = Network::new(image, 5, layers, CreditAssignment::Backprop, &mut r);
        for p in network.params_mut() {
            p.value.iter_mut().for_each(|w| *w *= 3.0);
        }
        network.set_static_input(static_input);
        network
    };
    let batch = 3;
    let image: Vec<f32> = (0..batch * 36).map(|i| ((i * 37 % 17) as f32) / 17.0).collect();
    let labels = [0u8, 2, 3];
    let mut results = Vec::new();
    for static_input in [false, true] {
        let mut network = build(static_input);
        let input = network.input_mut(batch);
        for (k, x) in input.iter_mut().enumerate() {
            *x = image[k % image.len()];
        }
        network.forward(batch);
        let spikes: f32 = network.output().iter().sum();
        let (value, _) = batch_loss(&mut network, Loss::CrossEntropyMembrane, &RATES, &labels, true);
        network.zero_grads();
        network.backward();
        let grads: Vec<Vec<f32>> = network.params().iter().map(|p| p.grad.clone()).collect();
        results.push((value, spikes, grads));
    }
    let ((loss_a, spikes_a, grads_a), (loss_b, spikes_b, grads_b)) = (&results[0], &results[1]);
    assert!(*spikes_a > 0.0, "the output must spike for the test to mean anything");
    assert_eq!(spikes_a, spikes_b);
    assert!((loss_a - loss_b).abs() < 1e-6 * loss_a.abs());
    for (k, (a, b)) in grads_a.iter().zip(grads_b).enumerate() {
        let scale = a.iter().map(|x| x.abs()).fold(0.0, f32::max);
        assert!(scale > 0.0, "tensor {k} has no gradient");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-5 * scale, "tensor {k}: {x} vs {y}");
        }
    }
}

#[test]
fn eprop_equals_online_eligibility_traces() {
    // A recurrent LIF layer under e-prop: its weight gradient must equal the
    // online rule of Bellec et al. (2020), sum over t of learning signal x
    // pseudo-derivative x eligibility vector, with the eligibility vectors
    // run forward in time: eps_x[t] = beta eps_x[t-1] + x[t] (input weights,
    // here the input current itself) and eps_z[t] = beta eps_z[t-1] + z[t-1].
    let (steps, batch, n) = (9, 2, 6);
    let mut r = rng(31);
    let mut lif = Lif::new(
        Shape::flat(n),
        0.8,
        0.5,
        Reset::Subtract,
        Surrogate::FastSigmoid,
        3.0,
        true,
        true,
        &mut r,
    );
    lif.eprop = true;
    let x: Vec<f32> = (0..steps * batch * n).map(|_| r.gen_range(-0.1..0.7)).collect();
    let signal: Vec<f32> = (0..x.len()).map(|_| r.gen_range(-1.0..1.0)).collect();
    let mut spikes = vec![0.0; x.len()];
    lif.forward(&x, &mut spikes, steps);
    assert!(spikes.iter().sum::<f32>() > 5.0);
    let mut grad_x = vec![0.0; x.len()];
    lif.backward(&spikes, &signal, Some(&mut grad_x), steps);
    let got = lif.recurrent.as_ref().unwrap().grad.clone();

    let (beta, theta) = (lif.beta as f64, lif.threshold as f64);
    let mut want = vec![0.0f64; n * n];
    for b in 0..batch {
        let mut eps_z = vec![0.0f64; n]; // the same for every postsynaptic neuron
        let mut direct_x = vec![vec![0.0f64; n]; steps]; // e-prop dL/dx[t], accumulated online
        for t in 0..steps {
            let row = (t * batch + b) * n;
            let previous: Vec<f64> = if t == 0 {
                vec![0.0; n]
            } else {
                (0..n).map(|i| spikes[((t - 1) * batch + b) * n + i] as f64).collect()
            };
            for i in 0..n {
                eps_z[i] = beta * eps_z[i] + previous[i];
            }
            for j in 0..n {
                let psi = lif
                    .surrogate
                    .derivative(lif.slope, (lif.membrane[row + j] as f64 - theta) as f32)
                    as f64;
                let learning_signal = signal[row + j] as f64;
                for i in 0..n {
                    want[j * n + i] += learning_signal * psi * eps_z[i];
                }
                // The input current of step t' <= t reaches m_j[t] with beta^(t - t').
                for (t_in, d) in direct_x.iter_mut().enumerate().take(t + 1) {
                    d[j] += learning_signal * psi * beta.powi((t - t_in) as i32);
                }
            }
        }
        for (t, d) in direct_x.iter().enumerate() {
            for j in 0..n {
                let g = grad_x[(t * batch + b) * n + j] as f64;
                assert!(
                    (g - d[j]).abs() < 1e-5,
                    "dL/dx step {t} neuron {j}: {g} vs online {}",
                    d[j]
                );
            }
        }
    }
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (*g as f64 - w).abs() < 1e-4,
            "recurrent weight {k}: backward {g} vs online e-prop {w}"
        );
    }
}

#[test]
fn a_leaky_readout_integrates_and_backpropagates_exactly() {
    // Below any threshold the readout is linear: its membrane is the leaky
    // sum of its inputs, and finite differences check its gradient.
    let mut r = rng(41);
    let layers = vec![
        Layer::Dense(Dense::new(5, 6, &mut r)),
        Layer::Lif(Lif::new(
            Shape::flat(6),
            0.9,
            0.4,
            Reset::Subtract,
            Surrogate::FastSigmoid,
            25.0,
            true,
            true,
            &mut r,
        )),
        Layer::Dense(Dense::new(6, 3, &mut r)),
        Layer::Lif(Lif::readout(Shape::flat(3), 0.7)),
    ];
    let mut network = Network::new(Shape::flat(5), 4, layers, CreditAssignment::Backprop, &mut r);
    let x = fill_input(&mut network, 2, &mut r);
    network.forward(2);
    let out = network.output().to_vec();
    // The readout's input: the same network without the readout.
    let mut probe = Network::new(
        Shape::flat(5),
        4,
        network.layers[..3].to_vec(),
        CreditAssignment::Backprop,
        &mut r,
    );
    probe.input_mut(2).copy_from_slice(&x);
    let readout_input = probe.forward(2).to_vec();
    for b in 0..2 {
        for c in 0..3 {
            let mut m = 0.0f32;
            for t in 0..4 {
                m = 0.7 * m + readout_input[(t * 2 + b) * 3 + c];
                assert!((out[(t * 2 + b) * 3 + c] - m).abs() < 1e-6);
            }
        }
    }
    // The readout (the last two layers' weights) against finite differences:
    // with the spiking layer's output fixed, the loss is smooth in them.
    let network = Network::new(
        Shape::flat(6),
        4,
        vec![
            Layer::Dense(Dense::new(6, 3, &mut r)),
            Layer::Lif(Lif::readout(Shape::flat(3), 0.7)),
        ],
        CreditAssignment::Backprop,
        &mut r,
    );
    check_against_finite_differences(network, 3, Loss::CrossEntropy, 42);
}

#[test]
fn a_local_loss_gives_the_gradient_of_its_readouts_cost_and_nothing_from_above() {
    use cognitron_learn::gradient::model::LocalLoss;
    let mut r = rng(51);
    let first = Dense::new(8, 6, &mut r);
    let layers = vec![
        Layer::Dense(first.clone()),
        Layer::Relu(Shape::flat(6)),
        Layer::Dense(Dense::new(6, 4, &mut r)),
    ];
    let mut local = Network::new(Shape::flat(8), 1, layers, CreditAssignment::LocalLosses, &mut r);
    local.set_local_losses(&[None, Some(LocalLoss::CrossEntropy)], &mut r);
    let readout = local.local_readout(1).expect("a readout for the hidden ReLU").to_vec();
    let batch = 5;
    let x = fill_input(&mut local, batch, &mut r);
    let labels = [0u8, 3, 1, 2, 3];
    local.forward(batch);
    batch_loss(&mut local, Loss::CrossEntropy, &RATES, &labels, true);
    local.zero_grads();
    local.set_labels(&labels);
    local.backward();
    let local_grad = local.params()[0].grad.clone();

    // The same first block under plain backprop with the fixed readout as
    // its (bias-free) output layer: the same cost, so the same gradient.
    let mut head = Dense::new(6, 4, &mut r);
    head.weight.value = readout;
    head.bias.value.fill(0.0);
    let mut reference = Network::new(
        Shape::flat(8),
        1,
        vec![Layer::Dense(first), Layer::Relu(Shape::flat(6)), Layer::Dense(head)],
        CreditAssignment::Backprop,
        &mut r,
    );
    reference.input_mut(batch).copy_from_slice(&x);
    reference.forward(batch);
    batch_loss(&mut reference, Loss::CrossEntropy, &RATES, &labels, true);
    reference.zero_grads();
    reference.backward();
    let want = &reference.params()[0].grad;
    assert!(want.iter().any(|g| g.abs() > 1e-4));
    for (g, w) in local_grad.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "local {g} vs reference {w}");
    }

    // Nothing passes between blocks: other output weights, same first-block gradient.
    for p in local.params_mut().into_iter().skip(2) {
        p.value.iter_mut().for_each(|w| *w = -2.0 * *w + 0.1);
    }
    local.forward(batch);
    batch_loss(&mut local, Loss::CrossEntropy, &RATES, &labels, true);
    local.zero_grads();
    local.backward();
    assert_eq!(local.params()[0].grad, local_grad);
}

#[test]
fn dropout_drops_the_rate_keeps_the_mean_and_backpropagates_through_its_mask() {
    use cognitron_learn::gradient::layers::Dropout;
    let mut dropout = Dropout::new(0.3, Shape::flat(1000));
    let x = vec![1.0f32; 20_000];
    let mut y = vec![0.0; x.len()];
    dropout.forward(&x, &mut y, Some(9));
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    let mean = y.iter().map(|&v| v as f64).sum::<f64>() / y.len() as f64;
    assert!((dropped - 0.3).abs() < 0.01, "dropped {dropped}");
    assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
    dropout.forward(&x, &mut y, None);
    assert_eq!(x, y, "testing passes the input through");
    // With its masks fixed by the seed, the network is a smooth function.
    let mut r = rng(61);
    let layers = vec![
        Layer::Dense(Dense::new(10, 16, &mut r)),
        Layer::Relu(Shape::flat(16)),
        Layer::Dropout(Dropout::new(0.4, Shape::flat(16))),
        Layer::Dense(Dense::new(16, 4, &mut r)),
    ];
    let mut network = Network::new(Shape::flat(10), 1, layers, CreditAssignment::Backprop, &mut r);
    network.set_dropout_seed(Some(5));
    check_against_finite_differences(network, 6, Loss::CrossEntropy, 62);
}

#[test]
fn event_driven_convolution_equals_the_dense_product() {
    // Sparse 0/1 inputs (spikes) and a few other values, with and without
    // padding, 11 samples (a group of 8 and a partial one), output gradients
    // sparse (as behind max pooling) or dense: the event-driven paths (a
    // scattered add per nonzero input, a gather of the nonzero gradients),
    // alone or mixed with the dense ones as `Auto` chooses, must give the
    // outputs and gradients of im2col + matrix product.
    use cognitron_learn::gradient::layers::ConvPath;
    // (in channels, kernel, padding, out channels): kernel rows of 9, 60, 65,
    // 96 and 33 floats (one, four, five, six and three vectors of 16), and
    // 5, 72 and 64 output channels (the sums go 96, 64, 32, 16 and 8 floats
    // at a time, then one by one).
    for (channels, kernel, padding, out_channels) in [
        (3, 3, 0, 5),
        (3, 3, 2, 5),
        (12, 5, 1, 5),
        (13, 5, 0, 5),
        (32, 3, 1, 72),
        (11, 3, 1, 64),
    ] {
        for grad_density in [0.2, 0.9] {
            let image = Shape {
                channels,
                height: 9,
                width: 7,
            };
            let mut r = rng(31);
            let conv = Conv2d::new(image, out_channels, kernel, padding, &mut r);
            let samples = 11;
            let input: Vec<f32> = (0..samples * image.len())
                .map(|_| match r.gen_range(0..100) {
                    0..=4 => 1.0,
                    5 => r.gen_range(-2.0..2.0),
                    _ => 0.0,
                })
                .collect();
            let grad_output: Vec<f32> = (0..samples * conv.output.len())
                .map(|_| {
                    if r.gen_bool(grad_density) {
                        r.gen_range(-1.0..1.0)
                    } else {
                        0.0
                    }
                })
                .collect();
            let run = |path: ConvPath| {
                let mut conv = conv.clone();
                conv.path = path;
                let mut output = vec![0.0; samples * conv.output.len()];
                conv.forward(&input, &mut output);
                let mut grad_input = vec![0.0; input.len()];
                conv.backward(&input, &grad_output, Some(&mut grad_input));
                (output, grad_input, conv.weight.grad.clone(), conv.bias.grad.clone())
            };
            let dense = run(ConvPath::Dense);
            assert!(dense.0.iter().any(|&x| x != 0.0));
            for path in [ConvPath::EventDriven, ConvPath::Auto] {
                let other = run(path);
                let close = |name: &str, a: &[f32], b: &[f32]| {
                    assert_eq!(a.len(), b.len());
                    for (i, (x, y)) in a.iter().zip(b).enumerate() {
                        assert!(
                            (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
                            "{path:?}, {channels}x{kernel}x{kernel} padding {padding} -> {out_channels}, \
                             gradients {grad_density}: {name}[{i}]: {x} vs {y}"
                        );
                    }
                };
                close("output", &dense.0, &other.0);
                close("grad_input", &dense.1, &other.1);
                close("grad_weight", &dense.2, &other.2);
                close("grad_bias", &dense.3, &other.3);
            }
        }
    }
}

#[test]
fn convolution_fused_with_max_pooling_equals_the_two_layers() {
    // On a sparse batch a convolution followed by max pooling runs as one
    // pass (the convolution's output is never written); outputs, spikes and
    // every gradient must equal the two layers run one after the other.
    // (in channels, out channels): with 64 and more, the sums go whole
    // vectors at a time.
    for (in_channels, out_channels) in [(2, 6), (32, 64)] {
        check_fused_convolution(in_channels, out_channels);
    }
}

fn check_fused_convolution(in_channels: usize, out_channels: usize) {
    use cognitron_learn::gradient::layers::ConvPath;
    let image = Shape {
        channels: in_channels,
        height: 10,
        width: 10,
    };
    let build = |path: ConvPath| {
        let mut r = rng(41);
        let mut conv = Conv2d::new(image, out_channels, 3, 1, &mut r); // out x 10 x 10
        conv.path = path;
        let pool = Pool::new(PoolKind::Max, 2, conv.output); // out x 5 x 5
        let pooled = pool.output;
        let layers = vec![
            Layer::Conv(conv),
            Layer::Pool(pool),
            Layer::Lif(Lif::new(
                pooled,
                0.8,
                0.4,
                Reset::Subtract,
                Surrogate::FastSigmoid,
                5.0,
                true,
                false,
                &mut r,
            )),
            Layer::Flatten(Shape::flat(pooled.len())),
            Layer::Dense(Dense::new(pooled.len(), 4, &mut r)),
            Layer::Lif(Lif::new(
                Shape::flat(4),
                0.8,
                0.4,
                Reset::Subtract,
                Surrogate::FastSigmoid,
                5.0,
                true,
                false,
                &mut r,
            )),
        ];
        let mut network = Network::new(image, 4, layers, CreditAssignment::Backprop, &mut r);
        for p in network.params_mut() {
            p.value.iter_mut().for_each(|w| *w *= 3.0);
        }
        network
    };
    let batch = 9;
    let mut r = rng(42);
    let mut results = Vec::new();
    let input: Vec<f32> = (0..4 * batch * image.len())
        .map(|_| if r.gen_bool(0.08) { 1.0 } else { 0.0 })
        .collect();
    let labels = [0u8, 1, 2, 3, 0, 1, 2, 3, 0];
    for path in [ConvPath::Dense, ConvPath::EventDriven] {
        let mut network = build(path);
        network.input_mut(batch).copy_from_slice(&input);
        network.forward(batch);
        let output = network.output().to_vec();
        let (value, _) = batch_loss(&mut network, Loss::MseCount, &RATES, &labels, true);
        network.zero_grads();
        network.backward();
        let grads: Vec<Vec<f32>> = network.params().iter().map(|p| p.grad.clone()).collect();
        results.push((value, output, grads));
    }
    let ((loss_a, out_a, grads_a), (loss_b, out_b, grads_b)) = (&results[0], &results[1]);
    assert!(
        out_a.iter().sum::<f32>() > 0.0,
        "the output must spike for the test to mean anything"
    );
    assert_eq!(out_a, out_b);
    assert!((loss_a - loss_b).abs() < 1e-6 * loss_a.abs());
    for (k, (a, b)) in grads_a.iter().zip(grads_b).enumerate() {
        let scale = a.iter().map(|x| x.abs()).fold(0.0, f32::max);
        assert!(scale > 0.0, "tensor {k} has no gradient");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-4 * scale,
                "{in_channels} -> {out_channels} channels, tensor {k}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn event_driven_dense_layer_equals_the_dense_product() {
    // Sparse inputs, spikes (0/1) or other values, in shapes whose units are
    // not a whole number of vectors and whose weights and output gradients
    // span several of the cache blocks the sums go through: the event-driven
    // path (a row of weights added per nonzero input, the weight gradient
    // gathered input by input), alone or as `Auto` chooses it, must give the
    // outputs and gradients of the matrix products, bit for bit whatever the
    // threads; and must see weights changed between batches.
    use cognitron_learn::gradient::layers::DensePath;
    // (inputs, units, rows)
    for (inputs, units, rows) in [(300, 37, 23), (517, 131, 300), (260, 5, 40)] {
        for binary in [true, false] {
            let mut r = rng(51);
            let mut dense = Dense::new(inputs, units, &mut r);
            // The weight gradient accumulates onto what is there.
            dense.weight.grad.iter_mut().for_each(|g| *g = r.gen_range(-1.0..1.0));
            let sparse_values = |r: &mut Xoshiro256PlusPlus, density: f64, len: usize| -> Vec<f32> {
                (0..len)
                    .map(|_| match (r.gen_bool(density), binary) {
                        (false, _) => 0.0,
                        (true, true) => 1.0,
                        (true, false) => r.gen_range(-2.0..2.0),
                    })
                    .collect()
            };
            let inputs_of_batches = [
                sparse_values(&mut r, 0.06, rows * inputs),
                sparse_values(&mut r, 0.15, rows * inputs),
            ];
            let grad_output: Vec<f32> = (0..rows * units).map(|_| r.gen_range(-1.0..1.0)).collect();
            // Two batches with a change of weights between them, as an
            // optimiser step makes.
            let run = |path: DensePath, threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let mut layer = dense.clone();
                    layer.path = path;
                    let mut results = Vec::new();
                    for input in &inputs_of_batches {
                        let mut output = vec![0.0; rows * units];
                        layer.forward(input, &mut output);
                        let mut grad_input = vec![0.0; input.len()];
                        layer.backward(input, &grad_output, Some(&mut grad_input));
                        results.push((output, grad_input, layer.weight.grad.clone(), layer.bias.grad.clone()));
                        layer.weight.value.iter_mut().for_each(|w| *w *= -1.5);
                    }
                    results
                })
            };
            let reference = run(DensePath::Dense, 1);
            let events = run(DensePath::EventDriven, 1);
            assert_eq!(events, run(DensePath::EventDriven, 3), "events depend on the threads");
            let auto = run(DensePath::Auto, 2);
            if units > 100 {
                // Sparse and wide enough for `Auto` to take the event-driven path.
                assert_eq!(events, auto, "Auto on sparse batches");
            }
            for (path, results) in [("EventDriven", &events), ("Auto", &auto)] {
                for (batch, (want, got)) in reference.iter().zip(results).enumerate() {
                    let close = |name: &str, a: &[f32], b: &[f32]| {
                        assert_eq!(a.len(), b.len());
                        assert!(a.iter().any(|&x| x != 0.0));
                        for (i, (x, y)) in a.iter().zip(b).enumerate() {
                            assert!(
                                (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
                                "{path}, {inputs}->{units} x {rows} rows, binary {binary}, batch {batch}: \
                                 {name}[{i}]: {x} vs {y}"
                            );
                        }
                    };
                    close("output", &want.0, &got.0);
                    close("grad_input", &want.1, &got.1);
                    close("grad_weight", &want.2, &got.2);
                    close("grad_bias", &want.3, &got.3);
                }
            }
        }
    }
    // A dense batch: `Auto` keeps to the products.
    let mut r = rng(52);
    let dense = Dense::new(200, 64, &mut r);
    let input: Vec<f32> = (0..30 * 200).map(|_| r.gen_range(-1.0..1.0)).collect();
    let grad_output: Vec<f32> = (0..30 * 64).map(|_| r.gen_range(-1.0..1.0)).collect();
    let run = |path: DensePath| {
        let mut layer = dense.clone();
        layer.path = path;
        let mut output = vec![0.0; 30 * 64];
        layer.forward(&input, &mut output);
        layer.backward(&input, &grad_output, None);
        (output, layer.weight.grad)
    };
    assert_eq!(run(DensePath::Auto), run(DensePath::Dense));
}
