//! The whole product path: a user sends a recording to the bot, a worker
//! takes it from the Redis queue, and the transcript comes back in the chat.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use shared::ids::TelegramUserId;
use shared::{billing::money::Credits, people::users};
use support::{TestBot, spawn_bot_with};
use testkit::fake_openai::{Endpoint, FakeOpenAi};

/// A worker consuming the bot's queue in this process, with its maintenance.
fn start_worker(bot: &TestBot, concurrency: usize) -> tokio::task::JoinHandle<()> {
    let transcribing = support::transcription_worker(bot, concurrency);
    let sweeping = support::maintenance(bot);
    tokio::spawn(async move {
        tokio::join!(transcribing, sweeping);
    })
}

/// Start of each SRT cue, in seconds.
fn cue_starts(srt: &str) -> Vec<f64> {
    srt.lines()
        .filter_map(|line| line.split_once(" --> "))
        .map(|(start, _)| {
            let (hms, millis) = start.trim().split_once(',').unwrap();
            let parts: Vec<f64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
            parts[0] * 3600.0 + parts[1] * 60.0 + parts[2] + millis.parse::<f64>().unwrap() / 1000.0
        })
        .collect()
}

/// 30 s of 16 kHz mono WAV: a tone with a silent second every five.
fn recording() -> Vec<u8> {
    testkit::audio::tone_wav(30, 180.0)
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
    let worker = start_worker(&bot, 2);

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

    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(51)).await.unwrap().unwrap();
    let balance = state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(
        (balance.available, balance.held),
        (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO)
    );

    // The same file again: the stored text at once, free, no new request, delivered as the
    // first time (text, then the footer with its buttons).
    let before = bot.telegram.messages(51).len();
    user.send_document(&file, "interview.wav", None).unwrap();
    let again = user.wait_for_messages(before + 3, Duration::from_secs(10)).await.unwrap();
    assert_eq!(again[before + 2].body(), Some("Duration 0:30, 0 credits charged."));
    assert!(again[before + 2].callback_data_of("Get .srt").is_some());
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

