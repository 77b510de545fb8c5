//! Init data published in the tests and documentation of well-known open-source
//! validators, with the results those projects expect. Only the data is taken
//! from them; each vector names its repository, file and the commit it was read
//! at. Where their expected error differs from ours only in name, a comment
//! says so.
//!
//! The vectors are old, so each is checked at a clock just after its
//! `auth_date` through `verify_at`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use miniapp::{InitDataError, InitDataVerifier, SignatureKey, TelegramEnvironment};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn at(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

fn by_hash(token: &str) -> InitDataVerifier {
    InitDataVerifier::new(token, DAY).unwrap()
}

fn production_key() -> SignatureKey {
    SignatureKey::telegram(TelegramEnvironment::Production)
}

// Telegram-Mini-Apps/init-data-golang, README.md (commit
// f7a67907f5c0b6b50d4032ca1e4e47f032e40645): init data a real Telegram client
// produced for bot 7342037359 after Bot API 8.0, with both `hash` and
// `signature`, and the token it was hashed with. The README validates it with
// the token. Its hash only matches when `signature` is part of the
// data-check-string, which settles that question; its signature verifies with
// Telegram's production key.
const GOLANG_README: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73";
const GOLANG_README_TOKEN: &str = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4";

#[test]
fn golang_readme_real_init_data_passes_the_hash_and_telegrams_signature() {
    let now = at(1733509682 + 1);
    let verifier = by_hash(GOLANG_README_TOKEN);
    assert_eq!(verifier.bot_id(), 7342037359);
    let data = verifier.clone().with_signature_check(production_key()).verify_at(GOLANG_README, now).unwrap();
    let user = data.user();
    assert_eq!(user.id, 279058397);
    // `%20%2B%20` is " + ": a `+` that was meant, and spaces sent as %20.
    assert_eq!(user.first_name, "Vladislav + - ? /");
    assert_eq!(user.last_name.as_deref(), Some("Kibenko"));
    assert!(user.is_premium && user.allows_write_to_pm);
    assert_eq!(
        user.photo_url.as_deref(),
        Some("https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg")
    );
    assert_eq!(data.chat_instance(), Some("8134722200314281151"));

    // The signature is bound to the bot id and to Telegram's production key.
    let other_bot = InitDataVerifier::third_party(7342037360, production_key(), DAY);
    assert_eq!(other_bot.verify_at(GOLANG_README, now), Err(InitDataError::BadSignature));
    let test_env = verifier.with_signature_check(SignatureKey::telegram(TelegramEnvironment::Test));
    assert_eq!(test_env.verify_at(GOLANG_README, now), Err(InitDataError::BadSignature));
}

#[test]
fn golang_readme_init_data_is_refused_once_a_field_changes() {
    let now = at(1733509682 + 1);
    let changed = GOLANG_README.replace("chat_type=private", "chat_type=group");
    assert_eq!(by_hash(GOLANG_README_TOKEN).verify_at(&changed, now), Err(InitDataError::BadHash));
    let third_party = InitDataVerifier::third_party(7342037359, production_key(), DAY);
    assert_eq!(third_party.verify_at(&changed, now), Err(InitDataError::BadSignature));
}

// Telegram-Mini-Apps/init-data-golang, validate_third_party_test.go (commit
// f7a67907f5c0b6b50d4032ca1e4e47f032e40645): another real launch of bot
// 7342037359, expected valid by signature alone; its token is not published.
// The test's "init data + a" case expects ErrSignInvalid.
const GOLANG_THIRD_PARTY: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";

#[test]
fn golang_third_party_vector_verifies_with_telegrams_production_key() {
    let now = at(1733584787 + 1);
    let verifier = InitDataVerifier::third_party(7342037359, production_key(), DAY);
    assert_eq!(verifier.verify_at(GOLANG_THIRD_PARTY, now).unwrap().user().id, 279058397);
    // Their ErrSignInvalid: one more character makes the signature 65 bytes'
    // worth of text, which we call malformed before trying it.
    assert_eq!(
        verifier.verify_at(&format!("{GOLANG_THIRD_PARTY}a"), now),
        Err(InitDataError::MalformedSignature)
    );
    // Their ErrExpired with a one-second lifetime, against today's clock.
    let strict = InitDataVerifier::third_party(7342037359, production_key(), Duration::from_secs(1));
    assert!(matches!(strict.verify(GOLANG_THIRD_PARTY), Err(InitDataError::Expired { .. })));
    // The README's token is not the one this launch was hashed with.
    assert_eq!(by_hash(GOLANG_README_TOKEN).verify_at(GOLANG_THIRD_PARTY, now), Err(InitDataError::BadHash));
}

