//! Datasets and encoders (IDX/MNIST, Poisson/latency codes) — filled in by the plasticity and learning issues.
