//! Prints the standard `mnist-10k` split as JSON: the indices into
//! data/mnist-10k's 10,000 images, training set first, each in the order
//! cognitron trains and tests in. Reference tools written in other languages
//! (bench/bindsnet_diehl_cook.py) read it instead of re-implementing the
//! Xoshiro256++ shuffle.
//!
//! `cargo run -p cognitron-data --example export_split > bench/reference/mnist10k_split.json`

use cognitron_data::datasets::{shuffled_indices, MNIST_10K_SEED, MNIST_10K_TRAIN};

const MNIST_10K_LEN: usize = 10_000;

fn json_list(indices: &[usize]) -> String {
    let items: Vec<String> = indices.iter().map(usize::to_string).collect();
    format!("[{}]", items.join(","))
}

fn main() {
    let order = shuffled_indices(MNIST_10K_LEN, MNIST_10K_SEED);
    let (train, test) = order.split_at(MNIST_10K_TRAIN);
    println!(
        "{{\"dataset\":\"mnist-10k\",\"seed\":{MNIST_10K_SEED},\"train\":{},\"test\":{}}}",
        json_list(train),
        json_list(test)
    );
}
