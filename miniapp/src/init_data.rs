//! `Telegram.WebApp.initData`: parsed once, trusted only after Telegram's hash
//! (and, when asked for, its Ed25519 signature) checked out.
//!
//! The algorithm is Telegram's, from
//! <https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app>:
//! the data-check-string is every received field except `hash`, sorted by key,
//! as `key=value` lines joined by `\n`, with the values percent-decoded. Note
//! that `signature` is one of those fields: Telegram's hash covers it (checked
//! against real init data in the tests), while the Ed25519 signature covers
//! everything except `hash` and `signature`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::settings::MiniAppAuthSettings;
use crate::signature::{SignatureKey, SignatureProblem, TelegramEnvironment};

/// How far ahead of our clock `auth_date` may be: clocks of Telegram's servers
/// and ours drift a little, but init data from the future is forged or broken.
const FUTURE_TOLERANCE_SECONDS: u64 = 60;

/// Real init data is well under 2 KB; anything much larger is not Telegram's,
/// and refusing it early bounds the work an anonymous request can cause.
const MAX_INIT_DATA_BYTES: usize = 16 * 1024;

/// Why init data was refused. Each variant has a stable [`code`](Self::code)
/// for API answers; messages never repeat what the client sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    /// Not a query string of `key=value` pairs, or a field that must have a
    /// given shape (`auth_date`, `user`) does not.
    #[error("init data is malformed: {0}")]
    Malformed(&'static str),
    /// A key appears twice, so which value was signed would be ambiguous.
    #[error("init data has a field more than once")]
    DuplicateField,
    /// There is no `hash` field (or it is empty).
    #[error("init data has no hash")]
    MissingHash,
    /// The `hash` field is not 64 hexadecimal digits.
    #[error("the init data hash is not 64 hexadecimal digits")]
    MalformedHash,
    /// The hash does not match: signed with another bot's token, or changed.
    #[error("the init data hash does not match this bot's token")]
    BadHash,
    /// There is no `auth_date` field.
    #[error("init data has no auth_date")]
    MissingAuthDate,
    /// `auth_date` is older than the allowed age.
    #[error("init data is {age_seconds} s old, more than the {max_age_seconds} s allowed")]
    Expired {
        /// How old the data is.
        age_seconds: u64,
        /// The most that is allowed.
        max_age_seconds: u64,
    },
    /// `auth_date` is further in the future than clock drift explains.
    #[error("init data is dated {ahead_seconds} s in the future")]
    FromTheFuture {
        /// How far ahead of our clock it is.
        ahead_seconds: u64,
    },
    /// A signature check was asked for, but there is no `signature` field.
    #[error("init data has no signature")]
    MissingSignature,
    /// The `signature` field is not 64 bytes of unpadded base64url.
    #[error("the init data signature is not 64 bytes of base64url")]
    MalformedSignature,
    /// The Ed25519 signature does not verify with Telegram's key for this bot.
    #[error("the init data signature does not verify with Telegram's key for this bot")]
    BadSignature,
    /// Authentic, but without a `user`, so there is nobody to log in.
    #[error("init data has no user")]
    MissingUser,
}

impl InitDataError {
    /// A short, stable identifier of the reason, for the JSON body of a 401.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::DuplicateField => "duplicate_field",
            Self::MissingHash => "missing_hash",
            Self::MalformedHash => "malformed_hash",
            Self::BadHash => "bad_hash",
            Self::MissingAuthDate => "missing_auth_date",
            Self::Expired { .. } => "expired",
            Self::FromTheFuture { .. } => "from_the_future",
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature => "malformed_signature",
            Self::BadSignature => "bad_signature",
            Self::MissingUser => "missing_user",
        }
    }
}

/// The bot token is not of the form `<numeric bot id>:<secret>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bot token is not of the form <bot id>:<secret>")]
pub struct InvalidBotToken;

/// The Telegram user who opened the Mini App (`WebAppUser`). Fields Telegram
/// adds later are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebAppUser {
    /// Telegram user id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name, when the user has one.
    pub last_name: Option<String>,
    /// Username, when the user has one.
    pub username: Option<String>,
    /// IETF language tag of the user's Telegram app.
    pub language_code: Option<String>,
    /// Telegram Premium; Telegram sends the field only when it is true.
    #[serde(default)]
    pub is_premium: bool,
    /// Profile photo URL (`.jpeg` or `.svg`), when there is one.
    pub photo_url: Option<String>,
    /// The user allowed the bot to message them; sent only when true.
    #[serde(default)]
    pub allows_write_to_pm: bool,
}

