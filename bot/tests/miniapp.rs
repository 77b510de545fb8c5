//! The Mini App's sign-in and `/api/me` on the real bot: init data signed for
//! the bot's token signs in; forged, expired, tampered or malformed init data
//! gets a 401 naming the reason; the session token opens `/api/me`.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::{TestBot, spawn_bot};

const SECRET: &str = "a-mini-app-session-secret-of-32-bytes-or-more";

async fn bot() -> TestBot {
    spawn_bot(&[("MINIAPP_JWT_SECRET", SECRET), ("WELCOME_BONUS_CREDITS", "0")]).await
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

const USER: &str =
    r#"{"id":5005,"first_name":"Анна","last_name":"Каренина","username":"anna","language_code":"ru"}"#;

/// Init data as Telegram builds it for the page, signed with `token`.
fn init_data(token: &str, auth_date: u64) -> String {
    let auth_date = auth_date.to_string();
    miniapp::sign_init_data(
        &[("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"), ("user", USER), ("auth_date", &auth_date)],
        token,
    )
}

async fn sign_in(bot: &TestBot, init_data: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/auth/telegram", bot.http))
        .json(&json!({ "init_data": init_data }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn init_data_signed_for_this_bot_signs_in_and_opens_me() {
    let bot = bot().await;
    let (status, body) = sign_in(&bot, &init_data(bot.telegram.token(), now())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["telegram_id"], 5005);
    assert_eq!(body["user"]["first_name"], "Анна");
    assert_eq!(body["user"]["language"], "ru");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    let token = body["token"].as_str().unwrap().to_owned();

    // The user row is there, as after /start, and a second sign-in is the same user.
    let (_, again) = sign_in(&bot, &init_data(bot.telegram.token(), now())).await;
    assert_eq!(again["user"]["id"], body["user"]["id"]);

    let client = reqwest::Client::new();
    let me = client
        .get(format!("http://{}/api/me", bot.http))
        .bearer_auth(&token)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // No CORS for other origins; nothing cached; a strict policy.
    assert!(me.headers().get("access-control-allow-origin").is_none());
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert!(me.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["id"], body["user"]["id"]);
    assert_eq!(me["balance"]["available"], "0");
    assert_eq!(me["free_seconds_today"], 180);
    let link = me["referral"]["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("https://t.me/{}?start=ref_", bot.telegram.bot_username())), "{link}");

    for bad in ["", "Bearer nonsense", "Bearer "] {
        let mut request = client.get(format!("http://{}/api/me", bot.http));
        if !bad.is_empty() {
            request = request.header("Authorization", bad);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401, "{bad}");
    }
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn forged_expired_tampered_and_malformed_init_data_are_refused_with_the_reason() {
    let bot = bot().await;
    let token = bot.telegram.token().to_owned();
    let good = init_data(&token, now());
    let tampered = good.replace("anna", "anne");
    // The same fields in another order: the check sorts them, so this one is fine.
    let reordered = {
        let mut pairs: Vec<&str> = good.split('&').collect();
        pairs.reverse();
        pairs.join("&")
    };
    let cases = [
        (init_data("123456:another-bots-token", now()), "bad_hash"),
        (init_data(&token, now() - 2 * 86_400), "expired"),
        (tampered, "bad_hash"),
        (good.split("&hash=").next().unwrap().to_owned(), "missing_hash"),
        ("%%%".to_owned(), "malformed"),
    ];
    for (init_data, reason) in cases {
        let (status, body) = sign_in(&bot, &init_data).await;
        assert_eq!((status, body["error"].as_str()), (401, Some(reason)), "{init_data}: {body}");
    }
    let (status, body) = sign_in(&bot, &reordered).await;
    assert_eq!(status, 200, "{body}");

    // Not JSON with init_data at all.
    let answer = reqwest::Client::new()
        .post(format!("http://{}/api/auth/telegram", bot.http))
        .header("content-type", "application/json")
        .body("{\"nope\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn without_a_secret_the_api_is_off() {
    let bot = spawn_bot(&[]).await;
    let (status, body) = sign_in(&bot, &init_data(bot.telegram.token(), now())).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn sign_ins_from_one_address_are_limited() {
    let bot = bot().await;
    let forged = init_data("123456:another-bots-token", now());
    let mut statuses = Vec::new();
    for _ in 0..35 {
        statuses.push(sign_in(&bot, &forged).await.0);
    }
    assert!(statuses[..30].iter().all(|&s| s == 401), "{statuses:?}");
    assert_eq!(statuses[34], 429);
    // The limit applies to good init data too until the minute is over.
    assert_eq!(sign_in(&bot, &init_data(bot.telegram.token(), now())).await.0, 429);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn with_a_url_the_menu_button_and_app_open_the_mini_app() {
    let url = "https://app.example.org/app/";
    let bot = spawn_bot(&[("MINIAPP_JWT_SECRET", SECRET), ("MINIAPP_URL", url)]).await;
    // Set right after the command menu, which is what spawn_bot waits for.
    let call = bot
        .telegram
        .wait_until("the menu button", std::time::Duration::from_secs(5), |t| {
            t.calls("setChatMenuButton").into_iter().next()
        })
        .await
        .unwrap();
    let button = call.params.get("menu_button").cloned().unwrap();
    let button: Value = match button {
        Value::String(text) => serde_json::from_str(&text).unwrap(),
        other => other,
    };
    assert_eq!((button["type"].as_str(), button["web_app"]["url"].as_str()), (Some("web_app"), Some(url)));

    let user = bot.telegram.user(5006, "Ира", Some("ru"));
    user.send_command("/app").unwrap();
    let replies = user.wait_for_messages(1, std::time::Duration::from_secs(10)).await.unwrap();
    let markup = replies[0].reply_markup.clone().unwrap();
    assert_eq!(markup["inline_keyboard"][0][0]["web_app"]["url"], url);
    assert_eq!(markup["inline_keyboard"][0][0]["text"], "Открыть приложение");
    bot.stop().await.unwrap();

    // Without a URL there is no menu button, and /app is an unknown command.
    let plain = spawn_bot(&[]).await;
    assert!(plain.telegram.calls("setChatMenuButton").is_empty());
    let user = plain.telegram.user(5007, "Ira", Some("en"));
    user.send_command("/app").unwrap();
    let replies = user.wait_for_messages(1, std::time::Duration::from_secs(10)).await.unwrap();
    assert!(replies[0].reply_markup.is_none());
    plain.stop().await.unwrap();
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_nothing_else() {
    let bot = bot().await;
    let client = reqwest::Client::new();
    let doc: Value = client
        .get(format!("http://{}/api/openapi.json", bot.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/auth/telegram",
        "/api/me",
        "/api/transcripts",
        "/api/transcripts/{job_id}",
        "/api/history",
        "/api/packages",
        "/api/purchase",
        "/api/settings",
        "/api/jobs/{id}",
        "/api/jobs/{id}/events",
        "/api/images",
        "/api/images/{job_id}/edit",
        "/api/uploads",
        "/api/uploads/{id}/complete",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented: {:?}", paths.keys());
    }
    // Each documented operation is served (a refusal, but not "no such route").
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let url = format!(
                "http://{}{}",
                bot.http,
                path.replace("{id}", "00000000-0000-0000-0000-000000000000")
                    .replace("{job_id}", "00000000-0000-0000-0000-000000000000")
            );
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let status = client.request(method.clone(), &url).send().await.unwrap().status().as_u16();
            assert!(![404, 405].contains(&status), "{method} {path} answered {status}");
        }
    }
    // And a route that is not documented does not exist.
    let status = client.get(format!("http://{}/api/nothing-here", bot.http)).send().await.unwrap().status();
    assert_eq!(status, 404);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy_and_its_words_in_both_languages() {
    let bot = bot().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = format!("http://{}", bot.http);
    let moved = client.get(format!("{base}/app")).send().await.unwrap();
    assert_eq!(moved.status(), 308);
    assert_eq!(moved.headers()["location"], "/app/");
    let page = client.get(format!("{base}/app/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let storage = bot.state.settings.s3.endpoint.as_ref().unwrap().origin().ascii_serialization();
    assert!(
        policy.contains("default-src 'none'") && policy.contains(&format!("connect-src 'self' {storage}")),
        "{policy}"
    );
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(page.headers().get("access-control-allow-origin").is_none());
    assert!(page.text().await.unwrap().contains("app.js"));
    for asset in ["app.js", "app.css"] {
        let answer = client.get(format!("{base}/app/{asset}")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{asset}");
        assert!(answer.headers()["x-content-type-options"] == "nosniff");
    }
    let texts: Value =
        client.get(format!("{base}/app/texts.json")).send().await.unwrap().json().await.unwrap();
    let (ru, en) = (texts["ru"].as_object().unwrap(), texts["en"].as_object().unwrap());
    assert!(ru.len() > 50 && ru.len() == en.len(), "{} and {} texts", ru.len(), en.len());
    assert_ne!(ru.get("page-nav-upload"), en.get("page-nav-upload"));
    bot.stop().await.unwrap();

    // Without the Mini App configured there is no page either.
    let plain = spawn_bot(&[]).await;
    let status = reqwest::get(format!("http://{}/app/", plain.http)).await.unwrap().status();
    assert_eq!(status, 404);
    plain.stop().await.unwrap();
}
