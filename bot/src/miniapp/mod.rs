//! The Mini App's HTTP API under `/api`: a user signs in with the init data
//! Telegram gives the page (`POST /api/auth/telegram`) and gets a short-lived
//! session token; every other route wants it as `Authorization: Bearer`.
//! Answers are JSON; a refusal names its reason (`{"error": "bad_hash"}`).
//! Neither the init data nor a token is ever logged.

use shared::telegram::Counted as _;
use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{ConnectInfo, FromRequestParts, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use miniapp::{Claims, InitDataVerifier, MiniAppSettings, Sessions};
use serde::Deserialize;
use serde_json::json;
use shared::{
    billing::ledger::BonusReason,
    ids::{TelegramUserId, UserId},
    people::{
        limits::RateLimiter,
        users::{self, TelegramProfile},
    },
};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::startup::AppState;

/// Sign-ins one address may try per minute: enough for a household behind
/// one NAT, too few to grind through init data guesses.
pub const SIGN_INS_PER_MINUTE: u32 = 30;

mod history;
mod images;
mod jobs;
mod page;
mod purchase;
mod settings;
mod transcripts;
mod uploads;

pub use uploads::UPLOADS_PER_MINUTE;

/// What the API checks sign-ins and sessions with.
pub struct MiniApp {
    verifier: InitDataVerifier,
    sessions: Sessions,
    sign_ins: RateLimiter,
    uploads: RateLimiter,
}

impl MiniApp {
    /// From the settings and the bot token (the init data hash is keyed with it).
    ///
    /// # Errors
    /// When the bot token has no numeric bot id.
    pub fn new(
        settings: &MiniAppSettings,
        bot_token: &str,
        sign_ins: RateLimiter,
        uploads: RateLimiter,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            verifier: InitDataVerifier::from_settings(bot_token, &settings.auth)?,
            sessions: Sessions::new(settings.auth.jwt_secret(), settings.auth.session_ttl()),
            sign_ins,
            uploads,
        })
    }
}

/// The `/api` routes; they answer 404 when the Mini App is not configured.
pub fn router(state: AppState) -> Router {
    let (router, mut api) = OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(me))
        .routes(routes!(transcripts::list))
        .routes(routes!(transcripts::one))
        .routes(routes!(history::history))
        .routes(routes!(purchase::packages))
        .routes(routes!(purchase::purchase))
        .routes(routes!(settings::show, settings::change))
        .routes(routes!(jobs::job))
        .routes(routes!(jobs::events))
        .routes(routes!(images::gallery))
        .routes(routes!(images::edit))
        .routes(routes!(uploads::start))
        .routes(routes!(uploads::complete))
        .split_for_parts();
    api.info.title = "Mini App API".to_owned();
    api.info.description = Some("The caller's account, signed in with Telegram init data.".to_owned());
    api.components.get_or_insert_with(Default::default).add_security_scheme(
        "session",
        utoipa::openapi::security::SecurityScheme::Http(utoipa::openapi::security::Http::new(
            utoipa::openapi::security::HttpAuthScheme::Bearer,
        )),
    );
    let api = Arc::new(api);
    let page =
        state.settings.miniapp.is_some().then(|| page::router(&page::storage_origin(&state.settings.s3)));
    let router = router
        .route("/api/openapi.json", get(move || async move { Json(api.as_ref().clone()) }))
        .layer(axum::middleware::map_response(api_headers))
        .with_state(state);
    match page {
        Some(page) => router.merge(page),
        None => router,
    }
}

/// Headers on every API answer: nothing is cached or sniffed, nothing may
/// frame or load from it, and no CORS header is ever sent, so pages of
/// other origins cannot read it.
async fn api_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
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

