//! The model file: a fixed envelope around a serialized payload.
//!
//! ```text
//! offset  size  field
//!      0     8  magic            b"AMLISMF\0"
//!      8     2  format major     u16 little-endian (readers accept only their own major)
//!     10     2  format minor     u16 little-endian (readers accept every minor <= their own)
//!     12     1  encoding         0 = JSON, 1 = binary (CBOR; the same serde schema)
//!     13     1  reserved         0
//!     14     2  kind             u16 little-endian: what the payload holds (see `Kind`)
//!     16     8  payload length   u64 little-endian
//!     24     4  checksum         CRC-32 (IEEE) of bytes 0..24 followed by the payload
//!     28     …  payload
//! ```
//!
//! Reading checks every field before it trusts the payload: a wrong magic, a truncated file,
//! a checksum mismatch or a payload that does not deserialize is [`Error::ModelCorrupt`]; a
//! newer format is [`Error::ModelVersion`] naming the found and supported versions.
//!
//! ```
//! use amlis::service::persist::{decode, encode, Encoding};
//!
//! let bytes = encode(&vec![1.5f64, 2.5], 7, Encoding::Binary)?;
//! let (header, value): (_, Vec<f64>) = decode(&bytes)?;
//! assert_eq!((header.kind, value), (7, vec![1.5, 2.5]));
//! assert!(decode::<Vec<f64>>(&bytes[..bytes.len() - 1]).is_err());
//! # Ok::<(), amlis::Error>(())
//! ```

use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// The first eight bytes of every model file.
pub const MAGIC: [u8; 8] = *b"AMLISMF\0";
/// The format major version this library writes and reads.
pub const FORMAT_MAJOR: u16 = 1;
/// The newest format minor version this library writes and reads.
///
/// History: 1.0, the first; 1.1 adds models of the kinds that learn without a target (the
/// pipeline's `target` may be `null`) and the `variance_threshold` model. A 1.1 reader reads
/// 1.0 files unchanged; a 1.0 reader refuses 1.1 files with a version error (not "corrupt").
/// 1.2 adds the unsupervised families after k-means (decomposition, mixtures, density
/// clustering, outlier detection) and the `pca` preprocessing step. 1.3 adds two envelope
/// kinds beside the pipeline (kind 1): a bandit's whole learning state (kind 2,
/// `service::bandit::BANDIT_KIND`) and a greedy policy learned from logs (kind 3,
/// `models::rl::POLICY_KIND`); pipeline payloads are unchanged. 1.4 adds the voting
/// ensembles (`voting_classifier`, `voting_regressor`), whose fitted state holds whole member
/// pipelines.
pub const FORMAT_MINOR: u16 = 4;
/// Size of the envelope in bytes.
pub const HEADER_LEN: usize = 28;

/// How the payload is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Human-readable JSON.
    Json,
    /// Compact binary (CBOR) of the same schema; the default.
    #[default]
    Binary,
}

impl Encoding {
    fn code(self) -> u8 {
        match self {
            Encoding::Json => 0,
            Encoding::Binary => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(Encoding::Json),
            1 => Ok(Encoding::Binary),
            other => Err(Error::ModelCorrupt(format!(
                "unknown payload encoding {other} at byte 12 (expected 0 = JSON or 1 = binary)"
            ))),
        }
    }
}

/// The decoded envelope of a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Format major version.
    pub major: u16,
    /// Format minor version.
    pub minor: u16,
    /// Payload encoding.
    pub encoding: Encoding,
    /// What the payload holds.
    pub kind: u16,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// CRC-32 of the envelope's first 24 bytes and the payload.
    pub checksum: u32,
}

