//! The whole product path: a user sends a recording to the bot, a worker
//! takes it from the Redis queue, and the transcript comes back in the chat.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use shared::{money::Credits, queue::JobQueue, users};
use support::spawn_bot_with;
use testkit::fake_openai::{Endpoint, FakeOpenAi};

/// 30 s of 16 kHz mono WAV: a tone with a silent second every five.
fn recording() -> Vec<u8> {
    let rate = 16_000u32;
    let mut data = Vec::new();
    for second in 0..30u32 {
        for i in 0..rate {
            let t = f64::from(second * rate + i) / f64::from(rate);
            let value =
                if second % 5 == 4 { 0.0 } else { (t * 180.0 * std::f64::consts::TAU).sin() * 9000.0 };
            data.extend_from_slice(&(value as i16).to_le_bytes());
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    for field in [16u32.to_le_bytes().to_vec(), 1u16.to_le_bytes().to_vec(), 1u16.to_le_bytes().to_vec()] {
        out.extend_from_slice(&field);
    }
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

#[tokio::test]
async fn an_audio_document_is_transcribed_through_the_queue_and_paid_once() {
    let openai = FakeOpenAi::start().await.unwrap();
    let base = openai.base_url();
    let bot = spawn_bot_with(move |_| {
        vec![
            ("STT_BASE_URL".into(), base),
            ("FREE_MINUTES_PER_DAY".into(), "0".into()),
            ("WELCOME_BONUS_CREDITS".into(), "50".into()),
        ]
    })
    .await;
    let state = &bot.state;
    let worker = tokio::spawn(worker::supervise_transcribe(
        JobQueue::new(state.redis.clone(), &state.settings.queue_namespace),
        worker::transcribe_context(&state.settings, state.db.clone(), state.store.clone()),
        2,
    ));

    let user = bot.telegram.user(51, "Dina", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    let file = bot.telegram.register_file(recording(), "audio/wav", None);
    user.send_document(&file, "interview.wav", None).unwrap();

    // A document has no duration: the bot holds for an estimate from its size
    // (30 credits here) and the worker charges the measured 30 s.
    let footer = bot
        .telegram
        .wait_until("the transcript footer", Duration::from_secs(60), |t| {
            t.messages(51).into_iter().find(|m| m.body().is_some_and(|b| b.starts_with("Duration 0:30")))
        })
        .await
        .unwrap_or_else(|err| {
            panic!("{err}: {:#?}", bot.telegram.messages(51).iter().map(|m| m.body()).collect::<Vec<_>>())
        });
    assert!(footer.body().unwrap().contains("7.5 credits charged"), "{:?}", footer.body());
    assert_eq!(openai.transcription_requests().len(), 1);
    assert_eq!(openai.peak_concurrency(Endpoint::Transcriptions), 1);

    // The .srt button sends the subtitles as a document.
    let data = footer.callback_data_of("Get .srt").unwrap();
    user.press_button(footer.message_id, &data).unwrap();
    let srt = bot
        .telegram
        .wait_until("the srt document", Duration::from_secs(10), |t| {
            t.messages(51)
                .into_iter()
                .find_map(|m| m.document.filter(|d| d.file_name.as_deref() == Some("transcript.srt")))
        })
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&srt.bytes).contains(" --> "));

    let stored = users::find_by_telegram_id(&bot.db.db, 51).await.unwrap().unwrap();
    let balance = state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(
        (balance.available, balance.held),
        (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO)
    );

    // The same file again: the stored text at once, free, no new request.
    let before = bot.telegram.messages(51).len();
    user.send_document(&file, "interview.wav", None).unwrap();
    let again = user.wait_for_messages(before + 2, Duration::from_secs(10)).await.unwrap();
    assert!(
        again[before].body().unwrap().contains("transcribed this file before"),
        "{:?}",
        again[before].body()
    );
    assert_eq!(
        again[before + 1].body().map(str::trim),
        std::str::from_utf8(&stored_text_of(&bot, &stored).await).ok().map(str::trim)
    );
    assert_eq!(openai.transcription_requests().len(), 1);
    let balance = state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(balance.available, Credits::new("42.5".parse().unwrap()).unwrap());
    worker.abort();
    bot.stop().await.unwrap();
}

/// The stored plain text of the user's only transcript.
async fn stored_text_of(bot: &support::TestBot, user: &shared::entities::users::Model) -> Vec<u8> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let transcript = shared::entities::transcripts::Entity::find()
        .filter(shared::entities::transcripts::Column::UserId.eq(user.id))
        .one(&bot.db.db)
        .await
        .unwrap()
        .unwrap();
    bot.state.store.get(&storage::ObjectKey::parse(&transcript.txt_key).unwrap()).await.unwrap().to_vec()
}