/// Tells the chat a job from the app was queued, in the message the worker
/// then edits with progress. A user who blocked the bot still gets the
/// result in the app.
async fn announce(
    state: &AppState,
    chat: shared::ids::ChatId,
    job: shared::ids::JobId,
    text: &shared::texts::i18n::Text,
    lang: shared::texts::i18n::Lang,
) -> Result<(), Response> {
    use teloxide::prelude::Requester;
    match state.bot.send_message(chat, text.render(lang)).counted().await {
        Ok(message) => shared::jobs::set_status_message(&state.db, job, message.id.0)
            .await
            .map(drop)
            .map_err(|err| internal(&err.into())),
        Err(err) => {
            tracing::info!(job_id = %job, error = %err, "could not announce a job from the app in chat");
            Ok(())
        }
    }
}

fn app(state: &AppState) -> Result<&Arc<MiniApp>, Refusal> {
    state.miniapp.as_ref().ok_or_else(|| refusal(StatusCode::NOT_FOUND, "not_found", "the Mini App is off"))
}

/// The sign-in request.
#[derive(Deserialize, utoipa::ToSchema)]
struct SignIn {
    /// `Telegram.WebApp.initData`, as the page received it.
    init_data: String,
}

/// `POST /api/auth/telegram {"init_data": "..."}`: checks the init data as
/// Telegram documents, upserts the user as `/start` does, and answers
/// `{"token", "expires_in", "user"}`.
#[utoipa::path(
    post,
    path = "/api/auth/telegram",
    request_body = SignIn,
    responses(
        (status = 200, description = "`{token, expires_in, user}`: a session token for `Authorization: Bearer`"),
        (status = 400, description = "not `{\"init_data\": ...}`"),
        (status = 401, description = "`{error}`: bad_hash, expired, malformed, missing_hash, ..."),
        (status = 429, description = "too many sign-ins from this address this minute"),
    )
)]
#[tracing::instrument(skip_all)]
async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Response {
    let app = match app(&state) {
        Ok(app) => app,
        Err(refused) => return refused.into_response(),
    };
    let address = crate::http::client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    if !app.sign_ins.allow(address, chrono::Utc::now().timestamp()).await {
        return refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many sign-ins; wait a minute",
        )
        .into_response();
    }
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
        let is_new = users::find_by_telegram_id(&state.db, profile.telegram_id).await?.is_none();
        let user = users::upsert_from_telegram(&state.db, &profile).await?;
        // Someone who opens the app before ever writing to the bot gets the
        // welcome gift `/start` would have given (once per user, whichever comes first).
        if is_new && state.settings.welcome_bonus > shared::billing::money::Credits::ZERO {
            state
                .ledger
                .grant_bonus(&state.db, user.id, state.settings.welcome_bonus, &BonusReason::Welcome)
                .await?;
        }
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
#[utoipa::path(
    get,
    path = "/api/me",
    security(("session" = [])),
    responses(
        (status = 200, description = "`{id, telegram_id, first_name, language, balance: {available, held}, free_seconds_today, free_images_this_month, plan: null | {id, name, ends_at, renews, seconds_left, images_left}, referral: {link, invited, paid, earned}}`"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
async fn me(State(state): State<AppState>, Session(claims): Session) -> Response {
    let answer = async {
        let Some(user) = users::find(&state.db, UserId(claims.user_id)).await? else { return Ok(None) };
        let balance = state.ledger.balance(&state.db, user.id).await?;
        let referrals = users::referral_stats(&state.db, user.id).await?;
        let link = state.bot_username.get().map(|bot| users::referral_link(bot, &user.referral_code));
        let renews = shared::payments::subscriptions::live_of(&state.db, user.id)
            .await?
            .is_some_and(|live| live.status == shared::payments::subscriptions::SubscriptionStatus::Active);
        let plan = balance.plan.as_ref().map(|plan| {
            json!({
                "id": plan.period.plan,
                "name": plan.period.name,
                "ends_at": plan.period.ends_at,
                "renews": renews,
                "seconds_left": plan.seconds_left,
                "images_left": plan.images_left,
            })
        });
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
            "plan": plan,
            "max_upload_bytes": state.settings.miniapp.as_ref().map(|app| app.max_upload_bytes),
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
