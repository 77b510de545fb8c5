//! `GET /api/history`: the caller's statement as they read it, one line per
//! job, payment or bonus (`Ledger::statement`), keyset-paged.

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use rust_decimal::Decimal;
use sea_orm::ActiveEnum;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    billing::ledger::{StatementCursor, StatementItem, StatementLine},
    entities::jobs::JobKind,
    ids::UserId,
};

use super::{Session, internal, refusal};
use crate::startup::AppState;

/// Lines per page unless `limit` says otherwise (at most 100).
const DEFAULT_PAGE: u32 = 20;

#[derive(Deserialize)]
pub(super) struct Page {
    before: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/history?before=<cursor>&limit=<n>`: `{"lines": [...], "next": cursor or null}`.
#[utoipa::path(
    get,
    path = "/api/history",
    params(
        ("before" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "lines per page, 1-100 (20)"),
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "`{lines: [{kind, credits, at, ...}], next}`: one line per job, purchase or bonus"),
        (status = 400, description = "a bad cursor"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
pub(super) async fn history(
    State(state): State<AppState>,
    Session(claims): Session,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, Response> {
    let Ok(Query(page)) = page else {
        return Err(refusal(StatusCode::BAD_REQUEST, "bad_request", "before is a cursor, limit a number")
            .into_response());
    };
    let before = match page.before.as_deref().map(str::parse::<StatementCursor>).transpose() {
        Ok(before) => before,
        Err(reason) => return Err(refusal(StatusCode::BAD_REQUEST, "bad_cursor", reason).into_response()),
    };
    let limit = page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, 100);
    let lines = state
        .ledger
        .statement(&state.db, UserId(claims.user_id), before.as_ref(), limit)
        .await
        .map_err(|err| internal(&err.into()))?;
    let next =
        (lines.len() == limit as usize).then(|| lines.last().map(|line| line.cursor.to_string())).flatten();
    Ok(Json(json!({ "lines": lines.iter().map(line_json).collect::<Vec<_>>(), "next": next })))
}

/// A job's kind as the app names it (the same in `/api/jobs/{id}`).
pub(super) fn job_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Transcribe => "transcription",
        JobKind::Image => "image",
        JobKind::Idea => "idea",
        JobKind::Summary => "summary",
    }
}

/// Credits as users read them: `+100`, `-85`, `0`.
fn signed(amount: Decimal) -> String {
    if amount > Decimal::ZERO { format!("+{amount}") } else { amount.to_string() }
}

fn line_json(line: &StatementLine) -> Value {
    let mut body = match &line.item {
        StatementItem::Job { job_id, kind, status, duration_seconds } => json!({
            "kind": job_kind(*kind),
            "job_id": job_id,
            "status": status.to_value(),
            "duration_seconds": duration_seconds,
            "held": line.held.to_string(),
        }),
        StatementItem::Payment { payment_id, provider, amount, currency, status } => json!({
            "kind": "purchase",
            "payment_id": payment_id,
            "method": provider.to_value(),
            "amount": amount.to_string(),
            "currency": currency,
            "status": status.to_value(),
        }),
        StatementItem::Credit { kind, memo } => json!({
            "kind": kind.to_value(),
            "memo": memo,
        }),
    };
    body["credits"] = json!(signed(line.credits));
    body["at"] = json!(line.at);
    body
}