// Telegram-Mini-Apps/init-data-golang, validate_test.go (commit
// f7a67907f5c0b6b50d4032ca1e4e47f032e40645); the same vector opens
// Telegram-Mini-Apps/telegram-apps' init-data-node documentation. Valid;
// "init data + abc" is expected to fail with ErrSignInvalid.
const GOLANG_VALIDATE: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";
const TMA_TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";

#[test]
fn golang_validate_vector() {
    let now = at(1662771648 + 1);
    let data = by_hash(TMA_TOKEN).verify_at(GOLANG_VALIDATE, now).unwrap();
    assert_eq!((data.user().id, data.user().username.as_deref()), (279058397, Some("vdkfrost")));
    assert_eq!(data.query_id(), Some("AAHdF6IQAAAAAN0XohDhrOrc"));
    // Their ErrSignInvalid: 67 characters are not a hash at all for us.
    let appended = format!("{GOLANG_VALIDATE}abc");
    assert_eq!(by_hash(TMA_TOKEN).verify_at(&appended, now), Err(InitDataError::MalformedHash));
    // Their "here comes something wrong;" and "no_hash=true" cases.
    assert!(matches!(
        by_hash(TMA_TOKEN).verify_at("here comes something wrong;", now),
        Err(InitDataError::Malformed(_))
    ));
    assert_eq!(by_hash(TMA_TOKEN).verify_at("no_hash=true", now), Err(InitDataError::MissingHash));
}

// Telegram-Mini-Apps/telegram-apps, packages/init-data-node/src/entries/node.test.ts
// (commit 1c586e6be5ec3e283fd5af4c953cadd6e34f0c1b): valid with the token,
// "Signature is invalid" with the token plus "A". Dated auth_date=1, and it
// carries chat, receiver and can_send_after, which only the hash covers here.
const TMA_NODE: &str = "auth_date=1&can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%7D&chat_instance=888&chat_type=sender&hash=47cfa22e72b887cba90c9cb833c5ea0f599975b6ce7193741844b5c4a4228b40&query_id=QUERY&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param=debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username%22%7D";

#[test]
fn tma_node_vector() {
    let now = at(2);
    let data = by_hash(TMA_TOKEN).verify_at(TMA_NODE, now).unwrap();
    assert_eq!(data.user().id, 222);
    assert_eq!(data.user().photo_url.as_deref(), Some("user-photo"));
    assert_eq!(data.start_param(), Some("debug"));
    assert_eq!(data.chat_type(), Some(&miniapp::ChatType::Sender));
    let wrong = by_hash(&format!("{TMA_TOKEN}A"));
    assert_eq!(wrong.verify_at(TMA_NODE, now), Err(InitDataError::BadHash));
    // Their "expiresIn: 1" case: expired a second later.
    let strict = InitDataVerifier::new(TMA_TOKEN, Duration::from_secs(1)).unwrap();
    assert_eq!(
        strict.verify_at(TMA_NODE, at(3)),
        Err(InitDataError::Expired { age_seconds: 2, max_age_seconds: 1 })
    );
}

// nimaxin/init-data-py, tests/vectors.py (commit
// a7da307b2a134fa0629c6c79bb6633960486a320): "Real init data captured from
// Telegram, with the tokens that signed it", all valid.
struct Captured {
    raw: &'static str,
    token: &'static str,
    auth_date: u64,
}

const INIT_DATA_PY: [Captured; 3] = [
    // PLAIN
    Captured {
        raw: "query_id=AAF03wc0AgAAAHTfBzROOCVW&user=%7B%22id%22%3A5167898484%2C%22first_name%22%3A%22xin%22%2C%22last_name%22%3A%22%22%2C%22username%22%3A%22pvnimaxin%22%2C%22language_code%22%3A%22en%22%2C%22allows_write_to_pm%22%3Atrue%7D&auth_date=1722938610&hash=8654c8c617c143abf656f4f159be2539880a56f58c2d9be622f90c0346aa162b",
        token: "7244657541:AAEgqk0HDC3WD5cdbnGMdd6L0TJ74FDp97Y",
        auth_date: 1722938610,
    },
    // UTF8: Cyrillic names, which must reach the data-check-string as UTF-8.
    Captured {
        raw: "query_id=AAF2GVE4AwAAAHYZUTgHczdc&user=%7B%22id%22%3A7387289974%2C%22first_name%22%3A%22%D0%90%D1%80%D1%82%D1%91%D0%BC%22%2C%22last_name%22%3A%22%D0%9E%D0%BD%D1%83%D1%84%D1%80%D0%B8%D0%B9%22%2C%22username%22%3A%22typexin%22%2C%22language_code%22%3A%22en%22%2C%22allows_write_to_pm%22%3Atrue%7D&auth_date=1724048856&hash=53b22bc70a748dae613a5aa91890b387b9cc0356c5dcffca173816b6e40a17e5",
        token: "7244657541:AAHAJP25XehV6N02kiLLAEi2el-xLsSw29w",
        auth_date: 1724048856,
    },
    // ESCAPED_SLASH: Telegram hashed `\/` as sent, so the value must not be
    // re-serialized before hashing.
    Captured {
        raw: "query_id=AAF03wc0AgAAAHTfBzTtHPDB&user=%7B%22id%22%3A5167898484%2C%22first_name%22%3A%22xin%22%2C%22last_name%22%3A%22%22%2C%22username%22%3A%22pvnimaxin%22%2C%22language_code%22%3A%22en%22%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2FYpcdHFmoxukmQ537mOZhe-Woot_k2xrmbdAIrGK1zFgIVth6Wzacz7P2nGNCcp9j.svg%22%7D&auth_date=1731441609&hash=f4bac82fe8f20abdc03126af489751752e830227b58241ec2f9dd67913909ee0",
        token: "7244657541:AAFMjYH4kc3U9zG0GWnxYfW-QKICVzDwvEw",
        auth_date: 1731441609,
    },
];