#[tokio::test]
async fn a_voice_note_is_transcribed_and_charged_after_the_free_minute() {
    let openai = FakeOpenAi::start().await.unwrap();
    let base = openai.base_url();
    let bot = spawn_bot_with(move |_| {
        vec![
            ("STT_BASE_URL".into(), base),
            ("FREE_MINUTES_PER_DAY".into(), "1".into()),
            ("WELCOME_BONUS_CREDITS".into(), "50".into()),
        ]
    })
    .await;
    let worker = start_worker(&bot, 2);
    let user = bot.telegram.user(52, "Oleg", Some("ru"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();

    let note = testkit::audio::voice_note(90);
    let file = bot.telegram.register_file(note, "audio/ogg", Some(90));
    user.send_voice(&file).unwrap();
    let footer = bot
        .telegram
        .wait_until("the transcript footer", Duration::from_secs(60), |t| {
            t.messages(52).into_iter().find(|m| m.body().is_some_and(|b| b.starts_with("Длительность 1:30")))
        })
        .await
        .unwrap_or_else(|err| {
            panic!("{err}: {:#?}", bot.telegram.messages(52).iter().map(|m| m.body()).collect::<Vec<_>>())
        });

    // The first 60 s were free; the other 30 s cost 15 a minute.
    assert!(footer.body().unwrap().contains("списано 7,5 кредита"), "{:?}", footer.body());
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(52)).await.unwrap().unwrap();
    let balance = bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(
        (balance.available, balance.held, balance.free_seconds_left_today),
        (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO, 0)
    );
    let text = String::from_utf8(stored_text_of(&bot, &stored).await).unwrap();
    assert!(!text.trim().is_empty());
    let delivered: String =
        bot.telegram.messages(52).iter().filter_map(|m| m.body()).collect::<Vec<_>>().join("\n");
    assert!(delivered.contains(text.trim()), "{delivered}");
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_thirty_minute_document_is_cut_transcribed_in_parallel_and_sent_as_files() {
    let openai = FakeOpenAi::start().await.unwrap();
    // Slow answers, so parallel chunks overlap at the provider.
    openai.set_latency(Endpoint::Transcriptions, Duration::from_millis(500));
    let base = openai.base_url();
    let bot = spawn_bot_with(move |_| {
        vec![
            ("STT_BASE_URL".into(), base),
            ("FREE_MINUTES_PER_DAY".into(), "0".into()),
            ("WELCOME_BONUS_CREDITS".into(), "500".into()),
            ("TRANSCRIPT_FILE_AFTER_CHARS".into(), "2000".into()),
        ]
    })
    .await;
    let worker = start_worker(&bot, 2);
    let user = bot.telegram.user(53, "Vera", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();

    // 30 minutes at 24 kbps: about 5.4 MB, as a document (no duration from Telegram).
    let lecture = testkit::audio::voice_note(1800);
    let file = bot.telegram.register_file(lecture, "audio/ogg", None);
    user.send_document(&file, "lecture.ogg", None).unwrap();
    let footer = bot
        .telegram
        .wait_until("the transcript footer", Duration::from_secs(180), |t| {
            t.messages(53).into_iter().find(|m| m.body().is_some_and(|b| b.contains("Duration")))
        })
        .await
        .unwrap_or_else(|err| {
            panic!("{err}: {:#?}", bot.telegram.messages(53).iter().map(|m| m.body()).collect::<Vec<_>>())
        });

    // Cut near every 10 minutes, sent at once.
    let requests = openai.transcription_requests();
    assert!(requests.len() >= 3, "{} chunks", requests.len());
    assert!(openai.peak_concurrency(Endpoint::Transcriptions) > 1);
    // The size suggested less than 30 minutes; the measured length is what is charged.
    assert_eq!(
        footer.body().unwrap(),
        "The text is long, so here it is as a file; the subtitles are one tap away.\n\
         Duration 30:00, 450 credits charged."
    );
    let told: Vec<String> =
        bot.telegram.messages(53).iter().filter_map(|m| m.body().map(str::to_owned)).collect();
    let raised = told.iter().filter(|b| b.starts_with("The recording lasts 30:00")).count();
    assert_eq!(raised, 1, "{told:#?}");
    assert!(told.iter().any(|b| b.contains("The price is 450 credits")), "{told:#?}");
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(53)).await.unwrap().unwrap();
    let balance = bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(50), Credits::ZERO));

    // Too long for messages: the text comes as one file carrying the footer, the subtitles
    // behind its button.
    let file_named = |name: &str| {
        bot.telegram
            .messages(53)
            .into_iter()
            .find_map(|m| m.document.filter(|d| d.file_name.as_deref() == Some(name)))
    };
    let txt = String::from_utf8(file_named("transcript.txt").unwrap().bytes.to_vec()).unwrap();
    assert!(file_named("transcript.srt").is_none(), "the subtitles come only when asked for");
    let data = footer.callback_data_of("Get .srt").unwrap();
    user.press_button(footer.message_id, &data).unwrap();
    let srt = bot
        .telegram
        .wait_until("the srt document", Duration::from_secs(10), |_| file_named("transcript.srt"))
        .await
        .unwrap();
    let srt = String::from_utf8(srt.bytes.to_vec()).unwrap();
    assert!(txt.len() > 2000, "{} characters", txt.len());
    // Subtitles run in order over the whole original recording, across chunk joins.
    let starts = cue_starts(&srt);
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "cue starts go back: {starts:?}");
    assert!(starts[0] < 60.0 && *starts.last().unwrap() > 1700.0, "{starts:?}");
    assert!(*starts.last().unwrap() < 1800.0);
    // Every chunk's text is in the transcript, each after the one before.
    let mut firsts: Vec<usize> = requests
        .iter()
        .map(|r| {
            let first = format!("{}-0", r.audio.as_ref().unwrap().hash);
            txt.find(&first).unwrap_or_else(|| panic!("{first} missing"))
        })
        .collect();
    firsts.sort_unstable();
    firsts.dedup();
    assert_eq!(firsts.len(), requests.len());

    // Progress was shown on the status message while it worked.
    let progress: Vec<String> = bot
        .telegram
        .calls("editMessageText")
        .iter()
        .filter_map(|c| c.param_str("text"))
        .filter(|t| t.starts_with("Transcribing"))
        .collect();
    assert!(progress.iter().all(|t| t.contains(" of 30 min…")), "{progress:?}");
    // Cut for the provider's eight lanes (STT_CONCURRENCY's default): eight chunks at once.
    assert_eq!(requests.len(), 8);
    // Its last word: how long the recording was and how long it took.
    let last = bot.telegram.calls("editMessageText").last().and_then(|c| c.param_str("text")).unwrap();
    assert!(last.starts_with("Done: 30:00 transcribed in "), "{last}");

    // The same lecture again: free and at once, and as a file again, not pages of text.
    let before = bot.telegram.messages(53).len();
    user.send_document(&file, "lecture.ogg", None).unwrap();
    let again = user.wait_for_messages(before + 2, Duration::from_secs(10)).await.unwrap();
    let names: Vec<_> = again[before..]
        .iter()
        .filter_map(|m| m.document.as_ref().and_then(|d| d.file_name.clone()))
        .collect();
    assert_eq!(names, ["transcript.txt"]);
    // One message: the footer and its buttons are the file's caption.
    let caption = again[before + 1].body().unwrap();
    assert!(caption.ends_with("\nDuration 30:00, 0 credits charged."), "{caption}");
    assert!(again[before + 1].callback_data_of("Summary").is_some());
    assert_eq!(openai.transcription_requests().len(), requests.len());
    worker.abort();
    bot.stop().await.unwrap();
}

