//! Summaries on request, as a user meets them: a voice note transcribed by a
//! worker, the "Summary" button under the transcript, a summary worker asking
//! the (fake) chat model, and the summary back as a reply, the money exact.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use shared::{
    billing::money::Credits,
    entities::jobs::{self, JobKind, JobStatus},
    ids::{JobId, TelegramUserId},
    media::summaries,
    people::users,
    texts::i18n::{Lang, SummaryFailureReason, Text},
};
use support::{TestBot, spawn_bot_with};
use testkit::{
    fake_openai::{Endpoint, FakeOpenAi, Fault},
    fake_telegram::{SentMessage, TestUser},
};

const WAIT: Duration = Duration::from_secs(60);

/// What the fake chat model answers for a summary.
const ANSWER: &str =
    "Anna and Oleg moved the release to Friday.\n\nAction items:\n- Oleg: update the plan by Wednesday";

/// The bot with transcription and summary workers on the fake OpenAI: a free
/// voice note (3 free minutes), then summaries at 3 credits, `credits` to start.
async fn spawn(openai: &FakeOpenAi, credits: &str) -> (TestBot, tokio::task::JoinHandle<()>) {
    let base = openai.base_url();
    let credits = credits.to_owned();
    let bot = spawn_bot_with(move |_| {
        vec![
            ("STT_BASE_URL".into(), base.clone()),
            ("SUMMARY_BASE_URL".into(), base),
            ("SUMMARY_MODEL".into(), "summary-test-model".into()),
            ("SUMMARY_PRICE".into(), "3".into()),
            ("SUMMARY_TIMEOUT_SECONDS".into(), "10".into()),
            ("WELCOME_BONUS_CREDITS".into(), credits),
            // Failed attempts come back at once, so the outage test runs through all of them quickly.
            ("RETRY_BACKOFF_SECONDS".into(), "0".into()),
            ("MINIAPP_JWT_SECRET".into(), "a-mini-app-session-secret-of-32-bytes-or-more".into()),
        ]
    })
    .await;
    let summarising = support::summary_worker(&bot, 2);
    let transcribing = support::transcription_worker(&bot, 2);
    let sweeping = support::maintenance(&bot);
    let worker = tokio::spawn(async move {
        tokio::join!(summarising, transcribing, sweeping);
    });
    (bot, worker)
}

fn texts(bot: &TestBot, chat: i64) -> Vec<String> {
    bot.telegram.messages(chat).iter().filter_map(|m| m.body().map(str::to_owned)).collect()
}

/// Messages of `chat` whose text contains `needle`, once there are `n` of them.
async fn wait_for_texts(bot: &TestBot, chat: i64, needle: &str, n: usize) -> Vec<SentMessage> {
    bot.telegram
        .wait_until(needle, WAIT, |t| {
            let found: Vec<_> = t
                .messages(chat)
                .into_iter()
                .filter(|m| m.body().is_some_and(|b| b.contains(needle)))
                .collect();
            (found.len() >= n).then_some(found)
        })
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", texts(bot, chat)))
}

