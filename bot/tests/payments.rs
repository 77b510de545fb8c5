//! Paying for credits through the fake Telegram (Stars) and YooKassa's webhook.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::EntityTrait;

use shared::ids::TelegramUserId;
use shared::{billing::money::Credits, people::users};
use support::{TestBot, spawn_bot, spawn_with_yookassa};
use testkit::{
    fake_telegram::{Payment, TestUser},
    fake_yookassa::FakeYooKassa,
};

const WAIT: Duration = Duration::from_secs(15);

/// A Stars payment of `stars` for `invoice`.
fn stars(invoice: &testkit::fake_telegram::SentInvoice, stars: u32, charge: &str) -> Payment {
    Payment {
        currency: "XTR".into(),
        total_amount: stars,
        invoice_payload: invoice.payload.clone(),
        telegram_payment_charge_id: charge.into(),
        provider_payment_charge_id: String::new(),
    }
}

/// `user`, who has `seen` messages from the bot so far, buys the package labelled `label` for
/// `paid` Stars (charge `charge`) and sees the payment credited.
async fn buy_with_stars(bot: &TestBot, user: &TestUser, seen: usize, label: &str, paid: u32, charge: &str) {
    user.send_command("/buy").unwrap();
    let list = user.wait_for_messages(seen + 1, WAIT).await.unwrap().pop().unwrap();
    let invoices = bot.telegram.invoices().len();
    user.press_button_labelled(list.message_id, label).unwrap();
    let invoice =
        bot.telegram.wait_until("an invoice", WAIT, |t| t.invoices().get(invoices).cloned()).await.unwrap();
    user.pay(&stars(&invoice, paid, charge)).unwrap();
    user.wait_for_messages(seen + 3, WAIT).await.unwrap();
}

