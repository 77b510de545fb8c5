//! Telegram's webhook: an update is answered only after it is durably taken
//! and handled.
//!
//! teloxide's own webhook listener answers `200` as soon as an update is
//! parsed and queued in memory, so an update in flight when the process dies,
//! or one that arrives while PostgreSQL is away, is lost. Here each update is
//! first taken by `update_id` in PostgreSQL (`shared::telegram::updates`): if that
//! fails, Telegram gets `503` and delivers it again later; a redelivery of an
//! update already taken gets `200` without being handled twice. A handler's
//! own error is logged and answered `200`: handling it again could repeat
//! what it already did (a reply, a queued job).

use shared::telegram::Counted as _;
use std::{ops::ControlFlow, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use shared::{
    Secret,
    telegram::{
        Telegram,
        updates::{self, Take},
    },
};
use teloxide::{
    dispatching::UpdateHandler,
    dptree,
    types::{Me, Update},
};
use tracing::Instrument;

use crate::startup::AppState;

/// The header Telegram proves itself with.
const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// What the webhook route needs.
#[derive(Clone)]
struct Hook {
    state: AppState,
    bot: Telegram,
    me: Me,
    secret: Secret,
    handler: Arc<UpdateHandler<anyhow::Error>>,
}

/// `setWebhook` with `allowed_updates` named as the Bot API names them:
/// teloxide's list has no `subscription` (`BotSubscriptionUpdated`, a user
/// cancelling or re-enabling a Stars plan in Telegram).
#[derive(Debug, Clone, serde::Serialize)]
struct SetWebhookByName {
    url: String,
    secret_token: String,
    allowed_updates: Vec<String>,
}

impl teloxide::requests::Payload for SetWebhookByName {
    type Output = teloxide::types::True;
    const NAME: &'static str = "SetWebhook";
}

impl shared::telegram::Addressee for SetWebhookByName {
    fn addressee(&self) -> Option<&teloxide::types::Recipient> {
        None
    }
}

/// Registers `url` with Telegram and returns the route that takes its updates.
///
/// # Errors
/// When Telegram refuses the webhook.
pub async fn register(
    state: AppState,
    bot: Telegram,
    me: Me,
    url: &url::Url,
    secret: &Secret,
    handler: UpdateHandler<anyhow::Error>,
) -> anyhow::Result<Router> {
    let payload = SetWebhookByName {
        url: url.to_string(),
        secret_token: secret.expose().to_owned(),
        allowed_updates: crate::startup::allowed_update_names(),
    };
    teloxide::requests::JsonRequest::new(bot.clone(), payload).counted().await?;
    let hook = Hook { state, bot, me, secret: secret.clone(), handler: Arc::new(handler) };
    Ok(Router::new().route(url.path(), post(receive)).with_state(hook))
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let proven = headers.get(SECRET_HEADER).is_some_and(|given| hook.secret.matches(given.as_bytes()));
    if !proven {
        tracing::warn!("webhook call without the secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(err) => {
            // Sending it again would not make it readable.
            tracing::warn!(error = %err, "webhook body is not an update; ignored");
            return StatusCode::OK;
        }
    };
    let update_id = i64::from(update.id.0);
    let span = tracing::info_span!("update", update_id);
    async move {
        match updates::take(&hook.state.db, update_id).await {
            Ok(Take::Taken) => {}
            Ok(Take::Duplicate) => {
                tracing::info!("update delivered again; already taken");
                return StatusCode::OK;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot take the update; Telegram will send it again");
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        }
        if let teloxide::types::UpdateKind::Error(_) = update.kind
            && let Some(changed) = crate::plans::subscription_update(&body)
        {
            // A kind teloxide does not read: Telegram's word on a Stars plan.
            if let Err(err) = crate::plans::on_subscription_update(&hook.bot, &hook.state, &changed).await {
                tracing::error!(error = format!("{err:#}"), "a subscription update failed");
            }
        } else {
            let deps = dptree::deps![update, hook.bot.clone(), hook.me.clone(), hook.state.clone()];
            match hook.handler.dispatch(deps).await {
                ControlFlow::Break(Ok(())) => {}
                ControlFlow::Break(Err(err)) => {
                    tracing::error!(error = format!("{err:#}"), "an update handler failed")
                }
                ControlFlow::Continue(_) => tracing::debug!("update ignored"),
            }
        }
        if let Err(err) = updates::handled(&hook.state.db, update_id).await {
            // Handled all the same; a redelivery within the take's expiry is still refused.
            tracing::warn!(error = %err, "cannot mark the update handled");
        }
        StatusCode::OK
    }
    .instrument(span)
    .await
}
