//! `GET /api/images`: the caller's kept pictures with working links, paged,
//! and nothing of anyone else's.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use shared::ids::UserId;
use support::{TestBot, miniapp_sign_in, spawn_bot};

/// A finished picture of `user`, drawn for `prompt`, stored with `bytes`.
async fn picture(bot: &TestBot, user: UserId, prompt: &str, bytes: &'static [u8]) -> String {
    support::stored_picture(bot, user, prompt, bytes.to_vec()).await
}

async fn page(bot: &TestBot, token: &str, query: &str) -> Value {
    let answer = reqwest::Client::new()
        .get(format!("http://{}/api/images{query}", bot.http))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[tokio::test]
async fn the_gallery_shows_the_callers_pictures_newest_first_with_working_links() {
    let bot = spawn_bot(&[
        ("MINIAPP_JWT_SECRET", "a-mini-app-session-secret-of-32-bytes-or-more"),
        ("WELCOME_BONUS_CREDITS", "100"),
    ])
    .await;
    let anna = miniapp_sign_in(&bot, 8001, "ru").await;
    let boris = miniapp_sign_in(&bot, 8002, "en").await;
    let anna_id = UserId(anna["user"]["id"].as_i64().unwrap());
    let boris_id = UserId(boris["user"]["id"].as_i64().unwrap());
    let first = picture(&bot, anna_id, "a red fox", b"fox-bytes").await;
    let second = picture(&bot, anna_id, "a blue whale", b"whale-bytes").await;
    picture(&bot, boris_id, "boris's cat", b"cat-bytes").await;

    let token = anna["token"].as_str().unwrap();
    let all = page(&bot, token, "").await;
    let items = all["items"].as_array().unwrap();
    let jobs: Vec<&str> = items.iter().map(|i| i["job_id"].as_str().unwrap()).collect();
    assert_eq!(jobs, [second.as_str(), first.as_str()], "newest first, only Anna's");
    assert_eq!(items[0]["prompt"], "a blue whale");
    assert_eq!(items[0]["edited"], false);
    let fetched = reqwest::get(items[0]["url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&fetched[..], b"whale-bytes");

    // One a page: the cursor leads to the older one, then to nothing.
    let one = page(&bot, token, "?limit=1").await;
    assert_eq!(one["items"][0]["job_id"], second.as_str());
    let next = one["next"].as_i64().unwrap();
    let older = page(&bot, token, &format!("?limit=1&before={next}")).await;
    assert_eq!(older["items"][0]["job_id"], first.as_str());
    let end = page(&bot, token, &format!("?limit=1&before={}", older["next"].as_i64().unwrap())).await;
    assert!(end["items"].as_array().unwrap().is_empty());

    let bad = reqwest::Client::new()
        .get(format!("http://{}/api/images?before=abc", bot.http))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let anonymous = reqwest::get(format!("http://{}/api/images", bot.http)).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    bot.stop().await.unwrap();
}
