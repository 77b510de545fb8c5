//! The bot in a group, end to end: added by someone, asked with
//! `/transcribe` in reply to a recording, switched to automatic mode by an
//! admin; the worker transcribes through the real queue, Postgres, Redis and
//! S3, against the fake Telegram (groups, members, privacy mode) and OpenAI.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use shared::ids::{ChatId, TelegramUserId};
use shared::{billing::money::Credits, people::users};
use support::{TestBot, spawn_bot_with};
use testkit::fake_openai::FakeOpenAi;
use testkit::fake_telegram::{SentMessage, TestGroup};

const WAIT: Duration = Duration::from_secs(60);

/// A worker consuming the bot's queue in this process, with its maintenance.
fn start_worker(bot: &TestBot) -> tokio::task::JoinHandle<()> {
    let transcribing = support::transcription_worker(bot, 2);
    let sweeping = support::maintenance(bot);
    tokio::spawn(async move {
        tokio::join!(transcribing, sweeping);
    })
}

/// The bot with the fake speech provider and `extra` settings.
async fn bot_with(openai: &FakeOpenAi, extra: &[(&str, &str)]) -> TestBot {
    let mut vars: Vec<(String, String)> = vec![("STT_BASE_URL".into(), openai.base_url())];
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    spawn_bot_with(move |_| vars).await
}

fn bodies(messages: &[SentMessage]) -> Vec<String> {
    messages.iter().map(|m| m.body().unwrap_or("<file>").to_owned()).collect()
}

/// Waits for a message of the bot in the group whose text starts with `start`.
async fn wait_for_text(bot: &TestBot, group: &TestGroup, start: &str) -> SentMessage {
    let id = group.id();
    bot.telegram
        .wait_until(start, WAIT, |t| {
            t.messages(id).into_iter().find(|m| !m.deleted && m.body().is_some_and(|b| b.starts_with(start)))
        })
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", bodies(&group.messages())))
}

/// Gives the bot a moment to say anything more, then returns what it said.
async fn settled(group: &TestGroup) -> Vec<SentMessage> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    group.messages()
}

/// Adds the bot to a new group as `adder`'s doing and waits for its introduction.
async fn group_with_bot(
    bot: &TestBot,
    id: i64,
    adder: &testkit::fake_telegram::TestUser,
    admin: bool,
) -> TestGroup {
    let group = bot.telegram.group(id, "Team", true);
    group.set_member(adder, "creator").unwrap();
    group.add_bot(adder, admin).unwrap();
    group.wait_for_messages(1, WAIT).await.unwrap();
    group
}

async fn balance_of(bot: &TestBot, telegram_id: i64) -> (Credits, Credits, u32) {
    let user = users::find_by_telegram_id(&bot.db.db, TelegramUserId(telegram_id)).await.unwrap().unwrap();
    let balance = bot.state.ledger.balance(&bot.db.db, user.id).await.unwrap();
    (balance.available, balance.held, balance.free_seconds_left_today)
}

fn credits(amount: &str) -> Credits {
    Credits::new(amount.parse().unwrap()).unwrap()
}

