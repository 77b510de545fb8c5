//! A wrapper for credentials that must never reach a log line.

use std::fmt;

/// A secret value (token, password, API key). `Debug` and `Display` print
/// `[redacted]`; the value is reachable only through [`Secret::expose`], so
/// every use of it is visible in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret itself; call it only where the value is handed to a client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, compared in constant time so the time
    /// taken does not tell how much of a guess was right.
    pub fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(given).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_secret() {
        let secret = Secret::new("s3cret");
        assert!(secret.matches(b"s3cret"));
        assert!(!secret.matches(b"s3cre") && !secret.matches(b"s3cret!") && !secret.matches(b"S3cret"));
    }

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("123456:ABC-token");
        assert!(!format!("{secret:?}").contains("ABC"));
        assert!(!format!("{secret}").contains("ABC"));
        assert_eq!(secret.expose(), "123456:ABC-token");
    }
}
