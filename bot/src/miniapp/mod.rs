//! The Mini App's HTTP API under `/api`: a user signs in with the init data
//! Telegram gives the page (`POST /api/auth/telegram`) and gets a short-lived
//! session token; every other route wants it as `Authorization: Bearer`.
//! Answers are JSON; a refusal names its reason (`{"error": "bad_hash"}`).
//! Neither the init data nor a token is ever logged.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{FromRequestParts, State, rejection::JsonRejection},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use miniapp::{Claims, InitDataVerifier, MiniAppSettings, Sessions};
use serde::Deserialize;
use serde_json::json;
use shared::{
    ids::{TelegramUserId, UserId},
    people::users::{self, TelegramProfile},
};

use crate::startup::AppState;

mod history;
mod jobs;
mod purchase;
mod settings;

/// What the API checks sign-ins and sessions with.
pub struct MiniApp {
    verifier: InitDataVerifier,
    sessions: Sessions,
}

impl MiniApp {
    /// From the settings and the bot token (the init data hash is keyed with it).
    ///
    /// # Errors
    /// When the bot token has no numeric bot id.
    pub fn new(settings: &MiniAppSettings, bot_token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            verifier: InitDataVerifier::from_settings(bot_token, &settings.auth)?,
            sessions: Sessions::new(settings.auth.jwt_secret(), settings.auth.session_ttl()),
        })
    }
}

/// The `/api` routes; they answer 404 when the Mini App is not configured.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/telegram", post(sign_in))
        .route("/api/me", get(me))
        .route("/api/history", get(history::history))
        .route("/api/packages", get(purchase::packages))
        .route("/api/purchase", post(purchase::purchase))
        .route("/api/settings", get(settings::show).put(settings::change))
        .route("/api/jobs/{id}", get(jobs::job))
        .with_state(state)
}

/// A JSON refusal: `{"error": code, "message": words}`.
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.code, "message": self.message }))).into_response()
    }
}

fn refusal(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { status, code, message: message.into() }
}

fn internal(err: &anyhow::Error) -> Response {
    tracing::error!(error = format!("{err:#}"), "Mini App request failed");
    refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side").into_response()
}

fn app(state: &AppState) -> Result<&Arc<MiniApp>, Refusal> {
    state.miniapp.as_ref().ok_or_else(|| refusal(StatusCode::NOT_FOUND, "not_found", "the Mini App is off"))
}

#[derive(Deserialize)]
struct SignIn {
    init_data: String,
}

/// `POST /api/auth/telegram {"init_data": "..."}`: checks the init data as
/// Telegram documents, upserts the user as `/start` does, and answers
/// `{"token", "expires_in", "user"}`.
#[tracing::instrument(skip_all)]
async fn sign_in(State(state): State<AppState>, body: Result<Json<SignIn>, JsonRejection>) -> Response {
    let app = match app(&state) {
        Ok(app) => app,
        Err(refused) => return refused.into_response(),
    };
    let Ok(Json(body)) = body else {
        return refusal(StatusCode::BAD_REQUEST, "bad_request", "send {\"init_data\": \"...\"} as JSON")
            .into_response();
    };
    let data = match app.verifier.verify(&body.init_data) {
        Ok(data) => data,
        Err(err) => {
            tracing::info!(reason = err.code(), "init data refused");
            return refusal(StatusCode::UNAUTHORIZED, err.code(), err.to_string()).into_response();
        }
    };
    let person = data.user();
    let profile = TelegramProfile {
        telegram_id: TelegramUserId(person.id),
        username: person.username.clone(),
        first_name: person.first_name.clone(),
        language_code: person.language_code.clone(),
    };
    let signed_in = async {
        let user = users::upsert_from_telegram(&state.db, &profile).await?;
        let (token, expires_in) = app.sessions.issue(user.id.0, user.telegram_id.0)?;
        anyhow::Ok((user, token, expires_in))
    };
    match signed_in.await {
        Ok((user, token, expires_in)) => {
            tracing::info!(user_id = user.id.0, "signed in to the Mini App");
            Json(json!({
                "token": token,
                "expires_in": expires_in,
                "user": {
                    "id": user.id,
                    "telegram_id": user.telegram_id,
                    "first_name": user.first_name,
                    "username": user.username,
                    "language": user.language.code(),
                },
            }))
            .into_response()
        }
        Err(err) => internal(&err),
    }
}

/// The caller's session, from `Authorization: Bearer <token>`.
pub struct Session(pub Claims);

impl FromRequestParts<AppState> for Session {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let app = app(state)?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "no_token", "sign in first"))?;
        app.sessions
            .verify(token)
            .map(Session)
            .map_err(|err| refusal(StatusCode::UNAUTHORIZED, err.code(), err.to_string()))
    }
}

/// `GET /api/me`: balance, reservations, free allowances, language and the
/// referral link with what it brought.
async fn me(State(state): State<AppState>, Session(claims): Session) -> Response {
    let answer = async {
        let Some(user) = users::find(&state.db, UserId(claims.user_id)).await? else { return Ok(None) };
        let balance = state.ledger.balance(&state.db, user.id).await?;
        let referrals = users::referral_stats(&state.db, user.id).await?;
        let link = state.bot_username.get().map(|bot| users::referral_link(bot, &user.referral_code));
        anyhow::Ok(Some(json!({
            "id": user.id,
            "telegram_id": user.telegram_id,
            "first_name": user.first_name,
            "language": user.language.code(),
            "balance": {
                "available": balance.available.amount(),
                "held": balance.held.amount(),
            },
            "free_seconds_today": balance.free_seconds_left_today,
            "free_images_this_month": balance.free_images_left_this_month,
            "referral": {
                "link": link,
                "invited": referrals.invited,
                "paid": referrals.paid,
                "earned": referrals.earned,
            },
        })))
    };
    match answer.await {
        Ok(Some(body)) => Json(body).into_response(),
        Ok(None) => refusal(StatusCode::UNAUTHORIZED, "unknown_user", "sign in again").into_response(),
        Err(err) => internal(&err),
    }
}
