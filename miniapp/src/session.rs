//! Session tokens: after init data checked out once, the Mini App proves who
//! it is with a short-lived HS256 JWT instead of resending init data.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::settings::JwtSecret;

/// Clock difference tolerated on `exp`. Tokens are only verified by the
/// server that issued them, so a few seconds cover any drift.
const LEEWAY_SECONDS: u64 = 5;

/// Why a session token was refused, each with a stable [`code`](Self::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The token's lifetime is over.
    #[error("the session has expired")]
    Expired,
    /// The signature does not match: another secret, or a changed token.
    #[error("the session token's signature does not match")]
    BadSignature,
    /// Signed with another algorithm than HS256.
    #[error("the session token is not HS256")]
    WrongAlgorithm,
    /// Not a JWT, or its claims are not ours. An unsigned `alg: none` token
    /// lands here: the library does not even parse such a header.
    #[error("the session token is malformed")]
    Malformed,
    /// The token could not be signed (the library refused our claims).
    #[error("the session token could not be signed")]
    Signing,
}

impl SessionError {
    /// A short, stable identifier of the reason, for the JSON body of a 401.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::BadSignature => "bad_signature",
            Self::WrongAlgorithm => "wrong_algorithm",
            Self::Malformed => "malformed",
            Self::Signing => "signing",
        }
    }
}

/// What a session token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Our user id (`sub`; a string in the token, as RFC 7519 wants).
    #[serde(rename = "sub", with = "i64_as_string")]
    pub user_id: i64,
    /// The Telegram user id (`tg`).
    #[serde(rename = "tg")]
    pub telegram_id: i64,
    /// Issued at, unix seconds (`iat`).
    #[serde(rename = "iat")]
    pub issued_at: u64,
    /// Expires at, unix seconds (`exp`).
    #[serde(rename = "exp")]
    pub expires_at: u64,
}

/// Issues and checks session tokens with one secret and lifetime.
pub struct Sessions {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Sessions {
    /// Sessions signed with `secret` that last `ttl`.
    pub fn new(secret: &JwtSecret, ttl: Duration) -> Self {
        // Both only refuse an empty secret, which JwtSecret cannot be.
        let (Ok(encoding), Ok(decoding)) =
            (EncodingKey::from_secret(secret.expose()), DecodingKey::from_secret(secret.expose()))
        else {
            unreachable!("a JwtSecret has at least 32 bytes")
        };
        // Only HS256 is accepted, whatever the token's header claims: this is
        // what stops `alg: none` and algorithm-confusion tokens.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self { encoding, decoding, validation, ttl }
    }

    /// A token for `user_id` (Telegram user `telegram_id`), and its lifetime
    /// in seconds (the `expires_in` of an OAuth-style answer).
    pub fn issue(&self, user_id: i64, telegram_id: i64) -> Result<(String, u64), SessionError> {
        self.issue_at(user_id, telegram_id, SystemTime::now())
    }

    /// As [`issue`](Self::issue), as if the time were `now`.
    pub fn issue_at(
        &self,
        user_id: i64,
        telegram_id: i64,
        now: SystemTime,
    ) -> Result<(String, u64), SessionError> {
        let issued_at = now.duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or(0);
        let expires_in = self.ttl.as_secs();
        let claims =
            Claims { user_id, telegram_id, issued_at, expires_at: issued_at.saturating_add(expires_in) };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| SessionError::Signing)?;
        Ok((token, expires_in))
    }

    /// The claims of a token we signed and that has not expired (against the
    /// current time; the library offers no other clock).
    pub fn verify(&self, token: &str) -> Result<Claims, SessionError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => SessionError::Expired,
                ErrorKind::InvalidSignature => SessionError::BadSignature,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::UnsupportedAlgorithm => SessionError::WrongAlgorithm,
                _ => SessionError::Malformed,
            })
    }
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// `sub` is a string claim; our user ids are numbers.
mod i64_as_string {
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(|_| de::Error::custom("sub is not a user id"))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn secret(byte: u8) -> JwtSecret {
        JwtSecret::new(vec![byte; 32]).unwrap()
    }