/// The kind of chat a Mini App was opened from (`chat_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatType {
    /// The private chat with the user who opened the link.
    Sender,
    /// Another private chat.
    Private,
    /// A group.
    Group,
    /// A supergroup.
    Supergroup,
    /// A channel.
    Channel,
    /// A kind Telegram added after this code was written.
    Other(String),
}

impl ChatType {
    fn parse(value: &str) -> Self {
        match value {
            "sender" => Self::Sender,
            "private" => Self::Private,
            "group" => Self::Group,
            "supergroup" => Self::Supergroup,
            "channel" => Self::Channel,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Init data whose hash (and signature, when required) checked out and which
/// is fresh; there is no other way to get one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitData {
    user: WebAppUser,
    auth_date: SystemTime,
    query_id: Option<String>,
    chat_type: Option<ChatType>,
    chat_instance: Option<String>,
    start_param: Option<String>,
}

impl InitData {
    /// Who opened the Mini App.
    pub fn user(&self) -> &WebAppUser {
        &self.user
    }

    /// When Telegram handed the data to the Mini App.
    pub fn auth_date(&self) -> SystemTime {
        self.auth_date
    }

    /// The session id for `answerWebAppQuery`, when opened from an inline button.
    pub fn query_id(&self) -> Option<&str> {
        self.query_id.as_deref()
    }

    /// The kind of chat it was opened from (direct links only).
    pub fn chat_type(&self) -> Option<&ChatType> {
        self.chat_type.as_ref()
    }

    /// Global identifier of the chat it was opened from (direct links only).
    pub fn chat_instance(&self) -> Option<&str> {
        self.chat_instance.as_deref()
    }

    /// The `startapp` / `startattach` parameter of the link that opened it.
    pub fn start_param(&self) -> Option<&str> {
        self.start_param.as_deref()
    }
}

/// Checks init data for one bot. Holds the key derived from the bot token,
/// never the token itself.
///
/// At least one proof is always checked: the `hash` (built with the bot token)
/// or Telegram's Ed25519 `signature` (built with the bot id only), or both.
#[derive(Clone)]
pub struct InitDataVerifier {
    /// HMAC-SHA256 of the bot token keyed with "WebAppData"; `None` for a
    /// third party, which has no token and relies on the signature.
    secret_key: Option<[u8; 32]>,
    bot_id: i64,
    max_age: Duration,
    signature_key: Option<SignatureKey>,
    /// With both proofs configured: `true` accepts either (a valid signature
    /// stands in for a hash that does not check out), `false` requires both.
    either_proof: bool,
}

impl InitDataVerifier {
    /// A verifier of the `hash` for the bot with `bot_token`, accepting data
    /// at most `max_age` old (and up to a minute ahead of our clock).
    pub fn new(bot_token: &str, max_age: Duration) -> Result<Self, InvalidBotToken> {
        let bot_id = bot_id(bot_token)?;
        let mut mac = hmac_sha256(b"WebAppData");
        mac.update(bot_token.as_bytes());
        Ok(Self {
            secret_key: Some(mac.finalize().into_bytes().into()),
            bot_id,
            max_age,
            signature_key: None,
            either_proof: false,
        })
    }

    /// A verifier for a service without the bot token ("third-party use"): it
    /// checks only Telegram's Ed25519 `signature`, made for bot `bot_id`, with
    /// `key`, and ignores the `hash`.
    pub fn third_party(bot_id: i64, key: SignatureKey, max_age: Duration) -> Self {
        Self { secret_key: None, bot_id, max_age, signature_key: Some(key), either_proof: false }
    }

    /// The verifier the settings describe: their `max_age`, and, when
    /// `accept_signature` is on, Telegram's production Ed25519 signature
    /// accepted as a proof of its own (init data whose hash does not check out
    /// still passes when Telegram signed it for this bot).
    pub fn from_settings(bot_token: &str, settings: &MiniAppAuthSettings) -> Result<Self, InvalidBotToken> {
        let verifier = Self::new(bot_token, settings.max_age())?;
        Ok(if settings.accept_signature() {
            verifier.or_signature(SignatureKey::telegram(TelegramEnvironment::Production))
        } else {
            verifier
        })
    }

    /// Also accepts Telegram's Ed25519 `signature`, checked with `key`, as
    /// proof when the `hash` does not check out.
    pub fn or_signature(mut self, key: SignatureKey) -> Self {
        self.signature_key = Some(key);
        self.either_proof = true;
        self
    }

    /// Also requires the Ed25519 `signature` Telegram adds for third parties,
    /// checked with `key`. It protects against a leaked bot token: whoever has
    /// the token can forge a `hash`, but not Telegram's signature.
    pub fn with_signature_check(mut self, key: SignatureKey) -> Self {
        self.signature_key = Some(key);
        self.either_proof = false;
        self
    }

    /// The bot's numeric id, the part of the token before the colon.
    pub fn bot_id(&self) -> i64 {
        self.bot_id
    }

    /// Checks raw `Telegram.WebApp.initData` against the current time.
    pub fn verify(&self, raw: &str) -> Result<InitData, InitDataError> {
        self.verify_at(raw, SystemTime::now())
    }

    /// Checks raw init data as if the time were `now`.
    pub fn verify_at(&self, raw: &str, now: SystemTime) -> Result<InitData, InitDataError> {
        let fields = parse_fields(raw)?;

        // Authenticity first: nothing in the fields is looked at before the
        // hash (or the signature) says they are Telegram's.
        let hash = self.secret_key.as_ref().map(|secret_key| check_hash(secret_key, &fields));
        let signature = |key: &SignatureKey| -> Result<(), InitDataError> {
            let signature = field(&fields, "signature").ok_or(InitDataError::MissingSignature)?;
            let message = signed_message(self.bot_id, &fields);
            key.verify(message.as_bytes(), signature).map_err(|problem| match problem {
                SignatureProblem::Malformed => InitDataError::MalformedSignature,
                SignatureProblem::Bad => InitDataError::BadSignature,
            })
        };
        match (hash, &self.signature_key) {
            // Either proof will do: a hash that fails is answered by the signature, or reported.
            (Some(Err(hash_problem)), Some(key)) if self.either_proof => {
                signature(key).map_err(|_| hash_problem)?;
            }
            (Some(Ok(())), Some(_)) if self.either_proof => {}
            (hash, key) => {
                hash.transpose()?;
                if let Some(key) = key {
                    signature(key)?;
                }
            }
        }

        let auth_date = field(&fields, "auth_date").ok_or(InitDataError::MissingAuthDate)?;
        let auth_date = parse_unix_seconds(auth_date)?;
        check_freshness(auth_date, now, self.max_age)?;

        let user = field(&fields, "user").ok_or(InitDataError::MissingUser)?;
        let user: WebAppUser = serde_json::from_str(user)
            .map_err(|_| InitDataError::Malformed("user is not a WebAppUser JSON object"))?;

        Ok(InitData {
            user,
            auth_date: UNIX_EPOCH + Duration::from_secs(auth_date),
            query_id: field(&fields, "query_id").map(str::to_owned),
            chat_type: field(&fields, "chat_type").map(ChatType::parse),
            chat_instance: field(&fields, "chat_instance").map(str::to_owned),
            start_param: field(&fields, "start_param").map(str::to_owned),
        })
    }
}

impl fmt::Debug for InitDataVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The derived key forges init data as well as the token does.
        f.debug_struct("InitDataVerifier")
            .field("secret_key", &self.secret_key.map(|_| "[redacted]"))
            .field("bot_id", &self.bot_id)
            .field("max_age", &self.max_age)
            .field("signature_key", &self.signature_key)
            .finish()
    }
}

