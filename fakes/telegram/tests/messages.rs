//! Sending, editing and deleting messages through teloxide, with Telegram's limits and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fake_telegram::{ButtonAction, FakeError, FakeTelegram};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, ReplyParameters, UpdateKind,
};
use teloxide::{ApiError, RequestError};

fn bot(tg: &FakeTelegram) -> Bot {
    Bot::new(tg.token()).set_api_url(tg.api_url())
}

#[tokio::test]
async fn get_me_describes_the_bot() {
    let tg = FakeTelegram::start_with_token("777:TEST-abc").await;
    let me = bot(&tg).get_me().await.unwrap();
    assert!(me.is_bot);
    assert_eq!(me.id.0, 777);
    assert_eq!(me.username(), tg.bot_username());
    assert!(me.can_join_groups);
}

#[tokio::test]
async fn text_limit_is_4096_utf16_units() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(10, "Ann", None);

    bot.send_message(ChatId(user.chat_id()), "a".repeat(4096)).await.unwrap();
    let err = bot.send_message(ChatId(user.chat_id()), "a".repeat(4097)).await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageIsTooLong)), "{err:?}");

    // Each emoji is two UTF-16 units: 2048 fit, 2049 do not.
    bot.send_message(ChatId(user.chat_id()), "😀".repeat(2048)).await.unwrap();
    let err = bot.send_message(ChatId(user.chat_id()), "😀".repeat(2049)).await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageIsTooLong)), "{err:?}");

    // Markup does not count, the visible text does.
    let html = format!("<b>{}</b>", "a".repeat(4096));
    bot.send_message(ChatId(user.chat_id()), html).parse_mode(ParseMode::Html).await.unwrap();

    let err = bot.send_message(ChatId(user.chat_id()), "   ").await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageTextIsEmpty)), "{err:?}");
    assert_eq!(user.messages().len(), 3);
}

#[tokio::test]
async fn bad_markup_is_rejected_like_telegram() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(11, "Ann", None);
    let err = bot
        .send_message(ChatId(user.chat_id()), "Total: 5.00")
        .parse_mode(ParseMode::MarkdownV2)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RequestError::Api(ApiError::CantParseEntities(text)) if text.contains("'.'")),
        "{err:?}"
    );

    let sent = bot
        .send_message(ChatId(user.chat_id()), "<b>Hi</b> &amp; bye")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(sent.text(), Some("Hi & bye"));
    let bold = &sent.entities().unwrap()[0];
    assert_eq!((bold.offset, bold.length), (0, 2));
    let recorded = user.last_message().unwrap();
    assert_eq!(recorded.text.as_deref(), Some("<b>Hi</b> &amp; bye"));
    assert_eq!(recorded.plain_text.as_deref(), Some("Hi & bye"));
    assert_eq!(recorded.parse_mode.as_deref(), Some("HTML"));
}

#[tokio::test]
async fn edits_are_applied_and_identical_edits_fail() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(12, "Ann", None);
    let keyboard = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Buy", "buy:1"),
        InlineKeyboardButton::url("Help", "https://example.com/help".parse().unwrap()),
    ]]);
    let sent =
        bot.send_message(ChatId(user.chat_id()), "Working…").reply_markup(keyboard.clone()).await.unwrap();

    let edited = bot
        .edit_message_text(ChatId(user.chat_id()), sent.id, "Done")
        .reply_markup(keyboard.clone())
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Done"));
    assert!(edited.edit_date().is_some());

    let err = bot
        .edit_message_text(ChatId(user.chat_id()), sent.id, "Done")
        .reply_markup(keyboard)
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageNotModified)), "{err:?}");

    let now = tg.message(user.chat_id(), sent.id.0).unwrap();
    assert_eq!(now.text.as_deref(), Some("Done"));
    assert_eq!(now.edit_count, 1);
    let rows = now.inline_keyboard();
    assert_eq!(rows[0][0].action, ButtonAction::Callback("buy:1".into()));
    assert_eq!(rows[0][1].url(), Some("https://example.com/help"));

    // Editing without reply_markup drops the keyboard, as Telegram does.
    bot.edit_message_text(ChatId(user.chat_id()), sent.id, "Done!").await.unwrap();
    assert!(tg.message(user.chat_id(), sent.id.0).unwrap().buttons().is_empty());

    let err = bot.edit_message_text(ChatId(user.chat_id()), MessageId(999), "x").await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageToEditNotFound)), "{err:?}");
}

#[tokio::test]
async fn delete_marks_deleted_and_a_second_delete_fails() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(13, "Ann", None);
    let sent = bot.send_message(ChatId(user.chat_id()), "bye").await.unwrap();
    bot.delete_message(ChatId(user.chat_id()), sent.id).await.unwrap();
    assert!(user.messages()[0].deleted);
    let err = bot.delete_message(ChatId(user.chat_id()), sent.id).await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageToDeleteNotFound)), "{err:?}");
}

