//! Checkpoints: what a training run has learned so far (plastic weights,
//! adaptive thresholds, the responses that label the neurons, the curve),
//! in one file written to a temporary name and renamed into place, so that
//! an interruption leaves the previous checkpoint intact.
//!
//! Format: the magic `COGNITRON-CKPT1\n`, a little-endian u64 header length,
//! a JSON header (`Header`), then the weights as little-endian f32 and the
//! thresholds as little-endian f64.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8] = b"COGNITRON-CKPT1\n";

/// The shape a checkpoint belongs to, checked on load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub projection: String,
    pub synapses: usize,
    pub neurons: String,
    pub n_neurons: usize,
    pub n_inputs: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub shape: Shape,
    /// Training images presented so far (over all epochs).
    pub images_done: usize,
    /// Spike counts of each neuron per class over the current labelling
    /// window (`n_neurons * 10`), and the images of each class in it.
    pub responses: Vec<f64>,
    pub class_images: Vec<u64>,
    /// The same for the labelling responses gathered during training.
    #[serde(default)]
    pub label_responses: Vec<f64>,
    #[serde(default)]
    pub label_class_images: Vec<u64>,
    /// The previous window's assignments (for the running accuracy).
    pub assignments: Vec<Option<u8>>,
    /// Running accuracy over training: (images, percent).
    pub curve: Vec<(f64, f64)>,
    pub window_correct: usize,
    pub window_seen: usize,
    pub wall_s: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub header: Header,
    pub weights: Vec<f32>,
    pub theta: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CheckpointError {
    pub path: String,
    pub reason: String,
}

fn fail(path: &Path, reason: impl Into<String>) -> CheckpointError {
    CheckpointError {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

impl Checkpoint {
    /// Writes `path` atomically (temporary file in the same folder, synced,
    /// then renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let header = serde_json::to_vec(&self.header).map_err(|e| fail(path, e.to_string()))?;
        let mut bytes =
            Vec::with_capacity(MAGIC.len() + 8 + header.len() + self.weights.len() * 4 + self.theta.len() * 8);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&header);
        for w in &self.weights {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        for t in &self.theta {
            bytes.extend_from_slice(&t.to_le_bytes());
        }
        write_atomic(path, &bytes)
    }

    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|e| fail(path, format!("cannot read: {e}")))?;
        if !bytes.starts_with(MAGIC) {
            return Err(fail(path, "not a cognitron checkpoint (bad magic)"));
        }
        let rest = &bytes[MAGIC.len()..];
        if rest.len() < 8 {
            return Err(fail(path, "truncated before the header length"));
        }
        let header_len = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes")) as usize;
        let rest = &rest[8..];
        if rest.len() < header_len {
            return Err(fail(
                path,
                format!("truncated header ({} of {header_len} bytes)", rest.len()),
            ));
        }
        let header: Header =
            serde_json::from_slice(&rest[..header_len]).map_err(|e| fail(path, format!("bad header: {e}")))?;
        let body = &rest[header_len..];
        let (n_w, n_t) = (header.shape.synapses, header.shape.n_neurons);
        let expected = n_w * 4 + n_t * 8;
        if body.len() != expected {
            return Err(fail(
                path,
                format!(
                    "{} bytes of weights and thresholds, expected {expected} for {n_w} synapses and {n_t} neurons (truncated or corrupt)",
                    body.len()
                ),
            ));
        }
        let weights: Vec<f32> = body[..n_w * 4]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        let theta: Vec<f64> = body[n_w * 4..]
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(fail(path, format!("weight {i} is {} (corrupt)", weights[i])));
        }
        Ok(Checkpoint { header, weights, theta })
    }

    /// Refuses a checkpoint of another network.
    pub fn check_shape(&self, path: &Path, shape: &Shape) -> Result<(), CheckpointError> {
        let have = &self.header.shape;
        if have != shape {
            return Err(fail(
                path,
                format!(
                    "checkpoint of another network: `{}` with {} synapses onto `{}` ({} neurons, {} inputs), but this experiment has `{}` with {} synapses onto `{}` ({} neurons, {} inputs)",
                    have.projection,
                    have.synapses,
                    have.neurons,
                    have.n_neurons,
                    have.n_inputs,
                    shape.projection,
                    shape.synapses,
                    shape.neurons,
                    shape.n_neurons,
                    shape.n_inputs
                ),
            ));
        }
        Ok(())
    }
}

/// Writes `bytes` to a temporary file in the same folder, syncs it, and
/// renames it over `path`: an interruption leaves the old file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("checkpoint");
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| fail(path, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            header: Header {
                shape: Shape {
                    projection: "input_exc".into(),
                    synapses: 6,
                    neurons: "exc".into(),
                    n_neurons: 2,
                    n_inputs: 3,
                },
                images_done: 7,
                responses: vec![1.0; 20],
                class_images: vec![1; 10],
                label_responses: Vec::new(),
                label_class_images: Vec::new(),
                assignments: vec![Some(3), None],
                curve: vec![(5.0, 40.0)],
                window_correct: 1,
                window_seen: 2,
                wall_s: 0.5,
            },
            weights: vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            theta: vec![0.05, 0.1],
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let dir = std::env::temp_dir().join(format!("cognitron-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.ckpt");
        let c = sample();
        c.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), c);
        // Truncated.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = Checkpoint::load(&path).unwrap_err().to_string();
        assert!(e.contains("c.ckpt") && e.contains("truncated"), "{e}");
        // Another shape.
        let mut other = c.header.shape.clone();
        other.n_neurons = 400;
        let e = c.check_shape(&path, &other).unwrap_err().to_string();
        assert!(e.contains("another network") && e.contains("400 neurons"), "{e}");
        // Not a checkpoint.
        std::fs::write(&path, b"hello").unwrap();
        assert!(Checkpoint::load(&path).unwrap_err().to_string().contains("magic"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