#[test]
fn init_data_py_captured_vectors() {
    let users: Vec<_> = INIT_DATA_PY
        .iter()
        .map(|v| by_hash(v.token).verify_at(v.raw, at(v.auth_date + 1)).unwrap().user().clone())
        .collect();
    assert_eq!((users[0].id, users[0].last_name.as_deref()), (5167898484, Some("")));
    assert_eq!((users[1].first_name.as_str(), users[1].last_name.as_deref()), ("Артём", Some("Онуфрий")));
    assert!(users[2].photo_url.as_deref().unwrap().starts_with("https://t.me/i/userpic/320/"));
    // Each token was reissued in between: one capture's token rejects another.
    let mismatched =
        by_hash(INIT_DATA_PY[0].token).verify_at(INIT_DATA_PY[1].raw, at(INIT_DATA_PY[1].auth_date));
    assert_eq!(mismatched, Err(InitDataError::BadHash));
}

// aiogram/aiogram, tests/test_utils/test_web_app.py (commit
// 1b7b594310e61f11e06069e90e96117ff0dd34d7): check_webapp_signature("42:TEST", ..).
const AIOGRAM_VALID: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803";
// Spaces written as `+`; its `user` has a string `id` and `"true"` strings.
const AIOGRAM_PLUS: &str = "auth_date=1650385342&user=%7B%22id%22%3A+%22123456789%22%2C+%22first_name%22%3A+%22PlaceholderFirstName%22%2C+%22last_name%22%3A+%22PlaceholderLastName+%5Cud83c%5Cuddfa%5Cud83c%5Cudde6%22%2C+%22username%22%3A+%22Latand%22%2C+%22language_code%22%3A+%22en%22%2C+%22is_premium%22%3A+%22true%22%2C+%22allows_write_to_pm%22%3A+%22true%22%7D&query_id=test&hash=b3c8b293f14ad0f7f0abcf769aea1209a72295d30a87eb0e74df855d32e53bfe";

#[test]
fn aiogram_web_app_vectors() {
    let now = at(1650385342 + 1);
    let ok = by_hash("42:TEST");
    let data = ok.verify_at(AIOGRAM_VALID, now).unwrap();
    assert_eq!(
        (data.user().id, data.user().first_name.as_str(), data.query_id()),
        (42, "Test", Some("test"))
    );

    // aiogram expects True: the hash matches once `+` decodes to a space. We go
    // on to parse `user`, where a string id is not a Telegram user, so this is
    // refused as malformed, not as a bad hash.
    assert_eq!(
        ok.verify_at(AIOGRAM_PLUS, now),
        Err(InitDataError::Malformed("user is not a WebAppUser JSON object"))
    );
    // Decoding `+` as a literal plus would have broken the hash instead.
    assert_eq!(ok.verify_at(&AIOGRAM_PLUS.replace('+', "%2B"), now), Err(InitDataError::BadHash));

    // The expected-False cases.
    assert_eq!(by_hash("42:INVALID").verify_at(AIOGRAM_VALID, now), Err(InitDataError::BadHash));
    let user_and_query = "user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test";
    assert_eq!(ok.verify_at(&format!("{user_and_query}&hash=test"), now), Err(InitDataError::MalformedHash));
    assert_eq!(ok.verify_at(user_and_query, now), Err(InitDataError::MissingHash));
    assert!(matches!(ok.verify_at("", now), Err(InitDataError::Malformed(_))));
    assert!(matches!(ok.verify_at("test&foo=bar=baz", now), Err(InitDataError::Malformed(_))));
    let non_ascii_hash = format!("{user_and_query}&hash=%C3%A9%C3%A9%C3%A9");
    assert_eq!(ok.verify_at(&non_ascii_hash, now), Err(InitDataError::MalformedHash));
}