#[tokio::test]
async fn unknown_chats_and_blocked_users_fail() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let err = bot.send_message(ChatId(424242), "hi").await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::ChatNotFound)), "{err:?}");

    let user = tg.user(14, "Ann", None);
    user.block_bot();
    let err = bot.send_message(ChatId(user.chat_id()), "hi").await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::BotBlocked)), "{err:?}");
    user.unblock_bot();
    bot.send_message(ChatId(user.chat_id()), "hi").await.unwrap();
}

#[tokio::test]
async fn button_presses_reach_the_bot_and_answers_are_recorded() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(15, "Ann", Some("ru"));
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Pay 10", "topup:10")]]);
    let sent = bot.send_message(ChatId(user.chat_id()), "Top up?").reply_markup(keyboard).await.unwrap();

    assert!(matches!(user.press_button(sent.id.0, "topup:999"), Err(FakeError::NoSuchButton { .. })));
    let query_id = user.press_button_labelled(sent.id.0, "Pay 10").unwrap();

    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::CallbackQuery(q) = &updates[0].kind else { panic!("{:?}", updates[0].kind) };
    assert_eq!(q.id.0, query_id);
    assert_eq!(q.data.as_deref(), Some("topup:10"));
    assert_eq!(q.from.language_code.as_deref(), Some("ru"));
    assert_eq!(q.regular_message().unwrap().id, sent.id);

    bot.answer_callback_query(q.id.clone()).text("Done").await.unwrap();
    let err = bot.answer_callback_query(q.id.clone()).await.unwrap_err();
    assert!(format!("{err}").contains("query ID is invalid"), "{err}");
    let answers = tg.callback_answers();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].text.as_deref(), Some("Done"));
}

#[tokio::test]
async fn replies_in_both_directions_carry_the_replied_message() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(16, "Ann", None);
    let question = bot.send_message(ChatId(user.chat_id()), "Your name?").await.unwrap();
    user.reply_to(question.id.0, "Ann").unwrap();
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::Message(answer) = &updates[0].kind else { panic!() };
    assert_eq!(answer.reply_to_message().unwrap().id, question.id);

    let reply = bot
        .send_message(ChatId(user.chat_id()), "Thanks")
        .reply_parameters(ReplyParameters::new(answer.id))
        .await
        .unwrap();
    assert_eq!(reply.reply_to_message().unwrap().text(), Some("Ann"));
    assert_eq!(user.last_message().unwrap().reply_to_message_id, Some(answer.id.0));

    let err = bot
        .send_message(ChatId(user.chat_id()), "x")
        .reply_parameters(ReplyParameters::new(MessageId(5000)))
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageToReplyNotFound)), "{err:?}");
}

#[tokio::test]
async fn chat_actions_and_commands_are_kept() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(17, "Ann", None);
    bot.send_chat_action(ChatId(user.chat_id()), teloxide::types::ChatAction::UploadDocument).await.unwrap();
    assert_eq!(tg.chat_actions(user.chat_id()), ["upload_document"]);

    let commands = [
        teloxide::types::BotCommand::new("start", "Start"),
        teloxide::types::BotCommand::new("balance", "Balance"),
    ];
    bot.set_my_commands(commands.clone()).language_code("ru").await.unwrap();
    assert!(bot.get_my_commands().await.unwrap().is_empty(), "other languages are separate");
    assert_eq!(bot.get_my_commands().language_code("ru").await.unwrap(), commands);
    assert_eq!(tg.commands(None, "ru")[1], ("balance".to_owned(), "Balance".to_owned()));
    bot.delete_my_commands().language_code("ru").await.unwrap();
    assert!(tg.commands(None, "ru").is_empty());
}

#[tokio::test]
async fn wait_for_messages_times_out() {
    let tg = FakeTelegram::start().await;
    let user = tg.user(18, "Ann", None);
    let err = user.wait_for_messages(1, Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(err, FakeError::Timeout { .. }));
}

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_refuses_its_old_id_naming_the_new_one() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let owner = tg.user(30, "Ann", None);
    let group = tg.group(-30, "Team", false);
    group.set_member(&owner, "creator").unwrap();
    group.add_bot(&owner, false).unwrap();
    bot.send_message(ChatId(group.id()), "hello").await.unwrap();

    let supergroup = group.upgrade_to_supergroup(&owner, -100_030).unwrap();
    let err = bot.send_message(ChatId(group.id()), "again").await.unwrap_err();
    assert!(matches!(err, RequestError::MigrateToChatId(ChatId(-100_030))), "{err:?}");
    bot.send_message(ChatId(supergroup.id()), "here now").await.unwrap();
    assert_eq!(supergroup.messages().len(), 1);

    // The bot hears of it in both chats, as service messages.
    let updates = bot.get_updates().await.unwrap();
    let migrations: Vec<(i64, Option<i64>, Option<i64>)> = updates
        .iter()
        .filter_map(|u| match &u.kind {
            UpdateKind::Message(m) => Some((
                m.chat.id.0,
                m.migrate_to_chat_id().map(|c| c.0),
                m.migrate_from_chat_id().map(|c| c.0),
            )),
            _ => None,
        })
        .filter(|(_, to, from)| to.is_some() || from.is_some())
        .collect();
    assert_eq!(migrations, [(-30, Some(-100_030), None), (-100_030, None, Some(-30))]);
    assert!(updates.iter().all(
        |u| !matches!(&u.kind, UpdateKind::Message(m) if m.chat.id.0 == -100_030 && !m.chat.is_supergroup())
    ));
}

