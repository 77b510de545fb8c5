//! What the Mini App's authentication is configured with. Nothing here reads
//! the environment: the settings loader does that, in one place, and builds
//! these values.

use std::fmt;
use std::time::Duration;

/// The shortest session signing secret accepted: HS256 is only as strong as
/// its key, and 32 bytes match the SHA-256 output size (RFC 7518, 3.2).
const MIN_JWT_SECRET_BYTES: usize = 32;

/// A settings value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The session signing secret is shorter than 32 bytes.
    #[error("the session signing secret has {0} bytes; it needs at least 32")]
    JwtSecretTooShort(usize),
    /// `max_age` is zero, so no init data would ever be fresh.
    #[error("the init data max age must be positive")]
    ZeroMaxAge,
    /// `session_ttl` is zero, so every session would be born expired.
    #[error("the session lifetime must be positive")]
    ZeroSessionTtl,
}

/// The key session tokens are signed with: at least 32 bytes, and never
/// printed (`Debug` says `[redacted]`).
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// Wraps a secret of at least 32 bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, SettingsError> {
        let secret = secret.into();
        if secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(SettingsError::JwtSecretTooShort(secret.len()));
        }
        Ok(Self(secret))
    }

    /// The secret itself, for the signing library only.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret([redacted])")
    }
}

/// Settings of the Mini App's authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiniAppAuthSettings {
    max_age: Duration,
    accept_signature: bool,
    jwt_secret: JwtSecret,
    session_ttl: Duration,
}

impl MiniAppAuthSettings {
    /// Checks and bundles the settings: init data older than `max_age` is
    /// refused; with `accept_signature`, Telegram's Ed25519 signature is
    /// accepted as proof where the hash does not check out; sessions are signed with `jwt_secret` (at
    /// least 32 bytes) and last `session_ttl`.
    pub fn new(
        max_age: Duration,
        accept_signature: bool,
        jwt_secret: impl Into<Vec<u8>>,
        session_ttl: Duration,
    ) -> Result<Self, SettingsError> {
        if max_age.is_zero() {
            return Err(SettingsError::ZeroMaxAge);
        }
        if session_ttl.is_zero() {
            return Err(SettingsError::ZeroSessionTtl);
        }
        Ok(Self { max_age, accept_signature, jwt_secret: JwtSecret::new(jwt_secret)?, session_ttl })
    }

    /// How old init data may be.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Whether Telegram's Ed25519 `signature` is accepted as a proof of its own.
    pub fn accept_signature(&self) -> bool {
        self.accept_signature
    }

    /// The session signing secret.
    pub fn jwt_secret(&self) -> &JwtSecret {
        &self.jwt_secret
    }

    /// How long a session token lasts.
    pub fn session_ttl(&self) -> Duration {
        self.session_ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn refuses_a_jwt_secret_shorter_than_32_bytes() {
        assert_eq!(
            MiniAppAuthSettings::new(HOUR, false, vec![7u8; 31], HOUR),
            Err(SettingsError::JwtSecretTooShort(31))
        );
        assert!(MiniAppAuthSettings::new(HOUR, false, vec![7u8; 32], HOUR).is_ok());
        assert_eq!(JwtSecret::new(""), Err(SettingsError::JwtSecretTooShort(0)));
    }

    #[test]
    fn refuses_zero_durations() {
        let secret = vec![7u8; 32];
        assert_eq!(
            MiniAppAuthSettings::new(Duration::ZERO, false, secret.clone(), HOUR),
            Err(SettingsError::ZeroMaxAge)
        );
        assert_eq!(
            MiniAppAuthSettings::new(HOUR, false, secret, Duration::ZERO),
            Err(SettingsError::ZeroSessionTtl)
        );
    }

    #[test]
    fn the_secret_never_prints() {
        let settings =
            MiniAppAuthSettings::new(HOUR, true, "correct horse battery staple, 32+ bytes", HOUR).unwrap();
        let printed = format!("{settings:?}");
        assert!(printed.contains("JwtSecret([redacted])"), "{printed}");
        assert!(!printed.contains("horse"), "{printed}");
    }
}

/// The Mini App as configured: where it is served (for the bot's menu
/// button) and how its users sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiniAppSettings {
    /// The page's public HTTPS address; `None` serves the API without a menu button.
    pub url: Option<url::Url>,
    /// Init data checks and session tokens.
    pub auth: MiniAppAuthSettings,
    /// The largest recording the page may upload (`MINIAPP_MAX_UPLOAD_MB`).
    pub max_upload_bytes: u64,
}
