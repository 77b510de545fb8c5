//! Paying for credits through the fake Telegram (Stars) and YooKassa's webhook.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use shared::{money::Credits, users};
use support::spawn_bot;
use testkit::fake_telegram::Payment;

const WAIT: Duration = Duration::from_secs(15);

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
    let stored = users::find_by_telegram_id(&bot.db.db, 21).await.unwrap().unwrap();
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
    use testkit::fake_yookassa::{Event, FakeYooKassa, StatusCode};

    let kassa = FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let api_url = kassa.api_url();
    let bot = spawn_bot(&[
        ("YOOKASSA_SHOP_ID", "123456"),
        ("YOOKASSA_SECRET_KEY", "test_secret"),
        ("YOOKASSA_RETURN_URL", "https://t.me/test_bot"),
        ("YOOKASSA_API_URL", &api_url),
        ("YOOKASSA_NOTIFY_IPS", "127.0.0.2/32"),
    ])
    .await;
    kassa.set_notification_url(format!("http://{}/webhooks/yookassa", bot.http));
    kassa.set_notification_source("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).unwrap();

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
    let stored = users::find_by_telegram_id(&bot.db.db, 31).await.unwrap().unwrap();
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
    use testkit::fake_yookassa::{Event, FakeYooKassa, StatusCode};

    let kassa = FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let api_url = kassa.api_url();
    let bot = spawn_bot(&[
        ("YOOKASSA_SHOP_ID", "123456"),
        ("YOOKASSA_SECRET_KEY", "test_secret"),
        ("YOOKASSA_RETURN_URL", "https://t.me/test_bot"),
        ("YOOKASSA_API_URL", &api_url),
        ("YOOKASSA_NOTIFY_IPS", "127.0.0.2/32"),
    ])
    .await;
    kassa.set_notification_url(format!("http://{}/webhooks/yookassa", bot.http));
    kassa.set_notification_source("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).unwrap();

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

    let stored = users::find_by_telegram_id(&bot.db.db, 32).await.unwrap().unwrap();
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
    let a = users::find_by_telegram_id(&bot.db.db, 61).await.unwrap().unwrap();
    assert_eq!(bot.state.ledger.balance(&bot.db.db, a.id).await.unwrap().available, Credits::whole(33));
    bot.stop().await.unwrap();
}
