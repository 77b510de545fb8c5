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
