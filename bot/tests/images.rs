//! Pictures as a user meets them: commands and photos to the bot, a worker
//! draining the image queue, results back in the chat, the money exact.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::{EntityTrait, PaginatorTrait};
use shared::ids::TelegramUserId;
use shared::{billing::money::Credits, jobs::queue::JobQueue, people::users};
use support::{TestBot, spawn_bot_with};
use testkit::{
    fake_openai::{Endpoint, FakeOpenAi, Fault},
    fake_telegram::{SentMessage, TestUser},
};

const WAIT: Duration = Duration::from_secs(30);

/// The bot and an image worker on the fake OpenAI: 50 credits to start,
/// one free picture a month, 20 a picture, 25 an edit, 1 an idea.
async fn spawn(openai: &FakeOpenAi) -> (TestBot, tokio::task::JoinHandle<()>) {
    let base = openai.base_url();
    let bot = spawn_bot_with(move |_| {
        vec![
            ("IMAGE_BASE_URL".into(), base.clone()),
            ("IDEA_BASE_URL".into(), base),
            ("IMAGE_MODEL".into(), "gpt-image-1.5".into()),
            ("IMAGE_FREE_PER_MONTH".into(), "1".into()),
            ("IMAGE_MAX_PROMPT_CHARS".into(), "100".into()),
            ("WELCOME_BONUS_CREDITS".into(), "50".into()),
            // Failed attempts come back at once, so the outage test runs through all of them quickly.
            ("RETRY_BACKOFF_SECONDS".into(), "0".into()),
        ]
    })
    .await;
    let state = &bot.state;
    let drawing = worker::supervise_image(
        JobQueue::new(state.redis.clone(), &state.settings.queue_namespace),
        worker::image_context(
            &state.settings,
            worker::common(&state.settings, state.db.clone(), state.bot.clone()),
            state.store.clone(),
        )
        .unwrap(),
        2,
    );
    let sweeping = support::maintenance(&bot);
    let worker = tokio::spawn(async move {
        tokio::join!(drawing, sweeping);
    });
    (bot, worker)
}