/// A started English-speaking user with one transcribed voice note; answers
/// the user, the transcript's first message and its footer (with the buttons).
async fn transcribed(bot: &TestBot, id: i64) -> (TestUser, SentMessage, SentMessage) {
    let user = bot.telegram.user(id, "Ann", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let note = bot.telegram.register_file(testkit::audio::voice_note(20), "audio/ogg", Some(20));
    user.send_voice(&note).unwrap();
    let footer = wait_for_texts(bot, id, "Duration 0:20", 1).await.remove(0);
    let messages = bot.telegram.messages(id);
    let at = messages.iter().position(|m| m.message_id == footer.message_id).unwrap();
    let first = messages[at - 1].clone();
    assert!(first.body().is_some_and(|b| !b.trim().is_empty()), "the transcript: {:?}", first.body());
    // The footer's id is recorded with the job just after it is sent; a tap before that would
    // be answered as a tap on a message of its own. People are not that fast; tests are.
    for _ in 0..100 {
        let transcriptions = jobs::Entity::find()
            .filter(jobs::Column::Kind.eq(JobKind::Transcribe))
            .all(&bot.db.db)
            .await
            .unwrap();
        if transcriptions.iter().all(|job| job.status == JobStatus::Succeeded) {
            return (user, first, footer);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the transcription job never finished");
}

fn summary_button(footer: &SentMessage) -> String {
    footer.callback_data_of("Summary").expect("a Summary button under the transcript")
}

async fn balance(bot: &TestBot, telegram_id: i64) -> (Credits, Credits) {
    let user = users::find_by_telegram_id(&bot.db.db, TelegramUserId(telegram_id)).await.unwrap().unwrap();
    let balance = bot.state.ledger.balance(&bot.db.db, user.id).await.unwrap();
    (balance.available, balance.held)
}

async fn summary_jobs(bot: &TestBot) -> Vec<jobs::Model> {
    jobs::Entity::find().filter(jobs::Column::Kind.eq(JobKind::Summary)).all(&bot.db.db).await.unwrap()
}

/// The summary jobs once none is queued or running: a job is marked done just after its
/// message went out.
async fn settled_summary_jobs(bot: &TestBot) -> Vec<jobs::Model> {
    for _ in 0..100 {
        let jobs = summary_jobs(bot).await;
        if jobs.iter().all(|j| !matches!(j.status, JobStatus::Queued | JobStatus::Running)) {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a summary job never finished: {:?}", summary_jobs(bot).await);
}

async fn transcript_job(bot: &TestBot) -> JobId {
    jobs::Entity::find()
        .filter(jobs::Column::Kind.eq(JobKind::Transcribe))
        .one(&bot.db.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn chat_requests(openai: &FakeOpenAi) -> Vec<testkit::fake_openai::RecordedRequest> {
    openai.requests().into_iter().filter(|r| r.endpoint == Endpoint::ChatCompletions).collect()
}

/// The Mini App's view of transcript `job`, as Telegram user `telegram_id` sees it.
async fn app_transcript(bot: &TestBot, telegram_id: i64, job: JobId) -> serde_json::Value {
    let token = support::miniapp_sign_in(bot, telegram_id, "en").await["token"].as_str().unwrap().to_owned();
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/transcripts/{}", bot.http, job.0))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

fn credits(amount: &str) -> Credits {
    Credits::new(amount.parse().unwrap()).unwrap()
}

#[tokio::test]
async fn a_summary_comes_as_a_reply_to_the_transcript_charged_once_and_stored() {
    let openai = FakeOpenAi::start().await.unwrap();
    // As several OpenAI-compatible servers answer: no `usage`, `object` or `created`.
    openai.answer_minimally(true);
    let (bot, worker) = spawn(&openai, "10").await;
    let (user, first, footer) = transcribed(&bot, 71).await;
    assert_eq!(balance(&bot, 71).await, (credits("10"), Credits::ZERO), "the voice note was free");
    let transcript = transcript_job(&bot).await;
    assert_eq!(app_transcript(&bot, 71, transcript).await["summary"], serde_json::Value::Null);

    openai.queue_chat_reply(ANSWER);
    user.press_button(footer.message_id, &summary_button(&footer)).unwrap();
    let queued = wait_for_texts(&bot, 71, "Summarising", 1).await.remove(0);
    assert_eq!(queued.body(), Some("Summarising and listing the action items… Price: 3 credits."));
    let summary = wait_for_texts(&bot, 71, "Anna and Oleg", 1).await.remove(0);
    assert_eq!(summary.body(), Some(format!("Summary\n\n{ANSWER}\n\n3 credits charged.").as_str()));
    assert_eq!(summary.reply_to_message_id, Some(first.message_id), "a reply to the transcript itself");
    assert_eq!(balance(&bot, 71).await, (credits("7"), Credits::ZERO));

    // The model got the instructions and the whole transcript.
    let requests = chat_requests(&openai);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model.as_deref(), Some("summary-test-model"));
    let roles: Vec<&str> = requests[0].messages.iter().map(|(role, _)| role.as_str()).collect();
    assert_eq!(roles, ["system", "user"]);
    assert!(requests[0].messages[0].1.contains("action items"), "{:?}", requests[0].messages[0]);
    let stored_row =
        shared::entities::transcripts::Entity::find_by_id(transcript).one(&bot.db.db).await.unwrap().unwrap();
    assert_eq!(requests[0].messages[1].1, stored_row.text.unwrap().trim());

    // Stored with the transcript; the job succeeded and its status message is gone.
    let stored = summaries::stored(&bot.db.db, stored_row.user_id, transcript).await.unwrap().unwrap();
    assert_eq!((stored.content.as_str(), stored.partial), (ANSWER, false));
    let jobs = settled_summary_jobs(&bot).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].status, jobs[0].price_charged), (JobStatus::Succeeded, Some("3".parse().unwrap())));
    assert_eq!(jobs[0].id, stored.job_id);
    let shown = app_transcript(&bot, 71, transcript).await;
    assert_eq!(
        (shown["summary"]["text"].as_str(), shown["summary"]["partial"].as_bool()),
        (Some(ANSWER), Some(false))
    );
    bot.telegram
        .wait_until("the status message deleted", WAIT, |t| {
            t.messages(71).into_iter().find(|m| m.message_id == queued.message_id && m.deleted).map(drop)
        })
        .await
        .unwrap();

    // The button again: the stored summary, free, with no new call.
    user.press_button(footer.message_id, &summary_button(&footer)).unwrap();
    let again = wait_for_texts(&bot, 71, "Summary (made before, free)", 1).await.remove(0);
    assert!(again.body().unwrap().ends_with(ANSWER), "{:?}", again.body());
    assert_eq!(again.reply_to_message_id, Some(first.message_id));
    assert_eq!(chat_requests(&openai).len(), 1);
    assert_eq!(summary_jobs(&bot).await.len(), 1);
    assert_eq!(balance(&bot, 71).await, (credits("7"), Credits::ZERO));

    // /history tells the summary apart from the transcription.
    user.send_command("/history").unwrap();
    let history = wait_for_texts(&bot, 71, "Summary — 3 credits", 1).await.remove(0);
    assert!(history.body().unwrap().contains("Transcription 0:20 — free"), "{:?}", history.body());

    // Another user's request for this transcript finds nothing and holds nothing.
    let stranger = bot.telegram.user(72, "Eve", Some("en"));
    stranger.send_command("/start").unwrap();
    stranger.wait_for_messages(1, WAIT).await.unwrap();
    let eve = users::find_by_telegram_id(&bot.db.db, TelegramUserId(72)).await.unwrap().unwrap();
    let ask = summaries::Ask {
        user_id: eve.id,
        chat_id: shared::ids::ChatId(72),
        transcript,
        price: Credits::whole(3),
        reply_to: None,
        max_unfinished: 3,
    };
    let asked = summaries::request(&bot.db.db, &bot.state.ledger, &ask).await.unwrap();
    assert_eq!(asked, summaries::Requested::NoTranscript);
    assert_eq!(summary_jobs(&bot).await.len(), 1);
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_double_tap_makes_and_charges_one_summary() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai, "10").await;
    let (user, first, footer) = transcribed(&bot, 73).await;
    // A slow model, so the second tap comes while the first is being answered.
    openai.set_latency(Endpoint::ChatCompletions, Duration::from_secs(2));
    openai.queue_chat_reply(ANSWER);
    let data = summary_button(&footer);
    user.press_button(footer.message_id, &data).unwrap();
    user.press_button(footer.message_id, &data).unwrap();

    let already = Text::SummaryInProgress.render(Lang::En);
    wait_for_texts(&bot, 73, &already, 1).await;
    let summary = wait_for_texts(&bot, 73, "Anna and Oleg", 1).await.remove(0);
    assert_eq!(summary.reply_to_message_id, Some(first.message_id));
    // Give a wrongly created second job the time to show itself.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(wait_for_texts(&bot, 73, "Anna and Oleg", 1).await.len(), 1, "{:#?}", texts(&bot, 73));
    assert_eq!(wait_for_texts(&bot, 73, "Summarising", 1).await.len(), 1, "one job queued");
    assert_eq!(chat_requests(&openai).len(), 1);
    assert_eq!(summary_jobs(&bot).await.len(), 1);
    assert_eq!(balance(&bot, 73).await, (credits("7"), Credits::ZERO));
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_provider_outage_releases_the_hold_tells_the_user_and_a_later_tap_succeeds() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai, "10").await;
    let (user, _, footer) = transcribed(&bot, 74).await;
    // Down for exactly the five attempts a job gets.
    openai.fail_next(Endpoint::ChatCompletions, 5, Fault::ServerError);
    user.press_button(footer.message_id, &summary_button(&footer)).unwrap();

    let failed = Text::SummaryFailed { reason: SummaryFailureReason::Unavailable }.render(Lang::En);
    let told = wait_for_texts(&bot, 74, &failed, 1).await.remove(0);
    assert_eq!(
        told.body(),
        Some(
            "I could not summarise the transcript: the service is unavailable, please try later. You were not charged."
        )
    );
    assert_eq!(balance(&bot, 74).await, (credits("10"), Credits::ZERO));
    let jobs = summary_jobs(&bot).await;
    assert_eq!((jobs.len(), jobs[0].status, jobs[0].attempts), (1, JobStatus::Failed, 5));
    assert_eq!(chat_requests(&openai).len(), 5, "one call per attempt, no hidden retries");
    let transcript = transcript_job(&bot).await;
    assert!(summaries::stored(&bot.db.db, jobs[0].user_id, transcript).await.unwrap().is_none());

    // The model is back: the same button makes a new job, charged once.
    openai.queue_chat_reply(ANSWER);
    user.press_button(footer.message_id, &summary_button(&footer)).unwrap();
    wait_for_texts(&bot, 74, "Anna and Oleg", 1).await;
    assert_eq!(balance(&bot, 74).await, (credits("7"), Credits::ZERO));
    let jobs = settled_summary_jobs(&bot).await;
    assert_eq!(jobs.iter().filter(|j| j.status == JobStatus::Succeeded).count(), 1);
    assert_eq!(jobs.len(), 2);
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_user_without_credit_is_told_and_nothing_is_queued() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai, "1").await;
    let (user, _, footer) = transcribed(&bot, 75).await;
    user.press_button(footer.message_id, &summary_button(&footer)).unwrap();
    let told = wait_for_texts(&bot, 75, "Not enough credits for a summary", 1).await.remove(0);
    assert_eq!(
        told.body(),
        Some("Not enough credits for a summary: 3 needed, 1 available. Top up and tap the button again.")
    );
    assert!(told.callback_data_of("Buy credits").is_some(), "{:?}", told.buttons());
    assert!(summary_jobs(&bot).await.is_empty());
    assert!(chat_requests(&openai).is_empty());
    assert_eq!(balance(&bot, 75).await, (credits("1"), Credits::ZERO));
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_transcript_that_is_gone_is_explained_and_nothing_is_held() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai, "10").await;
    let (user, _, footer) = transcribed(&bot, 76).await;
    sea_orm::ConnectionTrait::execute_unprepared(&bot.db.db, "DELETE FROM transcripts").await.unwrap();
    user.press_button(footer.message_id, &summary_button(&footer)).unwrap();
    let gone = Text::SummaryFailed { reason: SummaryFailureReason::NoTranscript }.render(Lang::En);
    let told = wait_for_texts(&bot, 76, &gone, 1).await.remove(0);
    assert_eq!(
        told.body(),
        Some("I could not summarise the transcript: this transcript no longer exists. You were not charged.")
    );
    assert!(summary_jobs(&bot).await.is_empty());
    assert!(chat_requests(&openai).is_empty());
    assert_eq!(balance(&bot, 76).await, (credits("10"), Credits::ZERO));
    worker.abort();
    bot.stop().await.unwrap();
}