/// Checks the `hash` field: HMAC-SHA256 of the data-check-string (every field
/// but `hash`, `signature` included) with the key derived from the token.
fn check_hash(secret_key: &[u8; 32], fields: &Fields) -> Result<(), InitDataError> {
    let hash = field(fields, "hash").filter(|hash| !hash.is_empty()).ok_or(InitDataError::MissingHash)?;
    let hash = decode_hash(hash)?;
    let mut mac = hmac_sha256(secret_key);
    mac.update(data_check_string(fields, &["hash"]).as_bytes());
    // Constant-time comparison, so response timing says nothing about how
    // much of a guessed hash was right.
    mac.verify_slice(&hash).map_err(|_| InitDataError::BadHash)
}

/// Builds init data as Telegram would for `fields` (in the given order, a
/// `hash` among them is dropped), signed with `bot_token`: for tests and fakes.
pub fn sign_init_data(fields: &[(&str, &str)], bot_token: &str) -> String {
    let fields: Vec<(String, String)> = fields
        .iter()
        .filter(|(key, _)| *key != "hash")
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut key = hmac_sha256(b"WebAppData");
    key.update(bot_token.as_bytes());
    let mut mac = hmac_sha256(&key.finalize().into_bytes());
    mac.update(data_check_string(&fields, &["hash"]).as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());

    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in &fields {
        query.append_pair(key, value);
    }
    query.append_pair("hash", &hash);
    query.finish()
}

/// The decoded `key=value` pairs in arrival order; keys are unique.
type Fields = Vec<(String, String)>;