    fn sessions() -> Sessions {
        Sessions::new(&secret(1), HOUR)
    }

    fn unix_now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    /// A token with these header and claims, signed with `secret(1)`.
    fn forge(header: &Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(&[1; 32]).unwrap()).unwrap()
    }

    #[test]
    fn a_token_verifies_back_to_its_claims() {
        let before = unix_now();
        let (token, expires_in) = sessions().issue(42, 279058397).unwrap();
        assert_eq!(expires_in, 3600);
        let claims = sessions().verify(&token).unwrap();
        assert_eq!((claims.user_id, claims.telegram_id), (42, 279058397));
        assert!(claims.issued_at >= before && claims.issued_at <= unix_now());
        assert_eq!(claims.expires_at, claims.issued_at + 3600);
    }

    #[test]
    fn the_token_carries_sub_as_a_string_and_tg() {
        let (token, _) = sessions().issue_at(42, 7, UNIX_EPOCH + Duration::from_secs(1_700_000_000)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"sub": "42", "tg": 7, "iat": 1_700_000_000, "exp": 1_700_003_600})
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let now = unix_now();
        let expired = UNIX_EPOCH + Duration::from_secs(now - 3600 - 60);
        let (token, _) = sessions().issue_at(42, 7, expired).unwrap();
        assert_eq!(sessions().verify(&token), Err(SessionError::Expired));
    }

    #[test]
    fn leeway_is_only_a_few_seconds() {
        let claims = |exp: u64| serde_json::json!({"sub": "42", "tg": 7, "iat": exp - 10, "exp": exp});
        let header = Header::new(Algorithm::HS256);
        let now = unix_now();
        assert!(sessions().verify(&forge(&header, &claims(now - 1))).is_ok());
        assert_eq!(sessions().verify(&forge(&header, &claims(now - 30))), Err(SessionError::Expired));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let (token, _) = sessions().issue(42, 7).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["sub"] = "1".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(sessions().verify(&parts.join(".")), Err(SessionError::BadSignature));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let (token, _) = Sessions::new(&secret(2), HOUR).issue(42, 7).unwrap();
        assert_eq!(sessions().verify(&token), Err(SessionError::BadSignature));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let exp = unix_now() + 600;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"42","tg":7,"iat":{exp},"exp":{exp}}}"#));
        for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
            assert!(sessions().verify(&token).is_err(), "{token}");
        }
        assert_eq!(sessions().verify(&format!("{header}.{claims}.")), Err(SessionError::Malformed));
    }

    #[test]
    fn other_algorithms_are_refused_even_with_our_secret() {
        let claims = serde_json::json!({"sub": "42", "tg": 7, "iat": 1, "exp": unix_now() + 600});
        for algorithm in [Algorithm::HS384, Algorithm::HS512] {
            let token = forge(&Header::new(algorithm), &claims);
            assert_eq!(sessions().verify(&token), Err(SessionError::WrongAlgorithm), "{algorithm:?}");
        }
    }

    #[test]
    fn claims_must_be_ours() {
        let exp = unix_now() + 600;
        let header = Header::new(Algorithm::HS256);
        for claims in [
            serde_json::json!({"tg": 7, "iat": 1, "exp": exp}),
            serde_json::json!({"sub": "42", "tg": 7, "iat": 1}),
            serde_json::json!({"sub": 42, "tg": 7, "iat": 1, "exp": exp}),
            serde_json::json!({"sub": "forty-two", "tg": 7, "iat": 1, "exp": exp}),
        ] {
            assert_eq!(sessions().verify(&forge(&header, &claims)), Err(SessionError::Malformed), "{claims}");
        }
        assert_eq!(sessions().verify("not a token"), Err(SessionError::Malformed));
    }

    #[test]
    fn sessions_never_print_the_secret() {
        let printed = format!("{:?}", sessions());
        assert_eq!(printed, "Sessions { ttl: 3600s, .. }");
    }
}
