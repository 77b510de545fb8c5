//! Subscription plans end to end: Stars subscriptions Telegram renews, YooKassa plans the
//! worker's maintenance renews with the saved card, cancellations, expiry and refunds.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use support::{TestBot, spawn_bot};
use testkit::{
    fake_telegram::{FakeError, TestUser},
    fake_yookassa::{Event, FakeYooKassa, StatusCode},
};

const WAIT: Duration = Duration::from_secs(15);

/// Basic: 10 minutes and 2 pictures every 30 days, 150 Stars or 299 ₽; Pro has a discount.
const PLANS: (&str, &str) = ("SUBSCRIPTION_PLANS", "Basic:299:150:10:2:0,Pro:699:350:60:20:10");

async fn spawn_with_yookassa(extra: &[(&str, &str)]) -> (FakeYooKassa, TestBot) {
    let mut vars = vec![PLANS];
    vars.extend_from_slice(extra);
    support::spawn_with_yookassa(&vars).await
}

/// One maintenance pass of the worker over this bot's services.
async fn maintenance_tick(bot: &TestBot) -> worker::maintenance::TickReport {
    maintenance_tick_with(bot, &bot.state.settings).await
}

/// One maintenance pass of a worker whose settings are `settings`.
async fn maintenance_tick_with(
    bot: &TestBot,
    settings: &shared::config::Settings,
) -> worker::maintenance::TickReport {
    let state = &bot.state;
    let services = shared::platform::services::Services {
        db: state.db.clone(),
        redis: state.redis.clone(),
        store: state.store.clone(),
    };
    let context = worker::maintenance_context(settings, &services, state.bot.clone()).unwrap();
    worker::maintenance::tick(&context).await.unwrap()
}

async fn execute(bot: &TestBot, sql: &str, values: Vec<sea_orm::Value>) {
    bot.db.db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await.unwrap();
}

async fn text_of(bot: &TestBot, sql: &str, values: Vec<sea_orm::Value>) -> Vec<String> {
    let rows = bot
        .db
        .db
        .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .await
        .unwrap();
    rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect()
}

/// Moves `user`'s plan `hours` into the past, as if that much time had gone by.
async fn age_plan(bot: &TestBot, user: &TestUser, hours: i64) {
    let interval = format!("{hours} hours");
    let owner = "(SELECT id FROM users WHERE telegram_id = $1)";
    execute(
        bot,
        &format!(
            "UPDATE subscription_periods p SET starts_at = starts_at - $2::interval, ends_at = ends_at - $2::interval \
             FROM subscriptions s WHERE s.id = p.subscription_id AND s.user_id = {owner}"
        ),
        vec![user.id().into(), interval.clone().into()],
    )
    .await;
    execute(
        bot,
        &format!(
            "UPDATE subscriptions SET paid_until = paid_until - $2::interval, \
             next_renewal_at = next_renewal_at - $2::interval WHERE user_id = {owner}"
        ),
        vec![user.id().into(), interval.into()],
    )
    .await;
}

/// `user`'s subscriptions as `status:periods`, oldest first.
async fn plans_of(bot: &TestBot, user: &TestUser) -> Vec<String> {
    text_of(
        bot,
        "SELECT s.status || ':' || (SELECT count(*) FROM subscription_periods p WHERE p.subscription_id = s.id) \
         FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE u.telegram_id = $1 AND s.status <> 'pending' \
         ORDER BY s.created_at",
        vec![user.id().into()],
    )
    .await
}

/// Opens `/plan` as `user` (who has seen `seen` messages) and presses `label`; answers the
/// message the press brought.
async fn press_in_plan_menu(
    user: &TestUser,
    seen: usize,
    label: &str,
) -> testkit::fake_telegram::SentMessage {
    user.send_command("/plan").unwrap();
    let menu = user.wait_for_messages(seen + 1, WAIT).await.unwrap().pop().unwrap();
    user.press_button_labelled(menu.message_id, label).unwrap();
    user.wait_for_messages(seen + 2, WAIT).await.unwrap().pop().unwrap()
}