fn parse_fields(raw: &str) -> Result<Fields, InitDataError> {
    if raw.is_empty() {
        return Err(InitDataError::Malformed("init data is empty"));
    }
    if raw.len() > MAX_INIT_DATA_BYTES {
        return Err(InitDataError::Malformed("init data is too long"));
    }
    let mut fields: Fields = Vec::new();
    for pair in raw.split('&') {
        // form_urlencoded skips empty pairs and reads `key` as `key=`; both
        // would let different strings pass for the same data, so refuse them.
        if !pair.contains('=') {
            return Err(InitDataError::Malformed("a pair has no `=`"));
        }
        let Some((key, value)) = form_urlencoded::parse(pair.as_bytes()).next() else {
            return Err(InitDataError::Malformed("a pair could not be decoded"));
        };
        if key.is_empty() {
            return Err(InitDataError::Malformed("a pair has an empty key"));
        }
        if fields.iter().any(|(seen, _)| *seen == key) {
            return Err(InitDataError::DuplicateField);
        }
        fields.push((key.into_owned(), value.into_owned()));
    }
    Ok(fields)
}

fn field<'a>(fields: &'a Fields, key: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Every field but `excluded`, sorted by key, as `key=value` lines.
fn data_check_string(fields: &Fields, excluded: &[&str]) -> String {
    let mut lines: Vec<&(String, String)> =
        fields.iter().filter(|(key, _)| !excluded.contains(&key.as_str())).collect();
    // Keys are unique, so sorting by key alone is a total order. (Sorting whole
    // `key=value` lines would differ only for keys that extend another key with
    // a character below `=`, which Telegram's keys never do.)
    lines.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    lines.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("\n")
}

/// What Telegram's Ed25519 signature covers: the bot id line, then every field
/// except `hash` and `signature`.
fn signed_message(bot_id: i64, fields: &Fields) -> String {
    format!("{bot_id}:WebAppData\n{}", data_check_string(fields, &["hash", "signature"]))
}

fn decode_hash(hash: &str) -> Result<[u8; 32], InitDataError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hash, &mut bytes).map_err(|_| InitDataError::MalformedHash)?;
    Ok(bytes)
}

fn parse_unix_seconds(value: &str) -> Result<u64, InitDataError> {
    // `u64::from_str` would also take a leading `+`; Telegram sends digits only.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InitDataError::Malformed("auth_date is not unix seconds"));
    }
    value.parse().map_err(|_| InitDataError::Malformed("auth_date is not unix seconds"))
}

fn check_freshness(auth_date: u64, now: SystemTime, max_age: Duration) -> Result<(), InitDataError> {
    let now = now.duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or(0);
    if auth_date > now {
        let ahead_seconds = auth_date - now;
        return if ahead_seconds > FUTURE_TOLERANCE_SECONDS {
            Err(InitDataError::FromTheFuture { ahead_seconds })
        } else {
            Ok(())
        };
    }
    let age_seconds = now - auth_date;
    if Duration::from_secs(age_seconds) > max_age {
        return Err(InitDataError::Expired { age_seconds, max_age_seconds: max_age.as_secs() });
    }
    Ok(())
}

