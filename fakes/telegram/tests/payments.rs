//! Stars payments: invoices, pre-checkout queries, successful payments and refunds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fake_telegram::{FakeTelegram, Payment};
use teloxide::prelude::*;
use teloxide::types::{LabeledPrice, TelegramTransactionId, UpdateKind, UserId};
use teloxide::{ApiError, RequestError};

fn bot(tg: &FakeTelegram) -> Bot {
    Bot::new(tg.token()).set_api_url(tg.api_url())
}

fn api_text(err: &RequestError) -> String {
    match err {
        RequestError::Api(ApiError::Unknown(text)) => text.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn stars_invoices_need_no_provider_token() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(50, "Ann", None);
    let sent = bot
        .send_invoice(
            ChatId(user.chat_id()),
            "100 credits",
            "Top up",
            "topup:100",
            "XTR",
            [LabeledPrice::new("Credits", 50)],
        )
        .await
        .unwrap();
    let invoice = sent.invoice().unwrap();
    assert_eq!((invoice.currency.as_str(), invoice.total_amount), ("XTR", 50));
    let recorded = tg.invoices();
    assert_eq!(recorded[0].payload, "topup:100");
    assert_eq!(recorded[0].message_id, Some(sent.id.0));

    let link = bot
        .create_invoice_link("100 credits", "Top up", "topup:100", "XTR", [LabeledPrice::new("Credits", 50)])
        .await
        .unwrap();
    assert!(link.starts_with("https://t.me/$"), "{link}");

    let err = bot
        .send_invoice(ChatId(user.chat_id()), "t", "d", "p", "RUB", [LabeledPrice::new("x", 100)])
        .await
        .unwrap_err();
    assert_eq!(api_text(&err), "Bad Request: PAYMENT_PROVIDER_INVALID");
}

#[tokio::test]
async fn pre_checkout_queries_are_answered_once() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(51, "Ann", Some("en"));
    let query_id = user.pre_checkout("XTR", 50, "topup:100").unwrap();

    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::PreCheckoutQuery(q) = &updates[0].kind else { panic!("{:?}", updates[0].kind) };
    assert_eq!(q.id.0, query_id);
    assert_eq!((q.currency.as_str(), q.total_amount, q.invoice_payload.as_str()), ("XTR", 50, "topup:100"));

    bot.answer_pre_checkout_query(q.id.clone(), true).await.unwrap();
    let err = bot.answer_pre_checkout_query(q.id.clone(), true).await.unwrap_err();
    assert_eq!(
        api_text(&err),
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );
    let answers = tg.pre_checkout_answers();
    assert_eq!(answers.len(), 1);
    assert!(answers[0].ok);

    let declined = user.pre_checkout("XTR", 50, "topup:100").unwrap();
    bot.answer_pre_checkout_query(teloxide::types::PreCheckoutQueryId(declined), false)
        .error_message("Sold out")
        .await
        .unwrap();
    assert_eq!(tg.pre_checkout_answers()[1].error_message.as_deref(), Some("Sold out"));
}

#[tokio::test]
async fn successful_payments_parse_and_stars_refund_once() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(52, "Ann", None);
    user.pay(&Payment {
        currency: "XTR".into(),
        total_amount: 50,
        invoice_payload: "topup:100".into(),
        telegram_payment_charge_id: "stxCHARGE1".into(),
        provider_payment_charge_id: String::new(),
    })
    .unwrap();

    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::Message(msg) = &updates[0].kind else { panic!() };
    let payment = msg.successful_payment().unwrap();
    assert_eq!(payment.telegram_payment_charge_id.0, "stxCHARGE1");
    assert_eq!(payment.total_amount, 50);
    assert_eq!(payment.invoice_payload, "topup:100");

    let uid = UserId(52);
    let err = bot.refund_star_payment(uid, TelegramTransactionId("nope".into())).await.unwrap_err();
    assert_eq!(api_text(&err), "Bad Request: CHARGE_NOT_FOUND");
    bot.refund_star_payment(uid, TelegramTransactionId("stxCHARGE1".into())).await.unwrap();
    let err = bot.refund_star_payment(uid, TelegramTransactionId("stxCHARGE1".into())).await.unwrap_err();
    assert_eq!(api_text(&err), "Bad Request: CHARGE_ALREADY_REFUNDED");
    assert_eq!(tg.star_refunds().len(), 1);
}