// aiogram/aiogram, tests/test_utils/test_web_app_signature.py (commit
// 127a3282d451f41d5c90ce93fdda440ba976578f): bot 42, signed with the test
// keypair whose public key the test publishes.
const AIOGRAM_PUBLIC_KEY: &str = "4112765021341e5415e772cd65903f6b94e3ea1c2ab669e6d3e18ee2db00da61";
const AIOGRAM_SIGNED: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&signature=JQ0JR2tjC65yq_jNZV0wuJVX6J-SWPMV0mprUXG34g-NvxL4RcF1Rz5n4VVo00VRghEUBf5t___uoeb1-jU_Cw";
const AIOGRAM_BAD_SIGNATURE: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&signature=JQ0JR2tjC65yq_jNZV0wuJVX6J-SWPMV0mprUXG34g-NvxL4RcF1Rz5n4VVo00VRghEUBf5t___uoeb1-j1U_w";

#[test]
fn aiogram_signature_vectors() {
    let now = at(1650385342 + 1);
    let mut key = [0u8; 32];
    hex::decode_to_slice(AIOGRAM_PUBLIC_KEY, &mut key).unwrap();
    let verifier = InitDataVerifier::third_party(42, SignatureKey::from_bytes(&key).unwrap(), DAY);
    assert_eq!(verifier.verify_at(AIOGRAM_SIGNED, now).unwrap().user().id, 42);
    // With `hash=123` added (their safe_check case) the signature still holds:
    // it does not cover `hash`.
    let with_hash = AIOGRAM_SIGNED.replace("&signature=", "&hash=123&signature=");
    assert!(verifier.verify_at(&with_hash, now).is_ok());
    assert_eq!(verifier.verify_at(AIOGRAM_BAD_SIGNATURE, now), Err(InitDataError::BadSignature));
    let unsigned = AIOGRAM_SIGNED.split("&signature=").next().unwrap();
    assert_eq!(verifier.verify_at(unsigned, now), Err(InitDataError::MissingSignature));
    // Their own key is not Telegram's.
    let telegram = InitDataVerifier::third_party(42, production_key(), DAY);
    assert_eq!(telegram.verify_at(AIOGRAM_SIGNED, now), Err(InitDataError::BadSignature));
}

// swimmwatch/telegram-webapp-auth, tests/test_validate_third_party.py (commit
// 343e141153599041a202539467ce054f28226788): a real launch of bot 7544535829,
// valid with Telegram's production key; with ";" in front it is invalid.
const WEBAPP_AUTH_THIRD_PARTY: &str = "query_id=AAH1t3EVAAAAAPW3cRVyuBgH&user=%7B%22id%22%3A359774197%2C%22first_name%22%3A%22Dmitry%22%2C%22last_name%22%3A%22Vasiliev%22%2C%22language_code%22%3A%22en%22%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2FaUkVEo2bVNr6G41sIB2bNwCdbkwnaVS79N41WHr_ApQ.svg%22%7D&auth_date=1736353840&signature=s72bv8J1hwJanbDqlo9TTMK6Uf4WSwQKuPKK_Q16QBhKD0hfOfoYCOpRl_d8m_8AEI1_oF-9WCJuwW1KQy5-BA&hash=c0b008672bf1edae403293e790eec42d047ac6613a5799e1939fac5eca41a397";

#[test]
fn telegram_webapp_auth_third_party_vector() {
    let now = at(1736353840 + 1);
    let verifier = InitDataVerifier::third_party(7544535829, production_key(), DAY);
    let data = verifier.verify_at(WEBAPP_AUTH_THIRD_PARTY, now).unwrap();
    assert_eq!((data.user().id, data.user().first_name.as_str()), (359774197, "Dmitry"));
    // Their ";" case: the first key becomes ";query_id", which Telegram did not sign.
    let prefixed = format!(";{WEBAPP_AUTH_THIRD_PARTY}");
    assert_eq!(verifier.verify_at(&prefixed, now), Err(InitDataError::BadSignature));
    // Their one-second lifetime case, against today's clock.
    let strict = InitDataVerifier::third_party(7544535829, production_key(), Duration::from_secs(1));
    assert!(matches!(strict.verify(WEBAPP_AUTH_THIRD_PARTY), Err(InitDataError::Expired { .. })));
}