#[tokio::test]
async fn an_anonymous_admin_speaks_as_the_group() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let owner = tg.user(31, "Ann", None);
    let group = tg.group(-100_031, "Team", true);
    group.set_member(&owner, "creator").unwrap();
    group.add_bot(&owner, true).unwrap();
    group.send_text_anonymously("/help").unwrap();
    let updates = bot.get_updates().await.unwrap();
    let help = updates
        .iter()
        .find_map(|u| match &u.kind {
            UpdateKind::Message(m) if m.text() == Some("/help") => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(help.sender_chat.as_ref().map(|c| c.id.0), Some(-100_031));
    let from = help.from.unwrap();
    assert!(from.is_bot);
    assert_eq!(from.id.0, 1_087_968_824);
}

#[tokio::test]
async fn copies_carry_the_content_without_a_link_to_the_original() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let admin = tg.user(20, "Ada", None);
    let reader = tg.user(21, "Ben", None);
    let (from, to) = (ChatId(admin.chat_id()), ChatId(reader.chat_id()));

    let text = admin.send_text("Big news!").unwrap();
    let copy = bot.copy_message(to, from, MessageId(text)).await.unwrap();
    let got = reader.last_message().unwrap();
    assert_eq!(got.message_id, copy.0);
    assert_eq!(got.text.as_deref(), Some("Big news!"));
    assert_eq!(got.copied_from, Some((admin.chat_id(), text)));
    assert_eq!(got.raw["from"]["is_bot"], true, "the bot sends the copy");
    assert!(got.raw.get("forward_origin").is_none(), "no link to the original");

    // A photo keeps its file; a new caption replaces the old one, none keeps it.
    let picture = tg.register_file(vec![7u8; 64], "image/jpeg", None);
    let photo = admin.send_photo(&picture, Some("old caption")).unwrap();
    bot.copy_message(to, from, MessageId(photo)).caption("new caption").await.unwrap();
    let got = reader.last_message().unwrap();
    assert_eq!(got.caption.as_deref(), Some("new caption"));
    assert_eq!(got.photo.unwrap().file_unique_id, picture.file_unique_id);
    bot.copy_message(to, from, MessageId(photo)).await.unwrap();
    assert_eq!(reader.last_message().unwrap().caption.as_deref(), Some("old caption"));

    // A voice note stays a voice note, with buttons when asked for.
    let audio = tg.register_file(vec![1u8; 100], "audio/ogg", Some(3));
    let voice = admin.send_voice(&audio).unwrap();
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Ok", "ok")]]);
    bot.copy_message(to, from, MessageId(voice)).reply_markup(keyboard).await.unwrap();
    let got = reader.last_message().unwrap();
    assert_eq!(got.raw["voice"]["file_unique_id"], audio.file_unique_id.as_str());
    assert_eq!(got.callback_data_of("Ok").as_deref(), Some("ok"));
    assert_eq!(reader.messages().len(), 4);

    // What Telegram refuses: a missing message, an unknown chat, a service message, a blocked reader.
    let err = bot.copy_message(to, from, MessageId(999)).await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::MessageToCopyNotFound)), "{err:?}");
    let err = bot.copy_message(to, ChatId(424242), MessageId(text)).await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::ChatNotFound)), "{err:?}");
    let paid = admin
        .pay(&fake_telegram::Payment {
            currency: "XTR".into(),
            total_amount: 10,
            invoice_payload: "p10".into(),
            telegram_payment_charge_id: "charge-1".into(),
            provider_payment_charge_id: String::new(),
        })
        .unwrap();
    let err = bot.copy_message(to, from, MessageId(paid)).await.unwrap_err();
    assert!(err.to_string().contains("message can't be copied"), "{err:?}");
    reader.block_bot();
    let err = bot.copy_message(to, from, MessageId(text)).await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::BotBlocked)), "{err:?}");
    assert_eq!(reader.messages().len(), 4, "nothing more arrived");
}