/// The user's balance as (available, held).
async fn money_of(bot: &TestBot, telegram_id: i64) -> (Credits, Credits) {
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(telegram_id)).await.unwrap().unwrap();
    let balance = bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    (balance.available, balance.held)
}

/// The bot on the fake OpenAI with `vars`, one worker taking one job at a
/// time, and user `id` after `/start`.
async fn one_worker_and_a_user(
    openai: &FakeOpenAi,
    vars: &[(&str, &str)],
    id: i64,
    lang: &str,
) -> (TestBot, tokio::task::JoinHandle<()>, testkit::fake_telegram::TestUser) {
    let mut vars: Vec<(String, String)> =
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    vars.push(("STT_BASE_URL".into(), openai.base_url()));
    let bot = spawn_bot_with(move |_| vars).await;
    let worker = start_worker(&bot, 1);
    let user = bot.telegram.user(id, "Tester", Some(lang));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    (bot, worker, user)
}

/// The first message in chat `id` starting with `prefix`, or a failure showing the conversation.
async fn message_starting(bot: &TestBot, id: i64, prefix: &str) -> String {
    bot.telegram
        .wait_until(prefix, Duration::from_secs(60), |t| {
            t.messages(id)
                .into_iter()
                .find_map(|m| m.body().filter(|b| b.starts_with(prefix)).map(str::to_owned))
        })
        .await
        .unwrap_or_else(|err| {
            panic!("{err}: {:#?}", bot.telegram.messages(id).iter().map(|m| m.body()).collect::<Vec<_>>())
        })
}