fn bot_id(bot_token: &str) -> Result<i64, InvalidBotToken> {
    let (id, secret) = bot_token.split_once(':').ok_or(InvalidBotToken)?;
    if id.is_empty() || secret.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidBotToken);
    }
    id.parse().ok().filter(|id: &i64| *id > 0).ok_or(InvalidBotToken)
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC hashes long keys and pads short ones: every length is valid.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;

    const TOKEN: &str = "123456:unit-test-token-of-a-bot";
    const OTHER_TOKEN: &str = "123456:the-token-after-a-revoke";
    const AUTH_DATE: u64 = 1_700_000_000;
    const USER: &str = r#"{"id":279058397,"first_name":"Анна Мария","last_name":"Каренина","username":"anna","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/a.svg","added_to_attachment_menu":false}"#;
    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn at(unix_seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_seconds)
    }

    fn verifier() -> InitDataVerifier {
        InitDataVerifier::new(TOKEN, DAY).unwrap()
    }

    fn auth_date() -> String {
        AUTH_DATE.to_string()
    }

    /// Init data as a Mini App opened from a direct link in a private chat gets it.
    fn signed(token: &str) -> String {
        let auth_date = auth_date();
        sign_init_data(
            &[
                ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
                ("user", USER),
                ("chat_instance", "-431068947458840694"),
                ("chat_type", "private"),
                ("start_param", "ref_abc"),
                ("auth_date", &auth_date),
            ],
            token,
        )
    }

    fn verify(raw: &str) -> Result<InitData, InitDataError> {
        verifier().verify_at(raw, at(AUTH_DATE + 10))
    }

    #[test]
    fn accepts_what_telegram_signed_and_reads_every_field() {
        let data = verify(&signed(TOKEN)).unwrap();
        let user = data.user();
        assert_eq!(user.id, 279058397);
        assert_eq!(user.first_name, "Анна Мария");
        assert_eq!(user.last_name.as_deref(), Some("Каренина"));
        assert_eq!(user.username.as_deref(), Some("anna"));
        assert_eq!(user.language_code.as_deref(), Some("ru"));
        assert!(user.is_premium);
        assert!(user.allows_write_to_pm);
        assert_eq!(user.photo_url.as_deref(), Some("https://t.me/i/userpic/320/a.svg"));
        assert_eq!(data.auth_date(), at(AUTH_DATE));
        assert_eq!(data.query_id(), Some("AAHdF6IQAAAAAN0XohDhrOrc"));
        assert_eq!(data.chat_type(), Some(&ChatType::Private));
        assert_eq!(data.chat_instance(), Some("-431068947458840694"));
        assert_eq!(data.start_param(), Some("ref_abc"));
    }

    #[test]
    fn optional_user_fields_may_be_absent() {
        let auth_date = auth_date();
        let raw =
            sign_init_data(&[("user", r#"{"id":1,"first_name":"A"}"#), ("auth_date", &auth_date)], TOKEN);
        let data = verify(&raw).unwrap();
        assert_eq!(
            data.user(),
            &WebAppUser {
                id: 1,
                first_name: "A".into(),
                last_name: None,
                username: None,
                language_code: None,
                is_premium: false,
                photo_url: None,
                allows_write_to_pm: false,
            }
        );
        assert_eq!((data.query_id(), data.chat_type(), data.start_param()), (None, None, None));
    }

    #[test]
    fn refuses_a_changed_value() {
        let raw = signed(TOKEN).replace("ref_abc", "ref_xyz");
        assert_eq!(verify(&raw), Err(InitDataError::BadHash));
    }

    #[test]
    fn accepts_the_fields_in_any_order() {
        let raw = signed(TOKEN);
        let reversed: Vec<&str> = raw.split('&').rev().collect();
        assert_eq!(verify(&reversed.join("&")), verify(&raw));
        assert!(verify(&reversed.join("&")).is_ok());
    }

    #[test]
    fn refuses_an_added_field() {
        assert_eq!(verify(&format!("{}&is_admin=true", signed(TOKEN))), Err(InitDataError::BadHash));
    }

    #[test]
    fn refuses_a_removed_field() {
        let raw = signed(TOKEN);
        let without_query_id: Vec<&str> =
            raw.split('&').filter(|pair| !pair.starts_with("query_id=")).collect();
        assert_eq!(verify(&without_query_id.join("&")), Err(InitDataError::BadHash));
    }

    #[test]
    fn refuses_data_signed_with_another_token() {
        assert_eq!(verify(&signed(OTHER_TOKEN)), Err(InitDataError::BadHash));
    }

    #[test]
    fn refuses_data_older_than_max_age() {
        let raw = signed(TOKEN);
        let verifier = InitDataVerifier::new(TOKEN, Duration::from_secs(300)).unwrap();
        assert!(verifier.verify_at(&raw, at(AUTH_DATE + 300)).is_ok());
        assert_eq!(
            verifier.verify_at(&raw, at(AUTH_DATE + 301)),
            Err(InitDataError::Expired { age_seconds: 301, max_age_seconds: 300 })
        );
        // The current clock: this data is from 2023.
        assert!(matches!(verifier.verify(&raw), Err(InitDataError::Expired { .. })));
    }

    #[test]
    fn refuses_data_from_the_future_beyond_clock_drift() {
        let raw = signed(TOKEN);
        assert!(verifier().verify_at(&raw, at(AUTH_DATE - 60)).is_ok());
        assert_eq!(
            verifier().verify_at(&raw, at(AUTH_DATE - 61)),
            Err(InitDataError::FromTheFuture { ahead_seconds: 61 })
        );
    }

    #[test]
    fn refuses_a_field_given_twice() {
        let raw = signed(TOKEN);
        assert_eq!(
            verify(&format!("{raw}&query_id=AAHdF6IQAAAAAN0XohDhrOrc")),
            Err(InitDataError::DuplicateField)
        );
        assert_eq!(verify(&format!("auth_date={AUTH_DATE}&{raw}")), Err(InitDataError::DuplicateField));
        assert_eq!(verify(&format!("{raw}&hash=00")), Err(InitDataError::DuplicateField));
        // The same key spelled differently is still the same key once decoded.
        assert_eq!(verify(&format!("{raw}&%71uery_id=x")), Err(InitDataError::DuplicateField));
    }

    #[test]
    fn refuses_a_missing_or_malformed_hash() {
        let raw = signed(TOKEN);
        let (unhashed, hash) = raw.rsplit_once("&hash=").unwrap();
        assert_eq!(verify(unhashed), Err(InitDataError::MissingHash));
        assert_eq!(verify(&format!("{unhashed}&hash=")), Err(InitDataError::MissingHash));
        assert_eq!(verify(&format!("{unhashed}&hash={}", &hash[1..])), Err(InitDataError::MalformedHash));
        assert_eq!(verify(&format!("{unhashed}&hash={hash}00")), Err(InitDataError::MalformedHash));
        assert_eq!(verify(&format!("{unhashed}&hash=z{}", &hash[1..])), Err(InitDataError::MalformedHash));
        // Hex digits are case-insensitive: the same bytes still verify.
        assert!(verify(&format!("{unhashed}&hash={}", hash.to_uppercase())).is_ok());
    }

    #[test]
    fn decodes_plus_and_percent_twenty_alike() {
        let auth_date = auth_date();
        let raw = sign_init_data(
            &[
                ("user", r#"{"id":7,"first_name":"Анна Мария","last_name":"де ла Крус"}"#),
                ("auth_date", &auth_date),
            ],
            TOKEN,
        );
        // The form serializer writes spaces as `+`; browsers' encodeURIComponent
        // writes `%20`. Telegram signs the decoded text, so both must verify.
        assert!(raw.contains('+'), "{raw}");
        let percent = raw.replace('+', "%20");
        for raw in [&raw, &percent] {
            let user = verify(raw).unwrap().user().clone();
            assert_eq!(
                (user.first_name.as_str(), user.last_name.as_deref()),
                ("Анна Мария", Some("де ла Крус"))
            );
        }
        // A literal `+` in a value must arrive as %2B, or it reads as a space.
        assert_eq!(verify(&raw.replacen("%22id%22%3A7", "%22id%22%3A%2B7", 1)), Err(InitDataError::BadHash));
    }

    #[test]
    fn requires_auth_date_as_unix_seconds() {
        let no_date = sign_init_data(&[("user", USER)], TOKEN);
        assert_eq!(verify(&no_date), Err(InitDataError::MissingAuthDate));
        for bad in ["", "+1700000000", "-5", "1.7e9", "99999999999999999999999"] {
            let raw = sign_init_data(&[("user", USER), ("auth_date", bad)], TOKEN);
            assert_eq!(verify(&raw), Err(InitDataError::Malformed("auth_date is not unix seconds")), "{bad}");
        }
    }

    #[test]
    fn requires_a_user_that_is_a_web_app_user() {
        let auth_date = auth_date();
        let no_user = sign_init_data(&[("query_id", "q"), ("auth_date", &auth_date)], TOKEN);
        assert_eq!(verify(&no_user), Err(InitDataError::MissingUser));
        for bad in ["not json", r#"{"first_name":"no id"}"#, r#"{"id":"1","first_name":"A"}"#, "[]"] {
            let raw = sign_init_data(&[("user", bad), ("auth_date", &auth_date)], TOKEN);
            assert!(matches!(verify(&raw), Err(InitDataError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_query_string() {
        let raw = signed(TOKEN);
        assert_eq!(verify(""), Err(InitDataError::Malformed("init data is empty")));
        assert_eq!(verify(&format!("{raw}&flag")), Err(InitDataError::Malformed("a pair has no `=`")));
        assert_eq!(verify(&raw.replacen('&', "&&", 1)), Err(InitDataError::Malformed("a pair has no `=`")));
        assert_eq!(verify(&format!("{raw}&=1")), Err(InitDataError::Malformed("a pair has an empty key")));
        let huge = format!("{raw}&padding={}", "a".repeat(MAX_INIT_DATA_BYTES));
        assert_eq!(verify(&huge), Err(InitDataError::Malformed("init data is too long")));
    }

    #[test]
    fn the_data_check_string_is_sorted_key_value_lines() {
        let fields = parse_fields("user=%7B%7D&auth_date=1&query_id=q+r&hash=ab&signature=s").unwrap();
        assert_eq!(data_check_string(&fields, &["hash"]), "auth_date=1\nquery_id=q r\nsignature=s\nuser={}");
        assert_eq!(signed_message(42, &fields), "42:WebAppData\nauth_date=1\nquery_id=q r\nuser={}");
    }

    #[test]
    fn telegrams_hash_covers_the_signature_field() {
        // Real init data with both fields and its token, published in
        // Telegram-Mini-Apps/init-data-golang's README.md (commit f7a67907f5c0).
        let raw = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73";
        let verifier = InitDataVerifier::new("7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4", DAY).unwrap();
        let secret_key = verifier.secret_key.unwrap();
        let fields = parse_fields(raw).unwrap();
        let hash = decode_hash(field(&fields, "hash").unwrap()).unwrap();
        let matches = |excluded: &[&str]| {
            let mut mac = hmac_sha256(&secret_key);
            mac.update(data_check_string(&fields, excluded).as_bytes());
            mac.verify_slice(&hash).is_ok()
        };
        assert!(matches(&["hash"]));
        assert!(!matches(&["hash", "signature"]));
    }

    #[test]
    fn the_bot_id_is_the_numeric_prefix_of_the_token() {
        assert_eq!(verifier().bot_id(), 123456);
        for bad in ["", "123456", "123456:", ":secret", "abc:secret", "-5:secret", "0:secret", "+5:secret"] {
            assert_eq!(InitDataVerifier::new(bad, DAY).err(), Some(InvalidBotToken), "{bad}");
        }
    }

    #[test]
    fn the_verifier_never_prints_its_key() {
        let printed = format!("{:?}", verifier());
        assert!(printed.contains("[redacted]"), "{printed}");
        let mut mac = hmac_sha256(b"WebAppData");
        mac.update(TOKEN.as_bytes());
        let secret_key: [u8; 32] = mac.finalize().into_bytes().into();
        assert!(!printed.contains(&format!("{secret_key:?}")) && !printed.contains(&hex::encode(secret_key)));
        assert!(!printed.contains("unit-test-token"));
    }

    #[test]
    fn error_codes_are_distinct() {
        let errors = [
            InitDataError::Malformed("x"),
            InitDataError::DuplicateField,
            InitDataError::MissingHash,
            InitDataError::MalformedHash,
            InitDataError::BadHash,
            InitDataError::MissingAuthDate,
            InitDataError::Expired { age_seconds: 2, max_age_seconds: 1 },
            InitDataError::FromTheFuture { ahead_seconds: 61 },
            InitDataError::MissingSignature,
            InitDataError::MalformedSignature,
            InitDataError::BadSignature,
            InitDataError::MissingUser,
        ];
        let mut codes: Vec<&str> = errors.iter().map(InitDataError::code).collect();
        assert_eq!(
            codes[..5],
            ["malformed", "duplicate_field", "missing_hash", "malformed_hash", "bad_hash"]
        );
        assert_eq!(codes[6..8], ["expired", "from_the_future"]);
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }

    // Ed25519 signatures, with a keypair of our own standing in for Telegram's.

    const BOT_ID: i64 = 123456;

    fn keypair(seed: u8) -> (SigningKey, SignatureKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let public = SignatureKey::from_bytes(signing.verifying_key().as_bytes()).unwrap();
        (signing, public)
    }

    /// Init data as Telegram sends it since Bot API 8.0: signed for `bot_id`
    /// with `key`, then hashed with `token`, the hash covering the signature.
    fn signed_with_signature(key: &SigningKey, bot_id: i64, token: &str) -> String {
        let auth_date = auth_date();
        let mut fields = vec![("user", USER), ("chat_type", "sender"), ("auth_date", auth_date.as_str())];
        let owned: Fields = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let signature =
            URL_SAFE_NO_PAD.encode(key.sign(signed_message(bot_id, &owned).as_bytes()).to_bytes());
        fields.push(("signature", &signature));
        sign_init_data(&fields, token)
    }

    #[test]
    fn accepts_a_valid_signature_on_top_of_the_hash() {
        let (signing, public) = keypair(1);
        let raw = signed_with_signature(&signing, BOT_ID, TOKEN);
        let data = verifier().with_signature_check(public).verify_at(&raw, at(AUTH_DATE)).unwrap();
        assert_eq!(data.chat_type(), Some(&ChatType::Sender));
        // Without the check the signature is just another hashed field.
        assert!(verifier().verify_at(&raw, at(AUTH_DATE)).is_ok());
    }

    #[test]
    fn refuses_a_signature_by_another_key_or_for_another_bot() {
        let (signing, public) = keypair(1);
        let (other_signing, _) = keypair(2);
        let check = verifier().with_signature_check(public);
        for raw in [
            signed_with_signature(&other_signing, BOT_ID, TOKEN),
            signed_with_signature(&signing, BOT_ID + 1, TOKEN),
        ] {
            assert_eq!(check.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::BadSignature));
        }
        // Telegram's real key did not sign our test data.
        let raw = signed_with_signature(&signing, BOT_ID, TOKEN);
        let production =
            verifier().with_signature_check(SignatureKey::telegram(TelegramEnvironment::Production));
        assert_eq!(production.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::BadSignature));
    }

    #[test]
    fn refuses_a_tampered_signature() {
        let (signing, public) = keypair(1);
        let raw = signed_with_signature(&signing, BOT_ID, TOKEN);
        let fields = parse_fields(&raw).unwrap();
        let signature = field(&fields, "signature").unwrap();
        // Flip one bit of the signature, then hash again: only the signature
        // check can tell.
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(bytes);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), if k == "signature" { tampered.as_str() } else { v.as_str() }))
            .collect();
        let raw = sign_init_data(&pairs, TOKEN);
        let check = verifier().with_signature_check(public);
        assert_eq!(check.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::BadSignature));
    }

    #[test]
    fn a_required_signature_must_be_there_and_well_formed() {
        let (_, public) = keypair(1);
        let check = verifier().with_signature_check(public);
        assert_eq!(check.verify_at(&signed(TOKEN), at(AUTH_DATE)), Err(InitDataError::MissingSignature));
        let auth_date = auth_date();
        for bad in ["", "not base64!", "AAAA", &URL_SAFE_NO_PAD.encode([0u8; 65])] {
            let raw = sign_init_data(&[("user", USER), ("auth_date", &auth_date), ("signature", bad)], TOKEN);
            assert_eq!(check.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::MalformedSignature), "{bad}");
        }
    }

    #[test]
    fn with_either_proof_a_telegram_signature_stands_in_for_a_failed_hash() {
        let (signing, public) = keypair(1);
        let (other_signing, _) = keypair(2);
        let either = verifier().or_signature(public);
        // Hashed with another token but signed by Telegram for this bot: accepted.
        let raw = signed_with_signature(&signing, BOT_ID, OTHER_TOKEN);
        assert!(either.verify_at(&raw, at(AUTH_DATE)).is_ok());
        // Neither proof holds: the hash's problem is reported.
        let raw = signed_with_signature(&other_signing, BOT_ID, OTHER_TOKEN);
        assert_eq!(either.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::BadHash));
        // A good hash needs no signature at all.
        assert!(either.verify_at(&signed(TOKEN), at(AUTH_DATE)).is_ok());
        // Freshness still applies to data proven by the signature.
        let stale = at(AUTH_DATE + 2 * DAY.as_secs());
        let raw = signed_with_signature(&signing, BOT_ID, OTHER_TOKEN);
        assert!(matches!(either.verify_at(&raw, stale), Err(InitDataError::Expired { .. })));
    }

    #[test]
    fn the_hash_is_checked_before_the_signature() {
        let (signing, public) = keypair(1);
        let raw = signed_with_signature(&signing, BOT_ID, OTHER_TOKEN);
        let check = verifier().with_signature_check(public);
        assert_eq!(check.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::BadHash));
    }

    #[test]
    fn a_third_party_checks_the_signature_alone() {
        let (signing, public) = keypair(1);
        let raw = signed_with_signature(&signing, BOT_ID, OTHER_TOKEN);
        let third_party = InitDataVerifier::third_party(BOT_ID, public.clone(), DAY);
        assert!(third_party.verify_at(&raw, at(AUTH_DATE)).is_ok());
        assert_eq!(
            InitDataVerifier::third_party(BOT_ID + 1, public, DAY).verify_at(&raw, at(AUTH_DATE)),
            Err(InitDataError::BadSignature)
        );
        assert_eq!(
            third_party.verify_at(&signed(TOKEN), at(AUTH_DATE)),
            Err(InitDataError::MissingSignature)
        );
    }

    #[test]
    fn settings_decide_whether_a_telegram_signature_is_accepted_as_proof() {
        let settings =
            |accept_signature| MiniAppAuthSettings::new(DAY, accept_signature, [0u8; 32], DAY).unwrap();
        // A hash made with the token passes either way; the signature is not required.
        let raw = signed(TOKEN);
        for accept in [false, true] {
            let check = InitDataVerifier::from_settings(TOKEN, &settings(accept)).unwrap();
            assert!(check.verify_at(&raw, at(AUTH_DATE)).is_ok());
        }
        // A failed hash is not rescued by a signature Telegram's key did not make.
        let (signing, _) = keypair(1);
        let raw = signed_with_signature(&signing, BOT_ID, OTHER_TOKEN);
        let check = InitDataVerifier::from_settings(TOKEN, &settings(true)).unwrap();
        assert_eq!(check.verify_at(&raw, at(AUTH_DATE)), Err(InitDataError::BadHash));
    }
}