#[tokio::test]
async fn stars_purchase_is_checked_and_credited_once() {
    let bot = spawn_bot(&[]).await;
    let user = bot.telegram.user(21, "Nina", Some("en"));
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(1, WAIT).await.unwrap();
    let data =
        packages[0].callback_data_of("330 credits for 270 ⭐").expect("a Stars button for the 300 package");
    user.press_button(packages[0].message_id, &data).unwrap();
    bot.telegram.wait_until("an invoice", WAIT, |t| (!t.invoices().is_empty()).then_some(())).await.unwrap();
    let invoice = bot.telegram.invoices().remove(0);
    assert_eq!((invoice.currency.as_str(), invoice.total_amount), ("XTR", 270));

    // A tampered amount is refused with a reason; the real one is accepted.
    let tampered = user.pre_checkout("XTR", 1, &invoice.payload).unwrap();
    let genuine = user.pre_checkout("XTR", 270, &invoice.payload).unwrap();
    bot.telegram
        .wait_until("two answers", WAIT, |t| (t.pre_checkout_answers().len() == 2).then_some(()))
        .await
        .unwrap();
    // Queries carry no chat, so the bot may answer them in any order.
    let answers = bot.telegram.pre_checkout_answers();
    let answer = |id: &str| answers.iter().find(|a| a.pre_checkout_query_id == id).unwrap().clone();
    let refused = answer(&tampered);
    assert!(
        !refused.ok && refused.error_message.as_deref().is_some_and(|m| m.contains("/buy")),
        "{refused:?}"
    );
    assert!(answer(&genuine).ok);

    // Telegram delivers the successful payment twice: one credit, one message.
    let paid = Payment {
        currency: "XTR".into(),
        total_amount: 270,
        invoice_payload: invoice.payload.clone(),
        telegram_payment_charge_id: "stxCharge1".into(),
        provider_payment_charge_id: String::new(),
    };
    user.pay(&paid).unwrap();
    user.pay(&paid).unwrap();
    // The package list, the invoice, then the confirmation.
    let messages = user.wait_for_messages(3, WAIT).await.unwrap();
    assert!(messages[1].invoice.is_some());
    assert!(
        messages[2].body().unwrap().contains("Payment received: +330 credits"),
        "{:?}",
        messages[2].body()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received =
        user.messages().iter().filter(|m| m.body().is_some_and(|b| b.contains("Payment received"))).count();
    assert_eq!(received, 1);
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(21)).await.unwrap().unwrap();
    assert_eq!(bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().available, Credits::whole(330));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn yookassa_notifications_from_foreign_addresses_are_refused() {
    let bot = spawn_bot(&[]).await;
    let url = format!("http://{}/webhooks/yookassa", bot.http);
    let body =
        serde_json::json!({"type": "notification", "event": "payment.succeeded", "object": {"id": "x"}});
    let response = reqwest::Client::new().post(&url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 403);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_yookassa_payment_goes_from_buy_to_credit_once_despite_twenty_concurrent_notifications() {
    use testkit::fake_yookassa::{Event, StatusCode};

    let (kassa, bot) = spawn_with_yookassa(&[]).await;

    let user = bot.telegram.user(31, "Vera", Some("ru"));
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(1, WAIT).await.unwrap();
    let data = packages[0].callback_data_of("330 кредитов — 399 ₽").expect("a rouble button");
    user.press_button(packages[0].message_id, &data).unwrap();
    let link = user.wait_for_messages(2, WAIT).await.unwrap();
    assert!(link[1].body().unwrap().contains("399 ₽ за 330 кредитов"), "{:?}", link[1].body());
    assert_eq!(link[1].buttons().len(), 1);
    let payment = kassa.payments().remove(0);
    assert_eq!(payment.amount.value, rust_decimal::Decimal::from(399));

    // The payer pays: YooKassa notifies once by itself, then 20 more times at once.
    kassa.succeed(&payment.id).await.unwrap();
    let credited = user.wait_for_messages(3, WAIT).await.unwrap();
    assert!(
        credited[2].body().unwrap().contains("Оплата получена: +330 кредитов"),
        "{:?}",
        credited[2].body()
    );
    let statuses = kassa.notify(&payment.id, Event::PaymentSucceeded, 20, true).await.unwrap();
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(31)).await.unwrap().unwrap();
    assert_eq!(bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().available, Credits::whole(330));
    assert_eq!(user.messages().len(), 3);

    // From an address outside the allowed ranges: refused, nothing changes.
    kassa.set_notification_source("127.0.0.3".parse::<std::net::IpAddr>().unwrap()).unwrap();
    let statuses = kassa.notify(&payment.id, Event::PaymentSucceeded, 1, false).await.unwrap();
    assert_eq!(statuses, vec![StatusCode::FORBIDDEN]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn notifications_for_unpaid_or_foreign_payments_credit_nothing() {
    use testkit::fake_yookassa::{Event, StatusCode};

    let (kassa, bot) = spawn_with_yookassa(&[]).await;
    let api_url = kassa.api_url();

    let user = bot.telegram.user(32, "Oleg", Some("en"));
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(1, WAIT).await.unwrap();
    let data = packages[0].callback_data_of("100 credits for 149 RUB").expect("a rouble button");
    user.press_button(packages[0].message_id, &data).unwrap();
    user.wait_for_messages(2, WAIT).await.unwrap();
    let ours = kassa.payments().remove(0);

    // A forged "succeeded" about a payment that is still pending: the re-fetch says pending.
    let statuses = kassa.notify(&ours.id, Event::PaymentSucceeded, 1, false).await.unwrap();
    assert_eq!(statuses, vec![StatusCode::OK]);

    // A real payment of the same shop that the bot never created.
    let foreign: serde_json::Value = reqwest::Client::new()
        .post(format!("{api_url}/payments"))
        .basic_auth("123456", Some("test_secret"))
        .header("Idempotence-Key", "someone-else-1")
        .json(&serde_json::json!({"amount": {"value": "500.00", "currency": "RUB"}, "capture": true,
            "confirmation": {"type": "redirect", "return_url": "https://example.com"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign_id = foreign["id"].as_str().unwrap().to_owned();
    kassa.succeed(&foreign_id).await.unwrap();

    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(32)).await.unwrap().unwrap();
    assert_eq!(bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().available, Credits::ZERO);
    assert_eq!(user.messages().len(), 2, "no payment message was sent");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_referral_link_pays_the_referrer_once_on_the_first_purchase() {
    let bot = spawn_bot(&[]).await;
    let anna = bot.telegram.user(61, "Anna", Some("en"));
    let boris = bot.telegram.user(62, "Boris", Some("en"));
    anna.send_command("/referral").unwrap();
    let link_message = anna.wait_for_messages(1, WAIT).await.unwrap();
    let text = link_message[0].body().unwrap().to_owned();
    let link = text.split_whitespace().find(|w| w.starts_with("https://t.me/")).unwrap().to_owned();
    assert!(link.contains(&format!("{}?start=ref_", bot.telegram.bot_username())), "{link}");
    let code = link.split("start=").nth(1).unwrap();

    boris.send_command(&format!("/start {code}")).unwrap();
    boris.wait_for_messages(1, WAIT).await.unwrap();
    for (round, charge) in ["ch-1", "ch-2"].into_iter().enumerate() {
        boris.send_command("/buy").unwrap();
        let packages = boris.wait_for_messages(2 + round * 3, WAIT).await.unwrap();
        let list = packages.last().unwrap();
        let data = list.callback_data_of("330 credits for 270 ⭐").unwrap();
        boris.press_button(list.message_id, &data).unwrap();
        let invoice = bot
            .telegram
            .wait_until("an invoice", WAIT, |t| {
                (t.invoices().len() == round + 1).then(|| t.invoices()[round].clone())
            })
            .await
            .unwrap();
        boris
            .pay(&Payment {
                currency: "XTR".into(),
                total_amount: 270,
                invoice_payload: invoice.payload.clone(),
                telegram_payment_charge_id: charge.into(),
                provider_payment_charge_id: String::new(),
            })
            .unwrap();
        boris.wait_for_messages(4 + round * 3, WAIT).await.unwrap();
    }
    anna.send_command("/referral").unwrap();
    let stats = anna.wait_for_messages(2, WAIT).await.unwrap();
    let stats = stats[1].body().unwrap();
    assert!(stats.contains("Invited: 1, paid: 1, earned: 33 credits"), "{stats}");
    let a = users::find_by_telegram_id(&bot.db.db, TelegramUserId(61)).await.unwrap().unwrap();
    assert_eq!(bot.state.ledger.balance(&bot.db.db, a.id).await.unwrap().available, Credits::whole(33));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn yookassa_payments_carry_a_54_fz_receipt_and_show_in_history() {
    let (kassa, bot) = spawn_with_yookassa(&[
        ("YOOKASSA_RECEIPT_EMAIL", "receipts@example.com"),
        ("YOOKASSA_VAT_CODE", "1"),
    ])
    .await;
    let user = bot.telegram.user(33, "Ira", Some("ru"));
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(1, WAIT).await.unwrap();
    user.press_button_labelled(packages[0].message_id, "100 кредитов — 149 ₽").unwrap();
    user.wait_for_messages(2, WAIT).await.unwrap();
    let payment = kassa.payments().remove(0);
    // The fake checks the receipt as YooKassa does (contact, items adding up to the amount, codes).
    let request = kassa.creation_request(&payment.id).unwrap();
    let receipt = &request["receipt"];
    assert_eq!(receipt["customer"]["email"], "receipts@example.com");
    assert_eq!(receipt["items"][0]["vat_code"], 1);
    assert_eq!(receipt["items"][0]["amount"]["value"], "149.00");
    assert_eq!(receipt["items"][0]["payment_subject"], "service");

    kassa.succeed(&payment.id).await.unwrap();
    user.wait_for_messages(3, WAIT).await.unwrap();
    user.send_command("/history").unwrap();
    let history = user.wait_for_messages(4, WAIT).await.unwrap();
    let history = history[3].body().unwrap();
    assert!(history.contains("Пополнение — +100 кредитов"), "{history}");
    assert!(history.contains("YooKassa · 149 ₽ · оплачен"), "{history}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn without_receipt_settings_no_receipt_is_sent() {
    let (kassa, bot) = spawn_with_yookassa(&[]).await;
    let user = bot.telegram.user(34, "Lev", Some("en"));
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(1, WAIT).await.unwrap();
    user.press_button_labelled(packages[0].message_id, "100 credits for 149 RUB").unwrap();
    user.wait_for_messages(2, WAIT).await.unwrap();
    let payment = kassa.payments().remove(0);
    assert!(kassa.creation_request(&payment.id).unwrap().get("receipt").is_none());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn card_payments_inside_telegram_are_checked_and_credited_once() {
    let bot = spawn_bot(&[("TELEGRAM_PAYMENT_PROVIDER_TOKEN", "381764678:TEST:1234")]).await;
    let user = bot.telegram.user(35, "Yana", Some("en"));
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(1, WAIT).await.unwrap();
    user.press_button_labelled(packages[0].message_id, "100 credits for 149 RUB by card in Telegram")
        .unwrap();
    let invoice =
        bot.telegram.wait_until("an invoice", WAIT, |t| t.invoices().first().cloned()).await.unwrap();
    // Telegram counts roubles in kopecks.
    assert_eq!((invoice.currency.as_str(), invoice.total_amount), ("RUB", 14_900));
    let call = bot.telegram.calls("sendInvoice").remove(0);
    assert_eq!(call.param_str("provider_token").as_deref(), Some("381764678:TEST:1234"));

    let short = user.pre_checkout("RUB", 149, &invoice.payload).unwrap();
    let stars = user.pre_checkout("XTR", 14_900, &invoice.payload).unwrap();
    let right = user.pre_checkout("RUB", 14_900, &invoice.payload).unwrap();
    bot.telegram
        .wait_until("three answers", WAIT, |t| (t.pre_checkout_answers().len() == 3).then_some(()))
        .await
        .unwrap();
    let answers = bot.telegram.pre_checkout_answers();
    let ok = |id: &str| answers.iter().find(|a| a.pre_checkout_query_id == id).unwrap().ok;
    assert!(!ok(&short) && !ok(&stars) && ok(&right));

    let paid = Payment {
        currency: "RUB".into(),
        total_amount: 14_900,
        invoice_payload: invoice.payload.clone(),
        telegram_payment_charge_id: "tg-card-1".into(),
        provider_payment_charge_id: "yk-2f0c".into(),
    };
    user.pay(&paid).unwrap();
    user.pay(&paid).unwrap();
    let messages = user.wait_for_messages(3, WAIT).await.unwrap();
    assert!(
        messages[2].body().unwrap().contains("Payment received: +100 credits"),
        "{:?}",
        messages[2].body()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 3);
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(35)).await.unwrap().unwrap();
    assert_eq!(bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().available, Credits::whole(100));
    user.send_command("/history").unwrap();
    let history = user.wait_for_messages(4, WAIT).await.unwrap();
    assert!(
        history[3].body().unwrap().contains("card in Telegram · 149 ₽ · paid"),
        "{:?}",
        history[3].body()
    );
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_admin_refunds_stars_only_while_the_credits_are_unspent() {
    let bot = spawn_bot(&[("ADMIN_TELEGRAM_IDS", "90")]).await;
    let admin = bot.telegram.user(90, "Admin", Some("en"));
    let user = bot.telegram.user(91, "Gleb", Some("en"));
    for (round, charge) in ["st-1", "st-2"].into_iter().enumerate() {
        buy_with_stars(&bot, &user, round * 3, "100 credits for 100 ⭐", 100, charge).await;
    }
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(91)).await.unwrap().unwrap();
    let balance = || async { bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().available };
    assert_eq!(balance().await, Credits::whole(200));

    // Not an admin: the command does not exist for them.
    user.send_command("/refund st-1").unwrap();
    let reply = user.wait_for_messages(7, WAIT).await.unwrap().pop().unwrap();
    assert!(!reply.body().unwrap().contains("returned"), "{:?}", reply.body());
    assert_eq!(balance().await, Credits::whole(200));

    admin.send_command("/refund st-1").unwrap();
    let done = admin.wait_for_messages(1, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(done.body().unwrap(), "Done: 100 ⭐ returned, 100 credits taken back.");
    let refunds = bot.telegram.star_refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!((refunds[0].user_id, refunds[0].telegram_payment_charge_id.as_str()), (91, "st-1"));
    assert_eq!(balance().await, Credits::whole(100));
    let notice = user.wait_for_messages(8, WAIT).await.unwrap().pop().unwrap();
    assert!(notice.body().unwrap().contains("100 ⭐ were returned to you"), "{:?}", notice.body());

    // Twice: refused, nothing changes.
    admin.send_command("/refund st-1").unwrap();
    let again = admin.wait_for_messages(2, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(again.body().unwrap(), "Cannot refund: the payment is refunded.");

    // The user spends 60 of the other purchase: it cannot be refunded any more.
    let job = testkit::fixtures::job(&bot.db.db, stored.id).await;
    bot.state.ledger.hold(&bot.db.db, stored.id, job, Credits::whole(60)).await.unwrap();
    admin.send_command("/refund st-2").unwrap();
    let short = admin.wait_for_messages(3, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(
        short.body().unwrap(),
        "Cannot refund: 100 credits must be taken back but the user has 40. Nothing changed."
    );
    assert_eq!(bot.telegram.star_refunds().len(), 1);
    assert_eq!(balance().await, Credits::whole(40));
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    // The audit trail has the one refund that happened, by the admin, in its transaction.
    let trail = shared::operations::audit::recent(&bot.db.db, Some(stored.id), 10).await.unwrap();
    let refunds: Vec<(&str, &str, &str)> =
        trail.iter().map(|r| (r.actor.as_str(), r.action.as_str(), r.reason.as_str())).collect();
    assert_eq!(refunds, [("admin:90", "payment.refund", "stars refund stars:st-1")]);
    assert_eq!(trail[0].after.as_ref().unwrap()["credits_reversed"], "100");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_stars_refund_telegram_made_takes_the_credits_back_down_to_zero_once() {
    let bot = spawn_bot(&[]).await;
    let user = bot.telegram.user(93, "Vera", Some("en"));
    buy_with_stars(&bot, &user, 0, "100 credits for 100 ⭐", 100, "tg-refund-1").await;
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(93)).await.unwrap().unwrap();
    // 60 of the 100 credits are spent (held by a job) before Telegram refunds the Stars.
    let job = testkit::fixtures::job(&bot.db.db, stored.id).await;
    bot.state.ledger.hold(&bot.db.db, stored.id, job, Credits::whole(60)).await.unwrap();

    user.refunded_by_telegram("tg-refund-1").unwrap();
    let notice = user.wait_for_messages(4, WAIT).await.unwrap().pop().unwrap();
    let body = notice.body().unwrap();
    assert!(body.contains("100 ⭐ were returned to you") && body.contains("40"), "{body}");
    let balance = bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::ZERO, Credits::whole(60)));
    let payment = shared::entities::payments::Entity::find().one(&bot.db.db).await.unwrap().unwrap();
    assert_eq!(payment.status, shared::entities::payments::PaymentStatus::Refunded);

    // Telegram says it again (another update): nothing changes and nothing more is said.
    user.refunded_by_telegram("tg-refund-1").unwrap();
    bot.telegram
        .wait_until("both updates handled", WAIT, |t| (t.pending_updates() == 0).then_some(()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 4);
    let again = bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!((again.available, again.held), (Credits::ZERO, Credits::whole(60)));
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    let trail = shared::operations::audit::recent(&bot.db.db, Some(stored.id), 10).await.unwrap();
    let refunds: Vec<(&str, &str)> = trail.iter().map(|r| (r.actor.as_str(), r.action.as_str())).collect();
    assert_eq!(refunds, [("system", "payment.refund")]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn paysupport_explains_in_both_languages_and_terms_link_the_published_terms() {
    let bot =
        spawn_bot(&[("PAY_SUPPORT_TEXT", "support@example.com"), ("TERMS_URL", "https://example.com/terms")])
            .await;
    let anna = bot.telegram.user(71, "Анна", Some("ru"));
    let john = bot.telegram.user(72, "John", Some("en"));
    anna.send_command("/paysupport").unwrap();
    john.send_command("/paysupport").unwrap();
    let to_anna = anna.wait_for_messages(1, WAIT).await.unwrap();
    let to_john = john.wait_for_messages(1, WAIT).await.unwrap();
    let ru = to_anna[0].body().unwrap();
    let en = to_john[0].body().unwrap();
    assert!(ru.starts_with("Поддержка по платежам"), "{ru}");
    assert!(en.starts_with("Payment support"), "{en}");
    assert!(ru.ends_with("\n\nКонтакты: support@example.com"), "{ru}");
    assert!(en.ends_with("\n\nContacts: support@example.com"), "{en}");

    john.send_command("/terms").unwrap();
    let to_john = john.wait_for_messages(2, WAIT).await.unwrap();
    assert_eq!(to_john[1].body().unwrap(), "Terms of use: https://example.com/terms");
    // Both are in the private chats' command menu, in both languages.
    let private_menus: Vec<String> = bot
        .telegram
        .calls("setMyCommands")
        .iter()
        .filter_map(|menu| menu.param_str("commands"))
        .filter(|commands| commands.contains("\"balance\""))
        .collect();
    assert!(private_menus.len() >= 2, "{private_menus:?}");
    for commands in &private_menus {
        assert!(commands.contains("\"paysupport\"") && commands.contains("\"terms\""), "{commands}");
    }
    assert!(private_menus.iter().any(|commands| commands.contains("Поддержка по платежам")));
    assert!(private_menus.iter().any(|commands| commands.contains("Payment support")));
}

#[tokio::test]
async fn a_payment_question_reaches_every_admin_and_an_admin_reply_reaches_the_user() {
    let bot = spawn_bot(&[("ADMIN_TELEGRAM_IDS", "90,91")]).await;
    let admin = bot.telegram.user(90, "Admin", Some("en"));
    admin.send_command("/start").unwrap();
    admin.wait_for_messages(1, WAIT).await.unwrap();
    let anna = bot.telegram.user(73, "Анна", Some("ru"));
    anna.send_command("/paysupport   ").unwrap();
    anna.wait_for_messages(1, WAIT).await.unwrap();

    anna.send_command("/paysupport Оплатила дважды, верните один платёж").unwrap();
    let to_anna = anna.wait_for_messages(2, WAIT).await.unwrap();
    assert_eq!(to_anna[1].body().unwrap(), "Передали ваш вопрос команде. Ответим в этом чате.");
    let to_admin = admin.wait_for_messages(2, WAIT).await.unwrap();
    let copy = &to_admin[1];
    let body = copy.body().unwrap();
    assert!(body.starts_with("Payment question #"), "{body}");
    assert!(body.contains("Анна · tg 73 · #"), "{body}");
    assert!(body.contains("\n\nОплатила дважды, верните один платёж\n\n"), "{body}");
    // Admin 91 never started the bot: Telegram refuses, the question still went to 90.
    let stored = users::find_by_telegram_id(&bot.state.db, TelegramUserId(73)).await.unwrap().unwrap();
    let questions = shared::people::privacy::support_json(&bot.state.db, stored.id).await.unwrap();
    assert_eq!(questions.as_array().unwrap().len(), 1);
    assert!(questions[0]["answered_at"].is_null());

    // A reply to some other bot message is not an answer to anyone.
    admin.reply_to(to_admin[0].message_id, "hello?").unwrap();
    let to_admin = admin.wait_for_messages(3, WAIT).await.unwrap();
    assert!(to_admin[2].body().unwrap().starts_with("I did not get that"), "{:?}", to_admin[2].body());

    admin.reply_to(copy.message_id, "Вернули второй платёж, проверьте /balance.").unwrap();
    let to_anna = anna.wait_for_messages(3, WAIT).await.unwrap();
    assert_eq!(to_anna[2].body().unwrap(), "Ответ поддержки:\n\nВернули второй платёж, проверьте /balance.");
    let to_admin = admin.wait_for_messages(4, WAIT).await.unwrap();
    assert!(to_admin[3].body().unwrap().starts_with("Answer sent: Анна"), "{:?}", to_admin[3].body());
    let questions = shared::people::privacy::support_json(&bot.state.db, stored.id).await.unwrap();
    assert!(questions[0]["answered_at"].is_string(), "{questions}");
    let audit = shared::operations::audit::recent(&bot.state.db, Some(stored.id), 10).await.unwrap();
    assert_eq!(audit[0].action, "support.answer");
    assert_eq!(audit[0].actor, "admin:90");
    assert_eq!(audit[0].after.as_ref().unwrap()["answer"], "Вернули второй платёж, проверьте /balance.");

    // A user replying to the bot is not an admin: nothing is relayed.
    anna.reply_to(to_anna[2].message_id, "спасибо").unwrap();
    let to_anna = anna.wait_for_messages(4, WAIT).await.unwrap();
    assert!(to_anna[3].body().unwrap().starts_with("Не понял"), "{:?}", to_anna[3].body());
    assert_eq!(admin.messages().len(), 4);
}

/// Buys the 330-credit package for 399 ₽ through YooKassa as `user`, whose
/// chat then holds `seen` messages; returns YooKassa's payment id.
async fn buy_by_card(kassa: &FakeYooKassa, user: &testkit::fake_telegram::TestUser, seen: usize) -> String {
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(seen + 1, WAIT).await.unwrap();
    let list = packages.last().unwrap();
    let data = list.callback_data_of("330 кредитов — 399 ₽").expect("a rouble button");
    user.press_button(list.message_id, &data).unwrap();
    user.wait_for_messages(seen + 2, WAIT).await.unwrap();
    let payment = kassa.payments().pop().unwrap();
    kassa.succeed(&payment.id).await.unwrap();
    user.wait_for_messages(seen + 3, WAIT).await.unwrap();
    payment.id
}

#[tokio::test]
async fn yookassa_refunds_take_credits_and_the_referral_bonus_back_once_and_never_below_zero() {
    use rust_decimal::Decimal;
    use testkit::fake_yookassa::{Event, StatusCode};

    let (kassa, bot) = spawn_with_yookassa(&[("ADMIN_TELEGRAM_IDS", "90")]).await;
    let admin = bot.telegram.user(90, "Admin", Some("en"));
    let anna = bot.telegram.user(81, "Anna", Some("en"));
    let vera = bot.telegram.user(82, "Вера", Some("ru"));
    anna.send_command("/referral").unwrap();
    let text = anna.wait_for_messages(1, WAIT).await.unwrap()[0].body().unwrap().to_owned();
    let code = text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    vera.send_command(&format!("/start {code}")).unwrap();
    vera.wait_for_messages(1, WAIT).await.unwrap();
    let kassa_id = buy_by_card(&kassa, &vera, 1).await;

    let a = users::find_by_telegram_id(&bot.db.db, TelegramUserId(81)).await.unwrap().unwrap();
    let v = users::find_by_telegram_id(&bot.db.db, TelegramUserId(82)).await.unwrap().unwrap();
    let b = &bot;
    let available =
        |id| async move { b.state.ledger.balance(&b.db.db, id).await.unwrap().available.amount() };
    assert_eq!((available(v.id).await, available(a.id).await), (Decimal::from(330), Decimal::from(33)));

    // Half of it refunded in YooKassa's dashboard: its notification takes half back, from both.
    let client = bot.state.yookassa.clone().unwrap();
    let half =
        client.create_refund(&kassa_id, "199.50".parse().unwrap(), "dashboard", "half-1").await.unwrap();
    let notice = vera.wait_for_messages(5, WAIT).await.unwrap().pop().unwrap();
    assert!(
        notice.body().unwrap().starts_with("Вам возвращено 199,5 ₽; 165 кредитов списано"),
        "{:?}",
        notice.body()
    );
    assert_eq!(available(v.id).await, Decimal::from(165));
    assert_eq!(available(a.id).await, "16.5".parse::<Decimal>().unwrap());
    // YooKassa repeats itself, at once: applied once all the same.
    let statuses = kassa.notify(&half.id, Event::RefundSucceeded, 5, true).await.unwrap();
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert_eq!((available(v.id).await, available(a.id).await), (Decimal::from(165), "16.5".parse().unwrap()));
    assert_eq!(vera.messages().len(), 5);

    // Vera spends 150 of it: an admin's refund of the rest is refused, nothing moves.
    let job = testkit::fixtures::job(&bot.db.db, v.id).await;
    bot.state.ledger.hold(&bot.db.db, v.id, job, Credits::whole(150)).await.unwrap();
    admin.send_command(&format!("/refund {kassa_id}")).unwrap();
    let short = admin.wait_for_messages(1, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(
        short.body().unwrap(),
        "Cannot refund: 165 credits must be taken back but the user has 15. Nothing changed."
    );
    assert_eq!(kassa.refunds().len(), 1);

    // The rest refunded in the dashboard anyway: the credits go down to zero, the
    // shortfall is recorded, the referrer's bonus goes whole, the payment is refunded.
    client.create_refund(&kassa_id, "199.50".parse().unwrap(), "dashboard", "rest-1").await.unwrap();
    vera.wait_for_messages(6, WAIT).await.unwrap();
    assert_eq!((available(v.id).await, available(a.id).await), (Decimal::ZERO, Decimal::ZERO));
    let payment =
        shared::operations::refunds::yookassa_payment(&bot.db.db, &kassa_id).await.unwrap().unwrap();
    assert_eq!(payment.status, shared::entities::payments::PaymentStatus::Refunded);
    let trail = shared::operations::audit::recent(&bot.db.db, Some(v.id), 10).await.unwrap();
    let refunds: Vec<_> = trail.iter().filter(|r| r.action == "payment.refund").collect();
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[0].actor, "system");
    let after = refunds[0].after.as_ref().unwrap();
    assert_eq!(
        (after["credits_reversed"].as_str(), after["credits_shortfall"].as_str()),
        (Some("15"), Some("150"))
    );
    assert_eq!(after["bonus_reversed"], "16.5");
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_admin_refunds_a_card_payment_once_and_a_stars_refund_takes_the_referral_bonus_back() {
    use rust_decimal::Decimal;

    let (kassa, bot) = spawn_with_yookassa(&[("ADMIN_TELEGRAM_IDS", "90")]).await;
    let admin = bot.telegram.user(90, "Admin", Some("en"));
    let gleb = bot.telegram.user(83, "Gleb", Some("ru"));
    gleb.send_command("/start").unwrap();
    gleb.wait_for_messages(1, WAIT).await.unwrap();
    let kassa_id = buy_by_card(&kassa, &gleb, 1).await;
    let g = users::find_by_telegram_id(&bot.db.db, TelegramUserId(83)).await.unwrap().unwrap();
    let b = &bot;
    let available =
        |id| async move { b.state.ledger.balance(&b.db.db, id).await.unwrap().available.amount() };

    admin.send_command(&format!("/refund {kassa_id}")).unwrap();
    let done = admin.wait_for_messages(1, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(done.body().unwrap(), "Done: YooKassa returned 399 RUB, 330 credits taken back.");
    assert_eq!(available(g.id).await, Decimal::ZERO);
    let refunds = kassa.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount.value, Decimal::from(399));
    gleb.wait_for_messages(5, WAIT).await.unwrap();
    // YooKassa's own refund.succeeded comes too: nothing more happens.
    kassa.wait_for_deliveries(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gleb.messages().len(), 5);
    admin.send_command(&format!("/refund {kassa_id}")).unwrap();
    let again = admin.wait_for_messages(2, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(again.body().unwrap(), "Cannot refund: the payment is refunded.");
    assert_eq!(kassa.refunds().len(), 1);

    // A Stars purchase that earned a referral bonus: its refund takes the bonus back.
    let anna = bot.telegram.user(84, "Anna", Some("en"));
    anna.send_command("/referral").unwrap();
    let text = anna.wait_for_messages(1, WAIT).await.unwrap()[0].body().unwrap().to_owned();
    let code = text.split("start=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let boris = bot.telegram.user(85, "Boris", Some("en"));
    boris.send_command(&format!("/start {code}")).unwrap();
    boris.wait_for_messages(1, WAIT).await.unwrap();
    buy_with_stars(&bot, &boris, 1, "330 credits for 270 ⭐", 270, "st-b").await;
    let a = users::find_by_telegram_id(&bot.db.db, TelegramUserId(84)).await.unwrap().unwrap();
    assert_eq!(available(a.id).await, Decimal::from(33));
    admin.send_command("/refund st-b").unwrap();
    let done = admin.wait_for_messages(3, WAIT).await.unwrap().pop().unwrap();
    assert_eq!(done.body().unwrap(), "Done: 270 ⭐ returned, 330 credits taken back.");
    assert_eq!(available(a.id).await, Decimal::ZERO);
    assert!(testkit::fixtures::ledger_violation(&bot.db.db).await.is_none());
    bot.stop().await.unwrap();
}