#[tokio::test]
async fn a_voice_note_longer_than_telegrams_whole_seconds_is_free_inside_the_free_minutes() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker, user) =
        one_worker_and_a_user(&openai, &[("FREE_MINUTES_PER_DAY", "3")], 54, "ru").await;
    // 61.6 s of audio (62 s by the pricing rule); Telegram reports whole seconds: 61.
    // The balance is zero.
    let note = testkit::audio::voice_note_lasting(Duration::from_millis(61_600));
    let file = bot.telegram.register_file(note, "audio/ogg", Some(61));
    user.send_voice(&file).unwrap();
    let footer = message_starting(&bot, 54, "Длительность").await;
    assert!(footer.contains("списано 0 кредитов"), "{footer}");
    assert_eq!(money_of(&bot, 54).await, (Credits::ZERO, Credits::ZERO));
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(54)).await.unwrap().unwrap();
    // 62 billed seconds of the 180 free ones.
    assert_eq!(bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().free_seconds_left_today, 118);
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn boundary_durations_are_priced_by_one_rule_from_quote_to_footer() {
    let openai = FakeOpenAi::start().await.unwrap();
    let vars = [("FREE_MINUTES_PER_DAY", "3"), ("WELCOME_BONUS_CREDITS", "100")];
    let (bot, worker, first) = one_worker_and_a_user(&openai, &vars, 57, "en").await;
    let price_raised = |id: i64| {
        bot.telegram
            .messages(id)
            .into_iter()
            .filter_map(|m| m.body().map(str::to_owned))
            .find(|b| b.contains("The recording lasts"))
    };

    // 519.14 s that Telegram calls 519: 519 s everywhere, the quote stands, no notice.
    // 519 s less 180 free at 15 a minute: 84.75 credits.
    let note = testkit::audio::voice_note_lasting(Duration::from_millis(519_140));
    first.send_voice(&bot.telegram.register_file(note, "audio/ogg", Some(519))).unwrap();
    let queued = message_starting(&bot, 57, "Got it.").await;
    assert!(queued.contains("84.75 credits"), "{queued}");
    assert_eq!(message_starting(&bot, 57, "Duration").await, "Duration 8:39, 84.75 credits charged.");
    assert_eq!(price_raised(57), None);
    assert_eq!(money_of(&bot, 57).await, (Credits::new("15.25".parse().unwrap()).unwrap(), Credits::ZERO));
    // The price stays in sight under every status until the result arrives.
    let statuses: Vec<String> = bot
        .telegram
        .calls("editMessageText")
        .into_iter()
        .filter(|call| call.params["chat_id"].as_i64() == Some(57))
        .filter_map(|call| call.params["text"].as_str().map(str::to_owned))
        .collect();
    let (last, working) = statuses.split_last().unwrap();
    assert!(!working.is_empty());
    assert!(working.iter().all(|text| text.ends_with("Price: 84.75 credits.")), "{statuses:#?}");
    assert!(working.iter().any(|text| text.starts_with("Transcribing: 0 of 9 min…\n")), "{statuses:#?}");
    assert!(last.starts_with("Done: 8:39 transcribed in "), "{last}");
    // /history tells the same story in one line: no reservation lines, no double charge.
    first.send_command("/history").unwrap();
    let history = message_starting(&bot, 57, "Your history:").await;
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 3, "{history}");
    assert!(lines[1].ends_with("Transcription 8:39 — 84.75 credits"), "{history}");
    assert!(lines[2].ends_with("Bonus — +100 credits"), "{history}");

    // 3:00 with 3 free minutes: free. Then 59.5 s that Telegram calls 59: a minute,
    // 15 credits, a quarter more than the quote, which is rounding, not news.
    let second = bot.telegram.user(58, "Tester", Some("en"));
    second.send_command("/start").unwrap();
    second.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    let note = testkit::audio::voice_note_lasting(Duration::from_secs(180));
    second.send_voice(&bot.telegram.register_file(note, "audio/ogg", Some(180))).unwrap();
    assert_eq!(message_starting(&bot, 58, "Duration").await, "Duration 3:00, 0 credits charged.");
    assert_eq!(money_of(&bot, 58).await, (Credits::whole(100), Credits::ZERO));
    let note = testkit::audio::voice_note_lasting(Duration::from_millis(59_500));
    second.send_voice(&bot.telegram.register_file(note, "audio/ogg", Some(59))).unwrap();
    bot.telegram
        .wait_until("the second footer", Duration::from_secs(60), |t| {
            t.messages(58)
                .into_iter()
                .find_map(|m| m.body().filter(|b| b.starts_with("Duration 1:00")).map(str::to_owned))
        })
        .await
        .unwrap();
    let footers: Vec<String> = bot
        .telegram
        .messages(58)
        .into_iter()
        .filter_map(|m| m.body().filter(|b| b.starts_with("Duration")).map(str::to_owned))
        .collect();
    assert_eq!(footers, ["Duration 3:00, 0 credits charged.", "Duration 1:00, 15 credits charged."]);
    assert_eq!(price_raised(58), None);
    assert_eq!(money_of(&bot, 58).await, (Credits::whole(85), Credits::ZERO));
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_voice_note_whose_granules_claim_twenty_milliseconds_is_charged_for_its_real_length() {
    let openai = FakeOpenAi::start().await.unwrap();
    let vars = [("FREE_MINUTES_PER_DAY", "1"), ("WELCOME_BONUS_CREDITS", "50")];
    let (bot, worker, user) = one_worker_and_a_user(&openai, &vars, 55, "en").await;
    // 90 s of speech whose last page claims 20 ms (960 samples after the 312 of pre-skip),
    // sent by a client that also tells Telegram it lasts one second.
    let honest = testkit::audio::voice_note(90);
    let lying = testkit::hostile::ogg_set_last_granule(&honest, 312 + 960);
    let file = bot.telegram.register_file(lying, "audio/ogg", Some(1));
    user.send_voice(&file).unwrap();
    // 60 free seconds, then 30 s at 15 a minute.
    assert_eq!(message_starting(&bot, 55, "Duration").await, "Duration 1:30, 7.5 credits charged.");
    assert_eq!(money_of(&bot, 55).await, (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO));
    // Nothing past the real length went to the provider.
    let uploaded: f64 =
        openai.transcription_requests().iter().map(|r| r.audio.as_ref().map_or(0.0, |a| a.duration_s)).sum();
    assert!(uploaded <= 90.05, "{uploaded} s uploaded");
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_wav_claiming_an_absurd_sample_rate_fails_alone_and_the_next_recording_is_transcribed() {
    let openai = FakeOpenAi::start().await.unwrap();
    // One job at a time: the second waits behind the hostile one on the same worker.
    let vars = [("FREE_MINUTES_PER_DAY", "0"), ("WELCOME_BONUS_CREDITS", "50")];
    let (bot, worker, user) = one_worker_and_a_user(&openai, &vars, 56, "ru").await;
    let hostile = testkit::hostile::tiny_wav_claiming_rate(4_294_967_291);
    assert!(hostile.len() < 2048);
    let file = bot.telegram.register_file(hostile, "audio/wav", None);
    user.send_document(&file, "tiny.wav", None).unwrap();
    let file = bot.telegram.register_file(recording(), "audio/wav", None);
    user.send_document(&file, "interview.wav", None).unwrap();

    let footer = message_starting(&bot, 56, "Длительность 0:30").await;
    assert!(footer.contains("списано 7,5 кредита"), "{footer}");
    let refusal = message_starting(&bot, 56, "Не получилось расшифровать").await;
    assert_eq!(refusal, "Не получилось расшифровать: этот формат я не читаю. Деньги не списаны.");
    // Only the second recording was charged, and only it reached the provider.
    assert_eq!(money_of(&bot, 56).await, (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO));
    assert_eq!(openai.transcription_requests().len(), 1);
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn through_a_redis_outage_the_bot_answers_and_the_job_is_delivered_once_redis_is_back() {
    let mut redis = testkit::redis_server::RedisServer::start();
    let openai = FakeOpenAi::start().await.unwrap();
    let vars = [
        ("REDIS_URL", redis.url()),
        ("STT_BASE_URL", openai.base_url()),
        ("FREE_MINUTES_PER_DAY", "0".to_owned()),
        ("WELCOME_BONUS_CREDITS", "50".to_owned()),
        // A job whose push was lost is pushed again after this long.
        ("JOB_REPUSH_SECONDS", "2".to_owned()),
    ];
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    let bot = spawn_bot_with(move |_| vars).await;
    let worker = start_worker(&bot, 1);
    let user = bot.telegram.user(57, "Pavel", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();

    // Redis dies. A recording sent now is answered, held and stored as a job.
    redis.kill();
    let file = bot.telegram.register_file(recording(), "audio/wav", None);
    user.send_document(&file, "during-the-outage.wav", None).unwrap();
    // (A document: the hold is an estimate from its size, 30 credits here.)
    let answer = message_starting(&bot, 57, "Got it").await;
    assert!(answer.contains("Price: 30 credits"), "{answer}");
    assert_eq!(money_of(&bot, 57).await, (Credits::whole(20), Credits::whole(30)));

    // Redis comes back empty: the sweeper pushes the job again and the same worker, never
    // restarted, delivers it once.
    redis.restart();
    let footer = message_starting(&bot, 57, "Duration 0:30").await;
    assert_eq!(footer, "Duration 0:30, 7.5 credits charged.");
    assert_eq!(money_of(&bot, 57).await, (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO));
    assert_eq!(openai.transcription_requests().len(), 1);
    worker.abort();
    bot.stop().await.unwrap();
}

/// The language the stored transcript of `telegram_id`'s only recording was heard in.
async fn heard_language(bot: &TestBot, telegram_id: i64) -> Option<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use shared::entities::transcripts;
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(telegram_id)).await.unwrap().unwrap();
    let transcript = transcripts::Entity::find()
        .filter(transcripts::Column::UserId.eq(stored.id))
        .one(&bot.db.db)
        .await
        .unwrap()
        .expect("a stored transcript");
    transcript.language
}

#[tokio::test]
async fn a_short_clip_in_the_chosen_language_is_heard_in_it_not_guessed() {
    let openai = FakeOpenAi::start().await.unwrap();
    // As Whisper does on a few seconds of speech: detection guesses wrong.
    openai.mishear_short_clips("english", Duration::from_secs(10));
    let (bot, worker, user) = one_worker_and_a_user(&openai, &[], 71, "ru").await;
    user.send_command("/language").unwrap();
    let choose = user.wait_for_messages(2, Duration::from_secs(10)).await.unwrap().remove(1);
    let russian = choose.callback_data_of("Русский").expect("a Русский button");
    user.press_button(choose.message_id, &russian).unwrap();
    user.wait_for_messages(3, Duration::from_secs(10)).await.unwrap();

    user.send_voice(&bot.telegram.register_file(testkit::audio::voice_note(4), "audio/ogg", Some(4)))
        .unwrap();
    message_starting(&bot, 71, "Длительность 0:04").await;
    let requests = openai.transcription_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].language.as_deref(), Some("ru"), "the chosen language goes to the provider");
    // Whisper answers "russian"; we keep the code, as the Mini App shows it.
    assert_eq!(heard_language(&bot, 71).await.as_deref(), Some("ru"));

    // Left on automatic detection, the same kind of clip is guessed, and guessed wrong.
    let other = bot.telegram.user(72, "Auto", Some("ru"));
    other.send_command("/start").unwrap();
    other.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    other
        .send_voice(&bot.telegram.register_file(testkit::audio::voice_note(5), "audio/ogg", Some(5)))
        .unwrap();
    message_starting(&bot, 72, "Длительность 0:05").await;
    assert_eq!(openai.transcription_requests()[1].language, None);
    assert_eq!(heard_language(&bot, 72).await.as_deref(), Some("en"));
    worker.abort();
    bot.stop().await.unwrap();
}