/// `user`, new to the bot, pays the card plan labelled `label` on its YooKassa page; returns
/// that first payment once the plan is active.
async fn buy_card_plan(
    kassa: &FakeYooKassa,
    user: &TestUser,
    label: &str,
) -> testkit::fake_yookassa::Payment {
    press_in_plan_menu(user, 0, label).await;
    let first = kassa.payments().remove(0);
    kassa.succeed(&first.id).await.unwrap();
    user.wait_for_messages(3, WAIT).await.unwrap();
    first
}

#[tokio::test]
async fn a_stars_plan_is_bought_renewed_twice_once_each_cancelled_and_expires() {
    let bot = spawn_bot(&[PLANS]).await;
    let user = bot.telegram.user(61, "Vera", Some("en"));
    user.send_command("/plan").unwrap();
    let menu = user.wait_for_messages(1, WAIT).await.unwrap().pop().unwrap();
    let text = menu.body().unwrap();
    assert!(text.starts_with("You have no plan."), "{text}");
    assert!(
        text.contains("• Pro: 60 min of transcription and 20 pictures, 10% off credit packages"),
        "{text}"
    );
    user.press_button_labelled(menu.message_id, "Basic for 150 ⭐ a month").unwrap();
    let offer = user.wait_for_messages(2, WAIT).await.unwrap().pop().unwrap();
    let invoice = bot.telegram.invoices().pop().expect("a subscription invoice link");
    assert_eq!((invoice.currency.as_str(), invoice.total_amount), ("XTR", 150));
    assert_eq!(invoice.params["subscription_period"], serde_json::json!(2_592_000));
    assert_eq!(offer.buttons()[0].url(), invoice.link.as_deref(), "the message links the invoice");

    // Telegram checks the order, then charges the first period.
    let query = user.pre_checkout("XTR", 150, &invoice.payload).unwrap();
    bot.telegram.wait_until("the answer", WAIT, |t| t.pre_checkout_answers().first().cloned()).await.unwrap();
    assert!(bot.telegram.pre_checkout_answers().iter().any(|a| a.pre_checkout_query_id == query && a.ok));
    user.subscribe(&invoice, "sub-charge-1").unwrap();
    let active = user.wait_for_messages(3, WAIT).await.unwrap().pop().unwrap();
    assert!(active.body().unwrap().starts_with("Plan Basic is active until"), "{active:?}");
    assert_eq!(plans_of(&bot, &user).await, ["active:1"]);

    // /balance shows what the plan includes.
    user.send_command("/balance").unwrap();
    let balance = user.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    assert!(
        balance.body().unwrap().contains("Plan Basic: 10 min and 2 pictures left, renews on"),
        "{balance:?}"
    );

    // Two renewals, the second delivered twice: each extends the plan once.
    user.renew_subscription("sub-charge-1", "sub-charge-2").unwrap();
    user.wait_for_messages(5, WAIT).await.unwrap();
    user.renew_subscription("sub-charge-1", "sub-charge-3").unwrap();
    user.renew_subscription("sub-charge-1", "sub-charge-3").unwrap();
    user.wait_for_messages(6, WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 6, "a repeated renewal is told once: {:?}", user.last_message());
    assert_eq!(plans_of(&bot, &user).await, ["active:3"]);
    let paid = text_of(
        &bot,
        "SELECT provider_payment_id || ':' || status || ':' || credits::text FROM payments \
         WHERE subscription_id IS NOT NULL AND status <> 'pending' ORDER BY created_at",
        vec![],
    )
    .await;
    assert_eq!(paid.len(), 3, "{paid:?}");
    assert!(paid.iter().all(|p| p.contains(":succeeded:0")), "no credits for a plan: {paid:?}");
    // The plan now runs until the third charge's expiration date, 90 days on.
    let until = text_of(
        &bot,
        "SELECT (extract(epoch FROM paid_until - now()) / 86400)::int::text FROM subscriptions WHERE status = 'active'",
        vec![],
    )
    .await;
    assert_eq!(until, ["90"]);

    // Cancelled from /plan: Telegram is told, the plan runs to its end.
    let cancelled = press_in_plan_menu(&user, 6, "Cancel renewal").await;
    assert!(cancelled.body().unwrap().starts_with("Renewal cancelled. The plan runs until"), "{cancelled:?}");
    assert_eq!(bot.telegram.star_subscription_canceled("sub-charge-1"), Some(true));
    assert_eq!(plans_of(&bot, &user).await, ["canceled:3"]);
    assert!(matches!(
        user.renew_subscription("sub-charge-1", "sub-charge-4"),
        Err(FakeError::SubscriptionCanceled(_))
    ));

    // Re-enabled, then cancelled again.
    let resumed = press_in_plan_menu(&user, 8, "Renew again").await;
    assert!(resumed.body().unwrap().starts_with("The plan will renew again on"), "{resumed:?}");
    assert_eq!(bot.telegram.star_subscription_canceled("sub-charge-1"), Some(false));
    press_in_plan_menu(&user, 10, "Cancel renewal").await;

    // 91 days later the last period is over: the plan ends and its user is told.
    age_plan(&bot, &user, 91 * 24).await;
    assert_eq!(
        bot.state
            .ledger
            .balance(&bot.db.db, shared::ids::UserId(user_id(&bot, &user).await))
            .await
            .unwrap()
            .plan,
        None
    );
    let report = maintenance_tick(&bot).await;
    assert_eq!(report.plans_ended, 1);
    let ended = user.wait_for_messages(13, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(ended.body(), Some("Plan Basic has ended. Subscribe again in /plan."));
    assert_eq!(plans_of(&bot, &user).await, ["ended:3"]);
    assert_eq!(maintenance_tick(&bot).await.plans_ended, 0, "ended once");
    bot.stop().await.unwrap();
}

async fn user_id(bot: &TestBot, user: &TestUser) -> i64 {
    shared::people::users::find_by_telegram_id(&bot.db.db, shared::ids::TelegramUserId(user.id()))
        .await
        .unwrap()
        .unwrap()
        .id
        .0
}

#[tokio::test]
async fn a_refunded_stars_plan_ends_at_once_and_stops_renewing() {
    let bot = spawn_bot(&[PLANS, ("ADMIN_TELEGRAM_IDS", "90")]).await;
    let admin = bot.telegram.user(90, "Admin", Some("en"));
    let user = bot.telegram.user(62, "Gleb", Some("en"));
    // Two links asked for before paying either: once one is paid, the other is refused.
    press_in_plan_menu(&user, 0, "Basic for 150 ⭐ a month").await;
    let basic = bot.telegram.invoices().pop().unwrap();
    press_in_plan_menu(&user, 2, "Pro for 350 ⭐ a month").await;
    let invoice = bot.telegram.invoices().pop().unwrap();
    user.subscribe(&invoice, "pro-charge-1").unwrap();
    user.wait_for_messages(5, WAIT).await.unwrap();
    let second = user.pre_checkout("XTR", 150, &basic.payload).unwrap();
    let answer = bot
        .telegram
        .wait_until("the answer", WAIT, |t| {
            t.pre_checkout_answers().into_iter().find(|a| a.pre_checkout_query_id == second)
        })
        .await
        .unwrap();
    assert!(!answer.ok, "{answer:?}");
    // Pro members buy packages 10% cheaper.
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(6, WAIT).await.unwrap().pop().unwrap();
    assert!(packages.buttons().iter().any(|b| b.text == "100 credits for 90 ⭐"), "{:?}", packages.buttons());

    // The operator's card of the user shows the plan.
    admin.send_command("/user 62").unwrap();
    let card = admin.wait_for_messages(1, WAIT).await.unwrap().pop().unwrap();
    assert!(card.body().unwrap().contains("Plan Pro: 60 min and 20 pictures left, renews on"), "{card:?}");

    admin.send_command("/refund pro-charge-1").unwrap();
    admin.wait_for_messages(2, WAIT).await.unwrap();
    assert_eq!(bot.telegram.star_refunds().len(), 1);
    assert_eq!(plans_of(&bot, &user).await, ["ended:1"]);
    assert_eq!(bot.telegram.star_subscription_canceled("pro-charge-1"), Some(true));
    let uid = shared::ids::UserId(user_id(&bot, &user).await);
    assert_eq!(bot.state.ledger.balance(&bot.db.db, uid).await.unwrap().plan, None);
    let audit = text_of(&bot, "SELECT action FROM audit_log WHERE action = 'payment.refund'", vec![]).await;
    assert_eq!(audit.len(), 1);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_yookassa_plan_is_renewed_by_maintenance_with_the_saved_card_and_a_declined_card_is_retried_then_told()
 {
    let (kassa, bot) = spawn_with_yookassa(&[
        ("YOOKASSA_RECEIPT_EMAIL", "receipts@example.com"),
        ("YOOKASSA_VAT_CODE", "1"),
    ])
    .await;
    let user = bot.telegram.user(63, "Oleg", Some("en"));
    let link = press_in_plan_menu(&user, 0, "Basic for 299 ₽ a month (card)").await;
    assert!(
        link.body().unwrap().starts_with("Plan Basic for 299 ₽ a month: pay on the YooKassa page."),
        "{link:?}"
    );
    let first = kassa.payments().remove(0);
    let request = kassa.creation_request(&first.id).unwrap();
    assert_eq!(request["save_payment_method"], serde_json::json!(true));
    assert_eq!(
        link.buttons()[0].url(),
        first.confirmation.as_ref().and_then(|c| c.confirmation_url.as_deref())
    );
    kassa.succeed(&first.id).await.unwrap();
    let active = user.wait_for_messages(3, WAIT).await.unwrap().pop().unwrap();
    assert!(active.body().unwrap().starts_with("Plan Basic is active until"), "{active:?}");
    assert_eq!(plans_of(&bot, &user).await, ["active:1"]);

    // Nothing is due for 29 days.
    assert_eq!(maintenance_tick(&bot).await.plans_renewed, 0);
    assert_eq!(kassa.payments().len(), 1);

    // Within a day of the end, maintenance charges the saved card: once, with a receipt.
    age_plan(&bot, &user, 29 * 24 + 1).await;
    assert_eq!(maintenance_tick(&bot).await.plans_renewed, 1);
    assert_eq!(maintenance_tick(&bot).await.plans_renewed, 0, "a period is renewed once");
    let payments = kassa.payments();
    assert_eq!(payments.len(), 2);
    let renewal = kassa.creation_request(&payments[1].id).unwrap();
    assert_eq!(
        renewal["payment_method_id"],
        serde_json::json!(first.id),
        "the card saved with the first payment"
    );
    assert!(renewal.get("confirmation").is_none(), "{renewal}");
    assert_eq!(renewal["receipt"]["items"][0]["amount"]["value"], "299.00", "{renewal}");
    let renewed = user.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    assert!(renewed.body().unwrap().starts_with("Plan Basic is active until"), "{renewed:?}");
    assert_eq!(plans_of(&bot, &user).await, ["active:2"]);

    // The card is declined: tried again after a pause, three times, then the user is told.
    kassa.decline_saved_method(&first.id, Some("insufficient_funds"));
    age_plan(&bot, &user, 30 * 24 + 2).await;
    for attempt in 1..=3 {
        assert_eq!(maintenance_tick(&bot).await.plans_renewed, 0);
        assert_eq!(kassa.payments().len(), 2 + attempt, "attempt {attempt}");
        // Nothing more until the retry is due.
        maintenance_tick(&bot).await;
        assert_eq!(kassa.payments().len(), 2 + attempt, "attempt {attempt} waits for its retry");
        execute(&bot, "UPDATE subscriptions SET next_renewal_at = now() - interval '1 second'", vec![]).await;
    }
    let told = user.wait_for_messages(5, WAIT).await.unwrap().pop().unwrap();
    assert!(
        told.body().unwrap().starts_with("We could not renew plan Basic with your saved card."),
        "{told:?}"
    );
    assert_eq!(plans_of(&bot, &user).await, ["canceled:2"]);
    maintenance_tick(&bot).await;
    assert_eq!(kassa.payments().len(), 5, "no renewal once it gave up");
    // Declined renewals are not told one by one, whoever settles them (maintenance or the
    // notification): only the end of the retries is.
    kassa.wait_for_deliveries(5, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(user.messages().len(), 5, "{:?}", user.last_message());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_yookassa_plan_forgets_the_card_and_a_refund_notification_ends_it() {
    let (kassa, bot) = spawn_with_yookassa(&[]).await;
    let user = bot.telegram.user(64, "Rita", Some("ru"));
    let first = buy_card_plan(&kassa, &user, "Basic за 299 ₽ в месяц (карта)").await;
    let cancelled = press_in_plan_menu(&user, 3, "Отменить продление").await;
    assert!(cancelled.body().unwrap().starts_with("Продление отменено. Тариф действует до"), "{cancelled:?}");
    let method = text_of(
        &bot,
        "SELECT coalesce(payment_method_id, 'none') FROM subscriptions WHERE status <> 'pending'",
        vec![],
    )
    .await;
    assert_eq!(method, ["none"]);
    age_plan(&bot, &user, 29 * 24 + 1).await;
    assert_eq!(maintenance_tick(&bot).await.plans_renewed, 0);
    assert_eq!(kassa.payments().len(), 1, "a cancelled plan is not charged");

    // A refund made in YooKassa's dashboard ends the plan, once however often it is told.
    let client = bot.state.yookassa.clone().unwrap();
    let refund =
        client.create_refund(&first.id, "299".parse().unwrap(), "dashboard", "plan-1").await.unwrap();
    let notice = user.wait_for_messages(6, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(notice.body(), Some("Вам возвращено 299 ₽."));
    assert_eq!(plans_of(&bot, &user).await, ["ended:1"]);
    let statuses = kassa.notify(&refund.id, Event::RefundSucceeded, 3, true).await.unwrap();
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(user.messages().len(), 6);
    assert_eq!(plans_of(&bot, &user).await, ["ended:1"]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn deleting_ones_data_forgets_the_card_and_the_plan_runs_out_unrenewed() {
    let (kassa, bot) = spawn_with_yookassa(&[]).await;
    let user = bot.telegram.user(65, "Lev", Some("en"));
    buy_card_plan(&kassa, &user, "Basic for 299 ₽ a month (card)").await;

    user.send_command("/deletemydata").unwrap();
    let question = user.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    user.press_button(question.message_id, &question.callback_data_of("Delete my data").unwrap()).unwrap();
    let told = user.wait_for_messages(6, WAIT).await.unwrap();
    assert!(told[4].body().unwrap().starts_with("Your data is deleted."), "{told:?}");
    assert!(told[5].body().unwrap().starts_with("Renewal cancelled. The plan runs until"), "{told:?}");
    let method = text_of(
        &bot,
        "SELECT status || ':' || coalesce(payment_method_id, 'none') FROM subscriptions WHERE status <> 'pending'",
        vec![],
    )
    .await;
    assert_eq!(method, ["canceled:none"]);
    age_plan(&bot, &user, 29 * 24 + 1).await;
    assert_eq!(maintenance_tick(&bot).await.plans_renewed, 0);
    assert_eq!(kassa.payments().len(), 1, "a deleted account's card is not charged");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_plan_paid_while_one_runs_grants_nothing_and_is_refunded_once() {
    let (kassa, bot) = spawn_with_yookassa(&[]).await;
    let user = bot.telegram.user(66, "Ada", Some("en"));
    // Two pages opened before either was paid, both paid.
    press_in_plan_menu(&user, 0, "Basic for 299 ₽ a month (card)").await;
    press_in_plan_menu(&user, 2, "Pro for 699 ₽ a month (card)").await;
    let pages = kassa.payments();
    assert_eq!(pages.len(), 2);
    kassa.succeed(&pages[0].id).await.unwrap();
    let active = user.wait_for_messages(5, WAIT).await.unwrap().pop().unwrap();
    assert!(active.body().unwrap().starts_with("Plan Basic is active until"), "{active:?}");
    kassa.succeed(&pages[1].id).await.unwrap();
    let told = user.wait_for_messages(6, WAIT).await.unwrap().pop().unwrap();
    assert!(
        told.body().unwrap().starts_with("You already have plan Basic until")
            && told.body().unwrap().contains("we are returning it to you"),
        "{told:?}"
    );
    assert_eq!(plans_of(&bot, &user).await, ["active:1", "ended:1"]);
    let uid = shared::ids::UserId(user_id(&bot, &user).await);
    let balance = bot.state.ledger.balance(&bot.db.db, uid).await.unwrap();
    let plan = balance.plan.unwrap();
    assert_eq!((plan.period.plan.as_str(), plan.seconds_left), ("basic", 600), "the first plan goes on");

    // Part of it was given back in YooKassa's dashboard first.
    let client = bot.state.yookassa.clone().unwrap();
    client.create_refund(&pages[1].id, "100".parse().unwrap(), "dashboard", "part-1").await.unwrap();
    let part = user.wait_for_messages(7, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(part.body(), Some("100 RUB has been returned to you."));

    // Maintenance gives the rest back, once however often it runs.
    assert_eq!(maintenance_tick(&bot).await.duplicates_refunded, 1);
    assert_eq!(maintenance_tick(&bot).await.duplicates_refunded, 0);
    let refunds = kassa.refunds();
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[1].payment_id, pages[1].id);
    assert_eq!(refunds[1].amount.value, "599".parse().unwrap());
    let back = user.wait_for_messages(8, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(back.body(), Some("599 RUB has been returned to you."));
    let statuses = text_of(&bot, "SELECT status::text FROM payments ORDER BY created_at", vec![]).await;
    assert_eq!(statuses, ["succeeded", "refunded"]);
    // YooKassa's own notifications of those refunds change nothing and tell nothing more.
    kassa.wait_for_deliveries(4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(user.messages().len(), 8, "{:?}", user.last_message());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_stars_plan_paid_while_one_runs_is_cancelled_at_telegram_and_refunded() {
    let bot = spawn_bot(&[PLANS]).await;
    let user = bot.telegram.user(67, "Ivan", Some("en"));
    // Both links opened and paid before either payment reached the bot.
    press_in_plan_menu(&user, 0, "Basic for 150 ⭐ a month").await;
    press_in_plan_menu(&user, 2, "Basic for 150 ⭐ a month").await;
    let invoices = bot.telegram.invoices();
    assert_eq!(invoices.len(), 2);
    user.subscribe(&invoices[0], "first-plan").unwrap();
    user.wait_for_messages(5, WAIT).await.unwrap();
    user.subscribe(&invoices[1], "second-plan").unwrap();
    let told = user.wait_for_messages(6, WAIT).await.unwrap().pop().unwrap();
    assert!(told.body().unwrap().starts_with("You already have plan Basic until"), "{told:?}");
    assert_eq!(plans_of(&bot, &user).await, ["active:1", "ended:1"]);

    assert_eq!(maintenance_tick(&bot).await.duplicates_refunded, 1);
    assert_eq!(maintenance_tick(&bot).await.duplicates_refunded, 0);
    assert_eq!(bot.telegram.star_subscription_canceled("second-plan"), Some(true), "it never renews");
    assert_eq!(bot.telegram.star_subscription_canceled("first-plan"), Some(false));
    let refunds = bot.telegram.star_refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].telegram_payment_charge_id, "second-plan");
    let back = user.wait_for_messages(7, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(back.body(), Some("150 ⭐ were returned to you."));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 7, "told once: {:?}", user.last_message());
    assert_eq!(plans_of(&bot, &user).await, ["active:1", "ended:1"]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_plan_taken_off_sale_keeps_what_it_was_bought_with_and_stops_renewing() {
    let (kassa, bot) = spawn_with_yookassa(&[]).await;
    let card = bot.telegram.user(68, "Nina", Some("en"));
    buy_card_plan(&kassa, &card, "Pro for 699 ₽ a month (card)").await;
    let stars = bot.telegram.user(69, "Olga", Some("ru"));
    press_in_plan_menu(&stars, 0, "Pro за 350 ⭐ в месяц").await;
    stars.subscribe(&bot.telegram.invoices().pop().unwrap(), "pro-stars").unwrap();
    stars.wait_for_messages(3, WAIT).await.unwrap();

    // The operator stops selling Pro and gives Basic more: Pro's subscribers keep Pro's terms.
    let mut settings = (*bot.state.settings).clone();
    settings.pricing.plans = "Basic:299:150:90:5:0".parse().unwrap();
    let ledger = shared::billing::ledger::Ledger::new(settings.pricing.clone());
    let uid = shared::ids::UserId(user_id(&bot, &card).await);
    let plan = ledger.balance(&bot.db.db, uid).await.unwrap().plan.unwrap();
    assert_eq!((plan.seconds_left, plan.images_left, plan.period.terms.discount_percent), (3600, 20, 10));

    // Both stop renewing at once (the Stars one at Telegram), and each user is told once.
    assert_eq!(maintenance_tick_with(&bot, &settings).await.plans_withdrawn, 2);
    assert_eq!(maintenance_tick_with(&bot, &settings).await.plans_withdrawn, 0);
    assert_eq!(bot.telegram.star_subscription_canceled("pro-stars"), Some(true));
    let told = card.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    assert!(
        told.body().unwrap().starts_with("Plan Pro is no longer offered, so it will not renew"),
        "{told:?}"
    );
    let told = stars.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    assert!(told.body().unwrap().starts_with("Тариф Pro больше не продаётся"), "{told:?}");
    assert_eq!(plans_of(&bot, &card).await, ["canceled:1"]);
    assert_eq!(plans_of(&bot, &stars).await, ["canceled:1"]);

    // The card is not charged when the period ends.
    age_plan(&bot, &card, 29 * 24 + 1).await;
    assert_eq!(maintenance_tick_with(&bot, &settings).await.plans_renewed, 0);
    assert_eq!(kassa.payments().len(), 1, "no charge for a plan off sale");
    // An empty list stops sales only: nothing more is withdrawn.
    settings.pricing.plans = shared::billing::plans::PlanList::default();
    assert_eq!(maintenance_tick_with(&bot, &settings).await.plans_withdrawn, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((card.messages().len(), stars.messages().len()), (4, 4));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_stars_plan_changed_in_telegram_follows_its_subscription_updates() {
    let bot = support::spawn_webhook_bot(&[PLANS]).await;
    let user = bot.telegram.user(70, "Yana", Some("en"));
    press_in_plan_menu(&user, 0, "Basic for 150 ⭐ a month").await;
    user.subscribe(&bot.telegram.invoices().pop().unwrap(), "yana-1").unwrap();
    user.wait_for_messages(3, WAIT).await.unwrap();

    // Cancelled in Telegram's settings (the webhook asked for `subscription` updates): the
    // plan runs out unrenewed, and Telegram's repeat of the update changes nothing.
    user.set_star_subscription("yana-1", "canceled").unwrap();
    let told = user.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    assert!(told.body().unwrap().starts_with("Renewal cancelled. The plan runs until"), "{told:?}");
    assert_eq!(plans_of(&bot, &user).await, ["canceled:1"]);
    user.set_star_subscription("yana-1", "canceled").unwrap();

    // An update naming her plan's invoice but another user changes nothing.
    let payload =
        text_of(&bot, "SELECT id::text FROM payments WHERE provider_payment_id = 'yana-1'", vec![]).await;
    let forged = serde_json::json!({"update_id": 900_001, "subscription": {
        "user": {"id": 71, "is_bot": false, "first_name": "Egor"},
        "invoice_payload": payload[0], "state": "active"}});
    assert_eq!(bot.post_update(&forged, Some(support::WEBHOOK_SECRET)).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(plans_of(&bot, &user).await, ["canceled:1"]);
    assert_eq!(user.messages().len(), 4, "{:?}", user.last_message());

    // Re-enabled there: it renews again.
    user.set_star_subscription("yana-1", "active").unwrap();
    let told = user.wait_for_messages(5, WAIT).await.unwrap().pop().unwrap();
    assert!(told.body().unwrap().starts_with("The plan will renew again on"), "{told:?}");
    assert_eq!(plans_of(&bot, &user).await, ["active:1"]);

    // Its renewal could not be paid: it ends with its period, without waiting for one.
    user.set_star_subscription("yana-1", "failed").unwrap();
    let told = user.wait_for_messages(6, WAIT).await.unwrap().pop().unwrap();
    assert!(
        told.body().unwrap().starts_with("Telegram could not charge the Stars to renew plan Basic"),
        "{told:?}"
    );
    assert_eq!(plans_of(&bot, &user).await, ["canceled:1"]);
    age_plan(&bot, &user, 30 * 24 + 1).await;
    assert_eq!(maintenance_tick(&bot).await.plans_ended, 1, "no grace for a renewal that will not come");

    let ended = user.wait_for_messages(7, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(ended.body(), Some("Plan Basic has ended. Subscribe again in /plan."));

    assert_eq!(plans_of(&bot, &user).await, ["ended:1"]);
    bot.stop().await.unwrap();
}