async fn started(bot: &TestBot, id: i64) -> TestUser {
    let user = bot.telegram.user(id, "Ann", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    user
}

async fn wait_for_photos(bot: &TestBot, chat: i64, n: usize) -> Vec<SentMessage> {
    bot.telegram
        .wait_until(&format!("{n} pictures"), WAIT, |t| {
            let found: Vec<_> = t.messages(chat).into_iter().filter(|m| m.photo.is_some()).collect();
            (found.len() >= n).then_some(found)
        })
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", texts(bot, chat)))
}

fn texts(bot: &TestBot, chat: i64) -> Vec<String> {
    bot.telegram.messages(chat).iter().filter_map(|m| m.body().map(str::to_owned)).collect()
}

async fn wait_for_text(bot: &TestBot, chat: i64, needle: &str) -> SentMessage {
    bot.telegram
        .wait_until(needle, WAIT, |t| {
            t.messages(chat).into_iter().find(|m| m.body().is_some_and(|b| b.contains(needle)))
        })
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", texts(bot, chat)))
}

async fn balance(bot: &TestBot, telegram_id: i64) -> (Credits, Credits) {
    let user = users::find_by_telegram_id(&bot.db.db, TelegramUserId(telegram_id)).await.unwrap().unwrap();
    let balance = bot.state.ledger.balance(&bot.db.db, user.id).await.unwrap();
    (balance.available, balance.held)
}

async fn job_count(bot: &TestBot) -> u64 {
    shared::entities::jobs::Entity::find().count(&bot.db.db).await.unwrap()
}

#[tokio::test]
async fn image_draws_the_free_picture_first_then_charges_and_sends_the_original_on_request() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 61).await;

    let asked = user.send_command("/image a red fox in the snow").unwrap();
    let queued = wait_for_text(&bot, 61, "Got it.").await;
    assert_eq!(queued.body(), Some("Got it. Price: 0 credits (a free picture of this month). Drawing…"));
    let first = wait_for_photos(&bot, 61, 1).await;
    // The picture answers its request and quotes it: two that arrive together can be told apart.
    assert_eq!(first[0].caption.as_deref(), Some("“a red fox in the snow”\nDone. 0 credits charged."));
    assert_eq!(first[0].reply_to_message_id, Some(asked));
    assert_eq!(balance(&bot, 61).await, (Credits::whole(50), Credits::ZERO));

    user.send_command("/image a lighthouse at dusk").unwrap();
    let second = wait_for_photos(&bot, 61, 2).await;
    assert_eq!(second[1].caption.as_deref(), Some("“a lighthouse at dusk”\nDone. 20 credits charged."));
    assert_eq!(balance(&bot, 61).await, (Credits::whole(30), Credits::ZERO));
    let requests = openai.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].prompt.as_deref(), Some("a lighthouse at dusk"));
    assert_eq!(requests[1].model.as_deref(), Some("gpt-image-1.5"));
    // The status messages are replaced by the pictures.
    bot.telegram
        .wait_until("the status messages deleted", WAIT, |t| {
            let statuses: Vec<_> = t
                .messages(61)
                .into_iter()
                .filter(|m| m.body().is_some_and(|b| b.starts_with("Got it.")))
                .collect();
            (statuses.len() == 2 && statuses.iter().all(|m| m.deleted)).then_some(())
        })
        .await
        .unwrap();

    // "Full quality" sends the same picture as a PNG file.
    let data = second[1].callback_data_of("Full quality").unwrap();
    user.press_button(second[1].message_id, &data).unwrap();
    let original = bot
        .telegram
        .wait_until("the original", WAIT, |t| t.messages(61).into_iter().find_map(|m| m.document))
        .await
        .unwrap();
    assert_eq!(original.file_name.as_deref(), Some("image.png"));
    assert!(original.bytes.starts_with(b"\x89PNG"));
    assert_eq!(original.bytes, second[1].photo.as_ref().unwrap().bytes);

    // Once retention has deleted it, the button says so.
    sea_orm::ConnectionTrait::execute_unprepared(&bot.db.db, "UPDATE media_objects SET deleted_at = now()")
        .await
        .unwrap();
    user.press_button(second[1].message_id, &data).unwrap();
    wait_for_text(&bot, 61, "This picture has already been deleted from storage.").await;
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_menu_path_asks_for_a_prompt_and_bad_prompts_are_refused_without_a_job() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 62).await;

    user.send_command("/image").unwrap();
    let ask = wait_for_text(&bot, 62, "What should I draw?").await;
    assert_eq!(ask.reply_markup.as_ref().unwrap()["force_reply"], true);
    user.send_command(&format!("/image {}", "x".repeat(101))).unwrap();
    wait_for_text(&bot, 62, "The description is too long: 100 characters at most.").await;
    assert_eq!(job_count(&bot).await, 0);

    user.reply_to(ask.message_id, "a cat in a hat").unwrap();
    wait_for_photos(&bot, 62, 1).await;
    assert_eq!(openai.requests()[0].prompt.as_deref(), Some("a cat in a hat"));
    worker.abort();
    bot.stop().await.unwrap();
}

