//! The IDX file format (LeCun et al.): a big-endian header, magic
//! `0x0000TTDD` (TT = element type, 0x08 for unsigned bytes; DD = number of
//! dimensions), one u32 per dimension, then the elements. Files may be
//! gzipped (detected from their first bytes, whatever their name).

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A dataset file that cannot be used: which file and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    pub path: PathBuf,
    pub reason: String,
}

impl DataError {
    pub fn new(path: &Path, reason: impl Into<String>) -> Self {
        DataError {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for DataError {}

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes of the dimensions, outermost first (images: n, rows, columns).
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UNSIGNED_BYTE: u8 = 0x08;
/// Refuse headers that declare more than this many elements (a corrupt size
/// field must not make us allocate terabytes).
const MAX_ELEMENTS: usize = 1 << 34;

/// Reads a whole IDX file of unsigned bytes, decompressing it if gzipped.
pub fn read(path: &Path) -> Result<IdxArray, DataError> {
    let raw = std::fs::read(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (the datasets live in the project's data/ folder; see data/README.md)"
        } else {
            ""
        };
        DataError::new(path, format!("cannot read the file: {e}{hint}"))
    })?;
    let bytes = if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::new(path, format!("corrupt or truncated gzip data: {e}")))?;
        out
    } else {
        raw
    };
    parse(path, &bytes)
}

/// Parses IDX bytes (already decompressed); `path` names them in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<IdxArray, DataError> {
    if bytes.len() < 4 {
        return Err(DataError::new(
            path,
            format!("{} bytes: too short for an IDX header", bytes.len()),
        ));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::new(
            path,
            format!("magic number {magic:#010x} is not IDX (expected 0x0000TTDD)"),
        ));
    }
    if bytes[2] != UNSIGNED_BYTE {
        return Err(DataError::new(
            path,
            format!(
                "element type {:#04x}: only unsigned bytes (0x08) are supported",
                bytes[2]
            ),
        ));
    }
    let dims = bytes[3] as usize;
    if dims == 0 {
        return Err(DataError::new(path, "the header declares zero dimensions"));
    }
    let header = 4 + 4 * dims;
    if bytes.len() < header {
        return Err(DataError::new(
            path,
            format!(
                "truncated header: {dims} dimensions need {header} bytes, the file has {}",
                bytes.len()
            ),
        ));
    }
    let shape: Vec<usize> = (0..dims)
        .map(|d| {
            let at = 4 + 4 * d;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .collect();
    let elements = shape
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| DataError::new(path, format!("implausible shape {shape:?} in the header")))?;
    let body = bytes.len() - header;
    if body != elements {
        let what = if body < elements { "truncated" } else { "too long" };
        return Err(DataError::new(
            path,
            format!("{what}: shape {shape:?} needs {elements} bytes of data, the file has {body}"),
        ));
    }
    Ok(IdxArray {
        shape,
        data: bytes[header..].to_vec(),
    })
}
