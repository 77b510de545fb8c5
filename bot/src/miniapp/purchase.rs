//! `GET /api/packages` and `POST /api/purchase`: the credit packages on sale,
//! and starting to pay for one through YooKassa (a page to pay on) or Stars
//! (an invoice link for `Telegram.WebApp.openInvoice`).

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::telegram::Counted as _;
use shared::{
    entities::payments::PaymentProvider,
    ids::UserId,
    payments::{self, CheckoutError},
    people::users,
    texts::i18n::Text,
};
use teloxide::{prelude::Requester, types::LabeledPrice};

use super::{Session, internal, refusal};
use crate::startup::AppState;

/// `GET /api/packages`: `{"packages": [{id, credits, bonus_percent, total_credits,
/// price_rub, price_stars}], "methods": ["yookassa", "stars"]}` (YooKassa only
/// when it is configured).
#[utoipa::path(
    get,
    path = "/api/packages",
    security(("session" = [])),
    responses(
        (status = 200, description = "`{packages: [{id, credits, bonus_percent, total_credits, price_rub, price_stars}], methods}`"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
pub(super) async fn packages(State(state): State<AppState>, Session(claims): Session) -> Json<Value> {
    // A plan's discount shows in the prices; without an answer, the full ones.
    let discount = crate::plans::discount_for(&state, UserId(claims.user_id)).await.unwrap_or_else(|err| {
        tracing::warn!(error = format!("{err:#}"), "cannot tell the user's plan discount");
        0
    });
    let packages: Vec<Value> = state
        .settings
        .packages
        .0
        .iter()
        .map(|package| package.discounted(discount))
        .map(|package| {
            json!({
                "id": package.id,
                "credits": package.credits,
                "bonus_percent": package.bonus_percent,
                "total_credits": package.total_credits().amount().to_string(),
                "price_rub": package.price_rub.to_string(),
                "price_stars": package.price_stars,
            })
        })
        .collect();
    let methods: Vec<&str> = if state.yookassa.is_some() { vec!["yookassa", "stars"] } else { vec!["stars"] };
    Json(json!({ "packages": packages, "methods": methods }))
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Method {
    YooKassa,
    Stars,
}

#[derive(Deserialize)]
pub(super) struct Purchase {
    package_id: String,
    method: Method,
}

/// `POST /api/purchase {"package_id", "method": "yookassa"|"stars"}`:
/// `{"payment_id", "confirmation_url"}` for YooKassa, `{"payment_id",
/// "invoice_link"}` for Stars. The payment is credited when the provider
/// reports it paid, as for `/buy`.
#[utoipa::path(
    post,
    path = "/api/purchase",
    security(("session" = [])),
    responses(
        (status = 200, description = "`{confirmation_url}` (YooKassa) or `{invoice_link}` (Stars, for `Telegram.WebApp.openInvoice`); the body is `{package_id, method: yookassa|stars}`"),
        (status = 400, description = "an unknown package or method"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 503, description = "YooKassa is not configured"),
    )
)]
pub(super) async fn purchase(
    State(state): State<AppState>,
    Session(claims): Session,
    body: Result<Json<Purchase>, JsonRejection>,
) -> Result<Json<Value>, Response> {
    let Ok(Json(purchase)) = body else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send {\"package_id\": \"...\", \"method\": \"yookassa\" or \"stars\"} as JSON",
        )
        .into_response());
    };
    let Some(package) = state.settings.packages.find(&purchase.package_id).cloned() else {
        return Err(
            refusal(StatusCode::BAD_REQUEST, "unknown_package", "no such package on sale").into_response()
        );
    };
    let user = users::find(&state.db, UserId(claims.user_id))
        .await
        .map_err(|err| internal(&err.into()))?
        .ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "unknown_user", "sign in again").into_response())?;
    let package = crate::plans::package_for(&state, &user, &package).await.map_err(|err| internal(&err))?;
    let title = Text::InvoiceTitle { credits: package.total_credits().amount() }.render(user.language);
    match purchase.method {
        Method::YooKassa => {
            let Some(client) = &state.yookassa else {
                return Err(refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "yookassa_unavailable",
                    "paying through YooKassa is not set up",
                )
                .into_response());
            };
            match payments::checkout_yookassa(&state.db, client, user.id, &package, title).await {
                Ok(url) => Ok(Json(json!({ "confirmation_url": url }))),
                Err(CheckoutError::Db(err)) => Err(internal(&err.into())),
                Err(err) => {
                    tracing::error!(error = %err, "YooKassa checkout failed");
                    Err(refusal(
                        StatusCode::BAD_GATEWAY,
                        "provider_failed",
                        "YooKassa did not take the payment",
                    )
                    .into_response())
                }
            }
        }
        Method::Stars => {
            let link = async {
                let payment =
                    payments::create_pending(&state.db, user.id, &package, PaymentProvider::Stars).await?;
                let total = (payment.amount * payments::minor_units(&payment.currency))
                    .to_u32()
                    .ok_or_else(|| anyhow::anyhow!("{} Stars do not fit an invoice", payment.amount))?;
                // The payload is our payment id, as for invoices sent in chat:
                // pre-checkout and settlement find the payment by it.
                let link = state
                    .bot
                    .create_invoice_link(
                        title.clone(),
                        Text::InvoiceDescription.render(user.language),
                        payment.id.to_string(),
                        payment.currency.clone(),
                        [LabeledPrice::new(title.clone(), total)],
                    )
                    .counted()
                    .await?;
                anyhow::Ok(link)
            };
            link.await.map(|link| Json(json!({ "invoice_link": link }))).map_err(|err| internal(&err))
        }
    }
}
