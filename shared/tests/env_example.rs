//! `.env.example` documents every setting and, with a token filled in, is a
//! configuration the binaries accept.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{cell::RefCell, collections::HashMap, path::Path};

use shared::Settings;

fn env_example() -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.env.example");
    dotenvy::from_path_iter(&path).unwrap().map(|item| item.unwrap()).collect()
}

#[test]
fn env_example_with_a_token_is_a_valid_configuration() {
    let mut vars = env_example();
    assert_eq!(
        vars.get("TELEGRAM_BOT_TOKEN").map(String::as_str),
        Some(""),
        "the example must not ship a token"
    );
    vars.insert("TELEGRAM_BOT_TOKEN".into(), "123:abc".into());
    let settings = Settings::from_map(&vars).unwrap();
    assert_eq!(settings.pricing.transcription_cost_per_minute.to_string(), "15");
    assert_eq!(settings.pricing.free_minutes_per_day, 3);
}

#[test]
fn every_variable_the_settings_read_is_documented() {
    let mut vars = env_example();
    vars.insert("TELEGRAM_BOT_TOKEN".into(), "123:abc".into());
    // Webhook mode and YooKassa make the conditional variables be read too.
    vars.insert("TELEGRAM_MODE".into(), "webhook".into());
    vars.insert("YOOKASSA_SHOP_ID".into(), "1".into());
    vars.insert("YOOKASSA_SECRET_KEY".into(), "k".into());
    let read = RefCell::new(Vec::new());
    let _ = Settings::from_lookup(&|name| {
        read.borrow_mut().push(name.to_owned());
        vars.get(name).cloned()
    });
    let documented = env_example();
    let read = read.into_inner();
    assert!(read.len() > 30, "suspiciously few variables read: {read:?}");
    let undocumented: Vec<_> = read.iter().filter(|name| !documented.contains_key(*name)).collect();
    assert!(undocumented.is_empty(), "not in .env.example: {undocumented:?}");
}
