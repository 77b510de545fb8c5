//! The one Telegram client keeps to Telegram's limits, waits out flood
//! control and counts every call, against the fake Bot API.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use shared::platform::metrics;
use shared::telegram::{self, Counted as _, Outgoing};
use teloxide::{prelude::Requester as _, types::ChatId};
use testkit::fake_telegram::FakeTelegram;

/// The value of one sample line of this process's live metrics, 0 when absent.
fn sample(name_and_labels: &str) -> f64 {
    let text = metrics::encode().unwrap();
    text.lines().find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok()).unwrap_or(0.0)
}

fn client(fake: &FakeTelegram, per_second: u32) -> telegram::Telegram {
    telegram::connect(fake.token(), fake.api_url(), per_second.try_into().unwrap())
}

/// When each `sendMessage` to `chat` reached the fake.
fn arrivals(fake: &FakeTelegram, chat: i64) -> Vec<Instant> {
    fake.calls("sendMessage")
        .into_iter()
        .filter(|call| call.param_str("chat_id").as_deref() == Some(chat.to_string().as_str()))
        .map(|call| call.arrived)
        .collect()
}

#[tokio::test]
async fn messages_to_one_chat_go_out_a_second_apart_other_chats_do_not_wait() {
    let fake = FakeTelegram::start().await;
    for chat in [11, 12, 13] {
        fake.user(chat, "Pace", Some("en"));
    }
    let bot = client(&fake, 30);
    let sends = (0..3).flat_map(|n| {
        [11, 12, 13].map(|chat| {
            let bot = bot.clone();
            async move { telegram::send(&bot, ChatId(chat), &Outgoing::Text(format!("{chat}: {n}"))).await }
        })
    });
    for sent in futures::future::join_all(sends).await {
        sent.unwrap();
    }
    for chat in [11, 12, 13] {
        let times = arrivals(&fake, chat);
        assert_eq!(times.len(), 3);
        for pair in times.windows(2) {
            // One a second per chat (a little slack for the clock of the pacing task).
            assert!(pair[1] - pair[0] >= Duration::from_millis(900), "{:?}", pair[1] - pair[0]);
        }
    }
    // The first message of each chat did not wait for the others.
    let firsts: Vec<Instant> = [11, 12, 13].map(|chat| arrivals(&fake, chat)[0]).to_vec();
    let spread = *firsts.iter().max().unwrap() - *firsts.iter().min().unwrap();
    assert!(spread < Duration::from_millis(900), "{spread:?}");
}

#[tokio::test]
async fn the_overall_pace_is_the_configured_one() {
    let fake = FakeTelegram::start().await;
    let chats: Vec<i64> = (100..106).collect();
    for &chat in &chats {
        fake.user(chat, "Pace", Some("en"));
    }
    // Two a second over all chats: six messages to six chats span at least two seconds.
    let bot = client(&fake, 2);
    let sends = chats.iter().map(|&chat| {
        let bot = bot.clone();
        async move { telegram::send(&bot, ChatId(chat), &Outgoing::Text("hello".into())).await }
    });
    for sent in futures::future::join_all(sends).await {
        sent.unwrap();
    }
    let mut times: Vec<Instant> = fake.calls("sendMessage").into_iter().map(|call| call.arrived).collect();
    times.sort();
    assert_eq!(times.len(), 6);
    assert!(times[5] - times[0] >= Duration::from_millis(1900), "{:?}", times[5] - times[0]);
}

#[tokio::test]
async fn a_flood_wait_is_waited_out_and_the_message_sent_once() {
    let fake = FakeTelegram::start().await;
    fake.user(21, "Flood", Some("en"));
    fake.rate_limit("sendMessage", 1, 2);
    let bot = client(&fake, 30);
    let started = Instant::now();
    telegram::send(&bot, ChatId(21), &Outgoing::Text("after the wait".into())).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    let statuses: Vec<u16> = fake.calls("sendMessage").iter().map(|call| call.status).collect();
    assert_eq!(statuses, [429, 200]);
    let delivered: Vec<String> =
        fake.messages(21).iter().filter_map(|m| m.body().map(str::to_owned)).collect();
    assert_eq!(delivered, ["after the wait"]);
    // Each attempt is counted, and the resend too.
    assert_eq!(sample("tgbot_telegram_requests_total{call=\"send\",outcome=\"rate_limited\"}"), 1.0);
    assert_eq!(sample("tgbot_telegram_requests_total{call=\"send\",outcome=\"ok\"}"), 1.0);
    assert_eq!(sample("tgbot_telegram_retries_total{call=\"send\"}"), 1.0);
}

#[tokio::test]
async fn any_direct_call_is_counted_and_sent_again_after_a_429() {
    let fake = FakeTelegram::start().await;
    fake.user(22, "Direct", Some("en"));
    fake.rate_limit("getMe", 2, 1);
    let bot = client(&fake, 30);
    let me = bot.get_me().counted().await.unwrap();
    assert!(me.user.is_bot);
    assert_eq!(fake.calls("getMe").iter().map(|call| call.status).collect::<Vec<_>>(), [429, 429, 200]);
    assert_eq!(sample("tgbot_telegram_requests_total{call=\"other\",outcome=\"rate_limited\"}"), 2.0);
    assert_eq!(sample("tgbot_telegram_requests_total{call=\"other\",outcome=\"ok\"}"), 1.0);
    assert_eq!(sample("tgbot_telegram_retries_total{call=\"other\"}"), 2.0);
    assert_eq!(sample("tgbot_telegram_request_duration_seconds_count{call=\"other\"}"), 3.0);

    // Past the retries allowed, the 429 is the caller's.
    fake.rate_limit("sendMessage", 4, 1);
    let err = bot.send_message(ChatId(22), "never").counted().await.unwrap_err();
    assert!(matches!(err, teloxide::RequestError::RetryAfter(_)), "{err:?}");
    assert_eq!(fake.calls("sendMessage").len(), 4, "the first send and three more");
    assert_eq!(sample("tgbot_telegram_retries_total{call=\"send\"}"), 3.0);
}
