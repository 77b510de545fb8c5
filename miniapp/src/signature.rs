//! Telegram's Ed25519 `signature` over init data, which anyone who knows the
//! bot's id can check without the bot token ("validating data for third-party
//! use", <https://core.telegram.org/bots/webapps#validating-data-for-third-party-use>).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};

/// Telegram's key for init data of the production environment, as published
/// in the Mini Apps documentation.
const PRODUCTION_KEY: [u8; 32] = hex_key("e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d");
/// Telegram's key for init data of the test environment (test.telegram.org bots).
const TEST_KEY: [u8; 32] = hex_key("40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec");

/// The Telegram environment a bot lives in; each signs with its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TelegramEnvironment {
    /// The Telegram everyone uses.
    #[default]
    Production,
    /// Telegram's separate test servers, with their own bots and users.
    Test,
}

/// A public key that init data signatures are checked against.
///
/// Only one environment's key is trusted at a time: user and bot ids of the test
/// environment are a separate numbering, so data signed there for "bot 42, user 7"
/// must not log in production user 7.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureKey([u8; 32]);

impl SignatureKey {
    /// Telegram's published key for `environment`.
    pub fn telegram(environment: TelegramEnvironment) -> Self {
        // Both constants are valid public keys; a test checks it.
        Self(match environment {
            TelegramEnvironment::Production => PRODUCTION_KEY,
            TelegramEnvironment::Test => TEST_KEY,
        })
    }

    /// Any other key, such as a test keypair's; `None` when the bytes are not a
    /// valid Ed25519 public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        VerifyingKey::from_bytes(bytes).ok().map(|_| Self(*bytes))
    }

    /// Whether `signature` (unpadded base64url, as Telegram sends it) signs
    /// `message` with this key.
    pub(crate) fn verify(&self, message: &[u8], signature: &str) -> Result<(), SignatureProblem> {
        let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|_| SignatureProblem::Malformed)?;
        let bytes: [u8; 64] = bytes.try_into().map_err(|_| SignatureProblem::Malformed)?;
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureProblem::Bad)?;
        // Strict verification refuses malleable signatures and weak keys, which
        // Telegram's real signatures never are.
        key.verify_strict(message, &Signature::from_bytes(&bytes)).map_err(|_| SignatureProblem::Bad)
    }
}

impl fmt::Debug for SignatureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureKey({})", hex::encode(self.0))
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureProblem {
    Malformed,
    Bad,
}

/// Decodes 64 hex digits at compile time, so a typo in a key fails the build.
const fn hex_key(hex: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 64, "a key is 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegrams_keys_are_valid_points_and_differ() {
        assert!(SignatureKey::from_bytes(&PRODUCTION_KEY).is_some());
        assert!(SignatureKey::from_bytes(&TEST_KEY).is_some());
        assert_ne!(
            SignatureKey::telegram(TelegramEnvironment::Production),
            SignatureKey::telegram(TelegramEnvironment::Test)
        );
        assert_eq!(
            format!("{:?}", SignatureKey::telegram(TelegramEnvironment::Production)),
            "SignatureKey(e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d)"
        );
    }
}