#[tokio::test]
async fn added_to_a_group_it_explains_itself_once_and_keeps_accounts_private() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[]).await;
    let owner = bot.telegram.user(301, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_301, &owner, false).await;

    let intro = &group.messages()[0];
    let text = intro.body().unwrap();
    assert!(text.starts_with("Hello! I turn voice notes"), "{text}");
    for said in ["/transcribe", "/auto on", "pays from their own balance", "privacy mode", "@fake_test_bot"] {
        assert!(text.contains(said), "{said:?} missing from {text}");
    }
    // The group has its own menu; private chats keep theirs.
    let group_menu = bot.telegram.commands(Some(&serde_json::json!({ "type": "all_group_chats" })), "en");
    assert_eq!(
        group_menu.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        ["transcribe", "auto", "help"]
    );
    let private_menu = bot.telegram.commands(None, "en");
    assert!(private_menu.iter().any(|(c, _)| c == "balance"));
    assert!(!private_menu.iter().any(|(c, _)| c == "transcribe"));

    // Made an admin: another my_chat_member update, no second introduction. With
    // privacy mode off it sees the conversation, and ignores it.
    group.add_bot(&owner, true).unwrap();
    bot.telegram.set_privacy_mode(false);
    let member = bot.telegram.user(302, "Pavel", Some("en"));
    group.set_member(&member, "member").unwrap();
    group.send_text(&member, "hi all, lunch at one?").unwrap();
    let voice = bot.telegram.register_file(testkit::audio::voice_note(5), "audio/ogg", Some(5));
    group.send_voice(&member, &voice).unwrap();
    assert_eq!(settled(&group).await.len(), 1, "{:#?}", bodies(&group.messages()));

    // Account commands answer with a way to a private chat, never with account data.
    let asked = group.send_text(&member, "/balance").unwrap();
    let answer = wait_for_text(&bot, &group, "I show accounts only in a private chat").await;
    assert_eq!(answer.reply_to_message_id, Some(asked));
    let button = &answer.buttons()[0];
    assert_eq!(button.url(), Some("https://t.me/fake_test_bot"));
    assert_eq!(settled(&group).await.len(), 2);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn transcribe_in_reply_is_charged_to_the_asker_free_minutes_first_and_answers_the_recording() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[("FREE_MINUTES_PER_DAY", "1"), ("WELCOME_BONUS_CREDITS", "50")]).await;
    let worker = start_worker(&bot);
    let owner = bot.telegram.user(311, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_311, &owner, false).await;
    let speaker = bot.telegram.user(312, "Sveta", Some("en"));
    let asker = bot.telegram.user(313, "Anton", Some("en"));
    group.set_member(&speaker, "member").unwrap();
    group.set_member(&asker, "member").unwrap();

    // Privacy mode is on: the voice note itself never reaches the bot, the reply does.
    let file = bot.telegram.register_file(testkit::audio::voice_note(90), "audio/ogg", Some(90));
    let voice = group.send_voice(&speaker, &file).unwrap();
    let asked = group.reply_to(&asker, voice, "/transcribe@fake_test_bot").unwrap();

    let footer = wait_for_text(&bot, &group, "Duration 1:30").await;
    // The asker, who never opened a private chat, got the welcome credit and a free minute;
    // the other 30 s cost 15 credits a minute.
    assert!(footer.body().unwrap().contains("7.5 credits charged"), "{:?}", footer.body());
    assert_eq!(balance_of(&bot, 313).await, (credits("42.5"), Credits::ZERO, 0));
    assert!(users::find_by_telegram_id(&bot.db.db, TelegramUserId(312)).await.unwrap().is_none());
    assert!(users::find_by_telegram_id(&bot.db.db, TelegramUserId(311)).await.unwrap().is_none());

    // One status message (answering the request, then edited), the transcript as a reply
    // to the recording, and the footer: nothing else.
    let said = settled(&group).await;
    let shown: Vec<&SentMessage> = said.iter().skip(1).filter(|m| !m.deleted).collect();
    assert_eq!(shown.len(), 3, "{:#?}", bodies(&said));
    assert_eq!(shown[0].reply_to_message_id, Some(asked));
    assert_eq!(shown[1].reply_to_message_id, Some(voice), "{:?}", shown[1].body());
    assert!(!shown[1].body().unwrap().trim().is_empty());
    assert_eq!(shown[2].message_id, footer.message_id);
    // No balance in the group.
    assert!(!bodies(&said).iter().any(|b| b.contains("42.5")), "{:#?}", bodies(&said));
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());

    // A mention in reply works as the command; a request not in reply gets the how-to.
    let how_to = group.send_text(&asker, "/transcribe").unwrap();
    let answer = wait_for_text(&bot, &group, "Reply to a voice note").await;
    assert_eq!(answer.reply_to_message_id, Some(how_to));
    assert_eq!(openai.transcription_requests().len(), 1);
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_member_who_cannot_pay_is_told_briefly_in_the_group() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[("FREE_MINUTES_PER_DAY", "0"), ("WELCOME_BONUS_CREDITS", "1")]).await;
    let owner = bot.telegram.user(321, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_321, &owner, false).await;
    let file = bot.telegram.register_file(testkit::audio::voice_note(60), "audio/ogg", Some(60));
    let voice = group.send_voice(&owner, &file).unwrap();
    let asked = group.reply_to(&owner, voice, "/transcribe").unwrap();
    let answer = wait_for_text(&bot, &group, "Olga, you do not have enough credits").await;
    assert_eq!(answer.reply_to_message_id, Some(asked));
    assert_eq!(answer.buttons()[0].url(), Some("https://t.me/fake_test_bot"));
    let said = settled(&group).await;
    assert_eq!(said.len(), 2, "{:#?}", bodies(&said));
    assert!(!answer.body().unwrap().contains('1'), "the balance shows: {:?}", answer.body());
    assert_eq!(balance_of(&bot, 321).await, (credits("1"), Credits::ZERO, 0));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn auto_on_by_a_member_who_is_not_an_admin_is_refused() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[]).await;
    let owner = bot.telegram.user(331, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_331, &owner, true).await;
    let member = bot.telegram.user(332, "Pavel", Some("en"));
    group.set_member(&member, "member").unwrap();

    let asked = group.send_text(&member, "/auto on").unwrap();
    let answer = wait_for_text(&bot, &group, "Only the group's admins").await;
    assert_eq!(answer.reply_to_message_id, Some(asked));
    let chat = ChatId(group.id());
    assert_eq!(shared::people::groups::auto_payer(&bot.db.db, chat).await.unwrap(), None);
    assert!(bot.telegram.calls("getChatMember").iter().any(|c| c.param_str("user_id") == Some("332".into())));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn auto_mode_transcribes_voice_notes_charged_to_the_admin_who_turned_it_on() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[("FREE_MINUTES_PER_DAY", "0"), ("WELCOME_BONUS_CREDITS", "50")]).await;
    let worker = start_worker(&bot);
    let owner = bot.telegram.user(341, "Olga", Some("en"));
    // An admin, so that with privacy mode on it still receives every voice note.
    let group = group_with_bot(&bot, -100_341, &owner, true).await;
    let admin = bot.telegram.user(342, "Dmitry", Some("en"));
    let speaker = bot.telegram.user(343, "Sveta", Some("en"));
    group.set_member(&admin, "administrator").unwrap();
    group.set_member(&speaker, "member").unwrap();

    group.send_text(&admin, "/auto on").unwrap();
    let on = wait_for_text(&bot, &group, "Automatic transcription is on").await;
    assert!(on.body().unwrap().contains("paid by Dmitry"), "{:?}", on.body());
    assert!(!on.body().unwrap().contains("cannot see"), "{:?}", on.body());

    let file = bot.telegram.register_file(testkit::audio::voice_note(30), "audio/ogg", Some(30));
    let voice = group.send_voice(&speaker, &file).unwrap();
    let footer = wait_for_text(&bot, &group, "Duration 0:30").await;
    assert!(footer.body().unwrap().contains("7.5 credits charged"), "{:?}", footer.body());
    let transcript = group
        .messages()
        .into_iter()
        .find(|m| m.reply_to_message_id == Some(voice) && m.message_id + 1 == footer.message_id);
    assert!(transcript.is_some(), "{:#?}", bodies(&group.messages()));
    assert_eq!(balance_of(&bot, 342).await, (credits("42.5"), Credits::ZERO, 0));
    assert!(users::find_by_telegram_id(&bot.db.db, TelegramUserId(343)).await.unwrap().is_none());

    // Off: the next voice note is left alone.
    group.send_text(&admin, "/auto off").unwrap();
    wait_for_text(&bot, &group, "Automatic transcription is off").await;
    let other = bot.telegram.register_file(testkit::audio::voice_note(20), "audio/ogg", Some(20));
    group.send_voice(&speaker, &other).unwrap();
    let before = group.messages().len();
    assert_eq!(settled(&group).await.len(), before);
    assert_eq!(openai.transcription_requests().len(), 1);
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_daily_cap_stops_auto_mode_with_one_notice() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(
        &openai,
        &[("FREE_MINUTES_PER_DAY", "0"), ("WELCOME_BONUS_CREDITS", "100"), ("GROUP_AUTO_DAILY_MINUTES", "1")],
    )
    .await;
    let worker = start_worker(&bot);
    let owner = bot.telegram.user(351, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_351, &owner, true).await;
    group.send_text(&owner, "/auto on").unwrap();
    wait_for_text(&bot, &group, "Automatic transcription is on").await;

    let first = bot.telegram.register_file(testkit::audio::voice_note(40), "audio/ogg", Some(40));
    group.send_voice(&owner, &first).unwrap();
    wait_for_text(&bot, &group, "Duration 0:40").await;

    // 40 s + 30 s passes the 1-minute cap: one notice, then silence for the day.
    for seconds in [30, 5, 10] {
        let file =
            bot.telegram.register_file(testkit::audio::voice_note(seconds), "audio/ogg", Some(seconds));
        group.send_voice(&owner, &file).unwrap();
    }
    wait_for_text(&bot, &group, "This chat reached today's 1 min.").await;
    let said = settled(&group).await;
    let notices = bodies(&said).iter().filter(|b| b.contains("reached today's")).count();
    assert_eq!(notices, 1, "{:#?}", bodies(&said));
    assert!(!bodies(&said).iter().any(|b| b.starts_with("Duration 0:30") || b.starts_with("Duration 0:05")));
    assert_eq!(openai.transcription_requests().len(), 1);
    assert_eq!(balance_of(&bot, 351).await, (credits("90"), Credits::ZERO, 0));

    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn requests_past_the_per_chat_limit_get_one_notice_then_silence() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[("GROUP_REQUESTS_PER_MINUTE", "3")]).await;
    let owner = bot.telegram.user(361, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_361, &owner, false).await;
    let other = bot.telegram.user(362, "Pavel", Some("en"));
    group.set_member(&other, "member").unwrap();
    // Counted per minute: start well inside one.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(u64::try_from(61 - second).unwrap())).await;
    }

    // Two people, one chat: the limit is the chat's.
    for n in 0..6 {
        let who = if n % 2 == 0 { &owner } else { &other };
        group.send_text(who, "/transcribe").unwrap();
    }
    wait_for_text(&bot, &group, "Too many requests").await;
    let said = settled(&group).await;
    let texts = bodies(&said);
    assert_eq!(texts.iter().filter(|b| b.starts_with("Reply to a voice note")).count(), 3, "{texts:#?}");
    assert_eq!(texts.iter().filter(|b| b.starts_with("Too many requests")).count(), 1, "{texts:#?}");
    assert_eq!(texts.len(), 1 + 3 + 1, "{texts:#?}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_anonymous_admin_is_asked_to_speak_as_themselves_and_nothing_is_queued() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[]).await;
    let owner = bot.telegram.user(371, "Olga", Some("en"));
    let group = group_with_bot(&bot, -100_371, &owner, true).await;

    // Telegram shows the group as the sender and `GroupAnonymousBot` in `from`: there is
    // nobody to charge, so the bot says so instead of staying silent.
    let file = bot.telegram.register_file(testkit::audio::voice_note(30), "audio/ogg", Some(30));
    let voice = group.send_voice(&owner, &file).unwrap();
    let asked = group.reply_anonymously(voice, "/transcribe").unwrap();
    let answer = wait_for_text(&bot, &group, "Сообщение отправлено от имени группы").await;
    assert_eq!(answer.reply_to_message_id, Some(asked));
    let switched = group.send_text_anonymously("/auto on").unwrap();
    let again = bot
        .telegram
        .wait_until("the second answer", WAIT, |t| {
            t.messages(group.id()).into_iter().find(|m| m.reply_to_message_id == Some(switched))
        })
        .await
        .unwrap();
    assert_eq!(again.body(), answer.body());

    let chat = ChatId(group.id());
    assert_eq!(shared::people::groups::auto_payer(&bot.db.db, chat).await.unwrap(), None);
    let said = settled(&group).await;
    assert_eq!(said.len(), 3, "{:#?}", bodies(&said));
    assert!(openai.transcription_requests().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_keeps_automatic_transcription() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = bot_with(&openai, &[("FREE_MINUTES_PER_DAY", "0"), ("WELCOME_BONUS_CREDITS", "50")]).await;
    let worker = start_worker(&bot);
    let owner = bot.telegram.user(381, "Olga", Some("en"));
    // A basic group, as every group starts.
    let group = bot.telegram.group(-381, "Team", false);
    group.set_member(&owner, "creator").unwrap();
    group.add_bot(&owner, true).unwrap();
    group.wait_for_messages(1, WAIT).await.unwrap();
    group.send_text(&owner, "/auto on").unwrap();
    wait_for_text(&bot, &group, "Automatic transcription is on").await;

    // The group becomes a supergroup with a new id: the setting follows it.
    let supergroup = group.upgrade_to_supergroup(&owner, -100_381).unwrap();
    let (old, new) = (ChatId(group.id()), ChatId(supergroup.id()));
    let deadline = tokio::time::Instant::now() + WAIT;
    let moved = loop {
        let payer = shared::people::groups::auto_payer(&bot.db.db, new).await.unwrap();
        if payer.is_some() || tokio::time::Instant::now() > deadline {
            break payer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let payer = users::find_by_telegram_id(&bot.db.db, TelegramUserId(381)).await.unwrap().unwrap();
    assert_eq!(moved, Some(payer.id));
    assert_eq!(shared::people::groups::auto_payer(&bot.db.db, old).await.unwrap(), None);

    let file = bot.telegram.register_file(testkit::audio::voice_note(30), "audio/ogg", Some(30));
    let voice = supergroup.send_voice(&owner, &file).unwrap();
    let footer = wait_for_text(&bot, &supergroup, "Duration 0:30").await;
    assert!(footer.body().unwrap().contains("7.5 credits charged"), "{:?}", footer.body());
    assert!(supergroup.messages().iter().any(|m| m.reply_to_message_id == Some(voice)));
    // Nothing more went to the old id (Telegram refuses it now).
    assert_eq!(group.messages().len(), 2, "{:#?}", bodies(&group.messages()));
    worker.abort();
    bot.stop().await.unwrap();
}