/// A real JPEG of `size` x `size` pixels.
fn jpeg(size: u32) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(size, size, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn an_uploaded_photo_is_edited_and_a_file_that_is_not_a_picture_is_refused_without_charge() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 63).await;

    let photo = bot.telegram.register_file(jpeg(64), "image/jpeg", None);
    let photo_message = user.send_photo(&photo, Some("make the sky purple")).unwrap();
    let edited = wait_for_photos(&bot, 63, 1).await;
    assert_eq!(edited[0].caption.as_deref(), Some("“make the sky purple”\nDone. 25 credits charged."));
    assert_eq!(edited[0].reply_to_message_id, Some(photo_message));
    assert_eq!(balance(&bot, 63).await, (Credits::whole(25), Credits::ZERO));
    let request = &openai.requests()[0];
    assert_eq!(
        (request.endpoint, request.prompt.as_deref()),
        (Endpoint::ImageEdits, Some("make the sky purple"))
    );

    // A text file with a caption: refused before anything is held.
    let notes = bot.telegram.register_file(b"shopping list: milk, eggs".to_vec(), "text/plain", None);
    user.send_document(&notes, "notes.txt", Some("make it blue")).unwrap();
    wait_for_text(&bot, 63, "This is not a picture.").await;
    // Named like a picture, but the bytes say otherwise.
    let fake = bot.telegram.register_file(b"GIF? no, plain text".to_vec(), "image/jpeg", None);
    user.send_document(&fake, "photo.jpg", Some("make it blue")).unwrap();
    bot.telegram
        .wait_until("two refusals", WAIT, |t| {
            let n = t.messages(63).iter().filter(|m| m.body() == Some(&*refusal())).count();
            (n == 2).then_some(())
        })
        .await
        .unwrap();
    assert_eq!(balance(&bot, 63).await, (Credits::whole(25), Credits::ZERO));
    assert_eq!(job_count(&bot).await, 1);

    // /edit in reply to the photo: the second edit takes the rest of the balance.
    user.reply_to(photo_message, "/edit add a moon").unwrap();
    let edited = wait_for_photos(&bot, 63, 2).await;
    assert_eq!(edited[1].caption.as_deref(), Some("“add a moon”\nDone. 25 credits charged."));
    assert_eq!(balance(&bot, 63).await, (Credits::ZERO, Credits::ZERO));
    assert_eq!(openai.requests().len(), 2);
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_photo_captioned_with_the_edit_command_is_edited() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 64).await;
    let photo = bot.telegram.register_file(jpeg(64), "image/jpeg", None);
    user.send_photo(&photo, Some("/edit add a hat")).unwrap();
    let edited = wait_for_photos(&bot, 64, 1).await;
    assert_eq!(edited[0].caption.as_deref(), Some("“add a hat”\nDone. 25 credits charged."));
    let request = &openai.requests()[0];
    assert_eq!((request.endpoint, request.prompt.as_deref()), (Endpoint::ImageEdits, Some("add a hat")));
    let how_to = shared::texts::i18n::Text::EditHowTo.render(shared::texts::i18n::Lang::En);
    assert!(bot.telegram.messages(64).iter().all(|m| m.body() != Some(how_to.as_str())), "no how-to");
    worker.abort();
    bot.stop().await.unwrap();
}

fn refusal() -> String {
    shared::texts::i18n::Text::NotAnImage.render(shared::texts::i18n::Lang::En)
}

