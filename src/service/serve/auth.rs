//! Optional bearer-token authentication: the token is read from a file at start, and every
//! request (but the health probes) must carry `Authorization: Bearer TOKEN`.

use std::path::Path;

use super::error::ServeError;

/// The expected token.
#[derive(Clone)]
pub struct BearerToken {
    token: Vec<u8>,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// Reads the token from a file (surrounding whitespace trimmed); an empty token is an
    /// error.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file `{}`: {e}", path.display()))?;
        Self::new(text.trim())
    }

    /// A token from text; an empty token is an error.
    pub fn new(token: &str) -> Result<Self, String> {
        if token.is_empty() {
            return Err("the bearer token is empty".into());
        }
        Ok(Self {
            token: token.as_bytes().to_vec(),
        })
    }

    /// Checks an `Authorization` header value: 401 when missing or wrong.
    pub fn check(&self, header: Option<&[u8]>) -> Result<(), ServeError> {
        let given = header
            .and_then(|h| h.strip_prefix(b"Bearer "))
            .ok_or_else(|| {
                ServeError::new(401, "missing bearer token (Authorization: Bearer ...)")
            })?;
        if constant_time_eq(given, &self.token) {
            Ok(())
        } else {
            Err(ServeError::new(401, "invalid bearer token"))
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths, not on where they
/// differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    // Every byte of the longer one is visited, so a wrong length costs the same as a wrong
    // byte.
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        let t = BearerToken::new("abc").unwrap();
        assert!(t.check(Some(b"Bearer abc")).is_ok());
        assert_eq!(t.check(Some(b"Bearer abd")).unwrap_err().status, 401);
        assert_eq!(t.check(None).unwrap_err().status, 401);
        assert!(BearerToken::new("").is_err());
    }
}