/// Serializes `value` into a complete model file image (envelope + payload).
pub fn encode<T: Serialize>(value: &T, kind: u16, encoding: Encoding) -> Result<Vec<u8>> {
    let payload = match encoding {
        Encoding::Json => serde_json::to_vec(value)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialize model: {e}")))?,
        Encoding::Binary => {
            let mut buf = Vec::new();
            ciborium::into_writer(value, &mut buf)
                .map_err(|e| Error::InvalidArgument(format!("cannot serialize model: {e}")))?;
            buf
        }
    };
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
    out.push(encoding.code());
    out.push(0);
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let checksum = crc(&out, &payload);
    out.extend_from_slice(&checksum.to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// CRC-32 of the envelope's first 24 bytes and the payload, so that a flipped bit anywhere
/// (kind and versions included) is caught.
fn crc(envelope: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(envelope);
    h.update(payload);
    h.finalize()
}

fn field<const N: usize>(bytes: &[u8], at: usize, name: &str) -> Result<[u8; N]> {
    bytes
        .get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| {
            Error::ModelCorrupt(format!(
                "truncated envelope: {} bytes, field `{name}` needs bytes {at}..{}",
                bytes.len(),
                at + N
            ))
        })
}

/// Reads and checks the envelope; returns it with the payload slice.
pub fn read_header(bytes: &[u8]) -> Result<(Header, &[u8])> {
    let magic: [u8; 8] = field(bytes, 0, "magic")?;
    if magic != MAGIC {
        return Err(Error::ModelCorrupt(
            "not an amlis model file (the first 8 bytes are not the amlis magic)".into(),
        ));
    }
    let major = u16::from_le_bytes(field(bytes, 8, "format major")?);
    let minor = u16::from_le_bytes(field(bytes, 10, "format minor")?);
    if major != FORMAT_MAJOR || minor > FORMAT_MINOR {
        return Err(Error::ModelVersion {
            found: format!("{major}.{minor}"),
            supported: format!("{FORMAT_MAJOR}.0 to {FORMAT_MAJOR}.{FORMAT_MINOR}"),
        });
    }
    let [enc, reserved] = field::<2>(bytes, 12, "encoding")?;
    let encoding = Encoding::from_code(enc)?;
    if reserved != 0 {
        return Err(Error::ModelCorrupt(format!(
            "reserved byte 13 is {reserved}, expected 0"
        )));
    }
    let kind = u16::from_le_bytes(field(bytes, 14, "kind")?);
    let payload_len = u64::from_le_bytes(field(bytes, 16, "payload length")?);
    let checksum = u32::from_le_bytes(field(bytes, 24, "checksum")?);
    let rest = bytes.get(HEADER_LEN..).unwrap_or(&[]);
    if payload_len != rest.len() as u64 {
        return Err(Error::ModelCorrupt(format!(
            "payload length is {} bytes but the envelope says {payload_len} (truncated or padded file)",
            rest.len()
        )));
    }
    let actual = crc(bytes.get(..24).unwrap_or(&[]), rest);
    if actual != checksum {
        return Err(Error::ModelCorrupt(format!(
            "checksum mismatch: envelope says {checksum:08x}, payload hashes to {actual:08x}"
        )));
    }
    let header = Header {
        major,
        minor,
        encoding,
        kind,
        payload_len,
        checksum,
    };
    Ok((header, rest))
}

/// Checks the envelope and deserializes the payload.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<(Header, T)> {
    let (header, payload) = read_header(bytes)?;
    let value = match header.encoding {
        Encoding::Json => serde_json::from_slice(payload)
            .map_err(|e| Error::ModelCorrupt(format!("JSON payload does not parse: {e}")))?,
        Encoding::Binary => ciborium::from_reader(payload)
            .map_err(|e| Error::ModelCorrupt(format!("binary payload does not parse: {e}")))?,
    };
    Ok((header, value))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed and
/// synced, then renamed over `path`. A crash leaves either the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_encodings() {
        let v = (String::from("x"), vec![1.0f64, f64::MAX, -0.0]);
        for enc in [Encoding::Json, Encoding::Binary] {
            let bytes = encode(&v, 3, enc).unwrap();
            let (h, back): (_, (String, Vec<f64>)) = decode(&bytes).unwrap();
            assert_eq!(h.encoding, enc);
            assert_eq!(back, v);
        }
    }

    #[test]
    fn every_truncation_and_flip_is_an_error() {
        let bytes = encode(&vec![1u32, 2, 3, 4, 5], 1, Encoding::Binary).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode::<Vec<u32>>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(
                    decode::<Vec<u32>>(&b).is_err(),
                    "flip at byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn newer_version_is_named() {
        let mut bytes = encode(&1u8, 1, Encoding::Json).unwrap();
        bytes[10] = 9;
        let e = decode::<u8>(&bytes).unwrap_err();
        assert!(matches!(e, Error::ModelVersion { .. }));
        assert!(e.to_string().contains("1.9"), "{e}");
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = std::env::temp_dir().join(format!("amlis-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("m.amlis");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(read_file(&p).unwrap(), b"two");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