#[tokio::test]
async fn idea_offers_three_prompts_and_a_tap_draws_one() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 64).await;

    openai.queue_chat_reply(
        "1. A red fox in fresh snow at dawn\n2. A fox astronaut on the moon\n3. An origami fox",
    );
    user.send_command("/idea fox").unwrap();
    let ideas = bot
        .telegram
        .wait_until("the ideas", WAIT, |t| t.messages(64).into_iter().find(|m| m.buttons().len() == 3))
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", texts(&bot, 64)));
    assert!(ideas.body().unwrap().contains("2. A fox astronaut on the moon"), "{:?}", ideas.body());
    assert!(ideas.body().unwrap().ends_with("1 credit charged."), "{:?}", ideas.body());
    assert_eq!(balance(&bot, 64).await, (Credits::whole(49), Credits::ZERO));

    let second = ideas.buttons()[1].clone();
    assert_eq!(second.text, "2. A fox astronaut on the moon");
    user.press_button(ideas.message_id, second.callback_data().unwrap()).unwrap();
    wait_for_photos(&bot, 64, 1).await;
    let drawn = openai.requests().into_iter().find(|r| r.endpoint == Endpoint::ImageGenerations).unwrap();
    assert_eq!(drawn.prompt.as_deref(), Some("A fox astronaut on the moon"));
    // The free picture of the month paid for it; the idea was charged once.
    assert_eq!(balance(&bot, 64).await, (Credits::whole(49), Credits::ZERO));

    // The same button again, twice at once: nothing is drawn or charged again.
    user.press_button(ideas.message_id, second.callback_data().unwrap()).unwrap();
    user.press_button(ideas.message_id, second.callback_data().unwrap()).unwrap();
    let already = shared::texts::i18n::Text::IdeaAlreadyPicked.render(shared::texts::i18n::Lang::En);
    bot.telegram
        .wait_until("two answers to the repeated taps", WAIT, |t| {
            (t.messages(64).iter().filter(|m| m.body() == Some(already.as_str())).count() == 2).then_some(())
        })
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", texts(&bot, 64)));
    let drawings = openai.requests().into_iter().filter(|r| r.endpoint == Endpoint::ImageGenerations).count();
    assert_eq!(drawings, 1);
    assert_eq!(balance(&bot, 64).await, (Credits::whole(49), Credits::ZERO));

    // The picture the bot drew can be edited in turn.
    let drawn_message = wait_for_photos(&bot, 64, 1).await.remove(0);
    user.reply_to(drawn_message.message_id, "/edit add a helmet").unwrap();
    let photos = wait_for_photos(&bot, 64, 2).await;
    assert_eq!(photos[1].caption.as_deref(), Some("“add a helmet”\nDone. 25 credits charged."));
    let edit = openai.requests().into_iter().find(|r| r.endpoint == Endpoint::ImageEdits).unwrap();
    assert_eq!(edit.prompt.as_deref(), Some("add a helmet"));
    assert_eq!(balance(&bot, 64).await, (Credits::whole(24), Credits::ZERO));
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_prompt_is_explained_and_costs_nothing() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 65).await;
    // Use up the free picture so the refused one holds money.
    user.send_command("/image a cat").unwrap();
    wait_for_photos(&bot, 65, 1).await;

    openai.fail_next(Endpoint::ImageGenerations, 1, Fault::ContentPolicy);
    user.send_command("/image something forbidden").unwrap();
    let told = wait_for_text(&bot, 65, "refused the request under its safety rules").await;
    assert!(told.body().unwrap().ends_with("You were not charged."));
    assert_eq!(balance(&bot, 65).await, (Credits::whole(50), Credits::ZERO));
    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_outage_is_retried_through_the_queue_then_the_hold_is_released() {
    let openai = FakeOpenAi::start().await.unwrap();
    let (bot, worker) = spawn(&openai).await;
    let user = started(&bot, 66).await;
    openai.fail_next(Endpoint::ImageGenerations, 1000, Fault::ServerError);
    user.send_command("/image a cat").unwrap();
    let told = bot
        .telegram
        .wait_until("the failure", Duration::from_secs(90), |t| {
            t.messages(66)
                .into_iter()
                .find(|m| m.body().is_some_and(|b| b.contains("picture service is unavailable")))
        })
        .await
        .unwrap_or_else(|err| panic!("{err}: {:#?}", texts(&bot, 66)));
    assert!(told.body().unwrap().ends_with("You were not charged."));
    assert_eq!(balance(&bot, 66).await, (Credits::whole(50), Credits::ZERO));
    let job = shared::entities::jobs::Entity::find().one(&bot.db.db).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (shared::entities::jobs::JobStatus::Failed, 5));
    // The free picture of the month is back too.
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(66)).await.unwrap().unwrap();
    let left = bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().free_images_left_this_month;
    assert_eq!(left, 1);
    worker.abort();
    bot.stop().await.unwrap();
}
