//! Periodic housekeeping, run by one worker process at a time: re-push jobs
//! whose queue message was lost, release holds stuck on finished jobs, and
//! delete pictures, recordings and transcripts past their retention.

use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use shared::{
    billing::ledger::Ledger,
    entities::payments::PaymentProvider,
    jobs,
    jobs::queue::JobQueue,
    media::transcripts,
    payments::yookassa::YooKassa,
    payments::{self, PaymentOutcome},
};
use teloxide::prelude::Requester;

mod plans;

/// Advisory lock taken for a tick, so concurrent workers do not sweep twice.
pub const MAINTENANCE_LOCK_KEY: i64 = 0x7467_626f_745f_6d74;

/// Longest wait for YooKassa or Telegram during a tick: a tick holds the
/// maintenance lock, so a hung service must not stop sweeping for every
/// worker (queue pushes have their own timeout).
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// How long Redis keeps a finished queue message (PostgreSQL keeps the job).
pub const FINISHED_MESSAGE_AGE: Duration = Duration::from_secs(3600);
/// How old an open hold on a finished job must be before it is released.
pub const STALE_HOLD_AGE: chrono::Duration = chrono::Duration::hours(1);
/// How long a YooKassa payment may stay pending before we ask YooKassa ourselves.
pub const RECONCILE_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// What maintenance works with.
#[derive(Clone)]
pub struct Maintenance {
    /// Database pool.
    pub db: DatabaseConnection,
    /// The ledger.
    pub ledger: Ledger,
    /// Producer side of the queues.
    pub queue: JobQueue,
    /// YooKassa, when configured, for reconciliation.
    pub yookassa: Option<YooKassa>,
    /// Telegram, to tell payers about settled payments.
    pub bot: Telegram,
    /// Referrer's share of a first purchase, in percent.
    pub referral_percent: u32,
    /// Picture retention; `None` keeps everything.
    pub retention: Option<crate::images::Retention>,
    /// Retention of recordings and transcripts; `None` keeps everything.
    pub media_retention: Option<crate::retention::MediaRetention>,
    /// Object storage, to give older transcripts their searchable text; `None` skips that.
    pub store: Option<storage::ObjectStore>,
    /// How long a queued job may wait unclaimed after a push before it is pushed again.
    pub repush_after: Duration,
}

/// What one tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// False when another process held the lock and this tick did nothing.
    pub ran: bool,
    /// Jobs pushed to the queue again.
    pub requeued: usize,
    /// Holds released.
    pub holds_released: usize,
    /// Lost-notification payments settled from YooKassa's answer.
    pub payments_settled: usize,
    /// Pictures deleted by retention.
    pub images_deleted: crate::images::RetentionReport,
    /// Recordings and transcripts deleted by retention.
    pub media_deleted: crate::retention::MediaRetentionReport,
    /// Finished queue messages whose data Redis no longer keeps.
    pub queue_messages_forgotten: usize,
    /// Webhook updates handled long ago, forgotten.
    pub updates_forgotten: u64,
    /// Transcripts from before search whose text was copied into PostgreSQL.
    pub texts_backfilled: usize,
    /// Mini App uploads never completed, aborted and removed from storage.
    pub uploads_aborted: u64,
    /// YooKassa plans renewed by charging the saved card.
    pub plans_renewed: usize,
    /// Plans taken off sale that stopped renewing.
    pub plans_withdrawn: usize,
    /// Plans ended: their last period is over.
    pub plans_ended: usize,
    /// Second plans paid while one ran, given back.
    pub duplicates_refunded: usize,
}

/// Runs one whole maintenance pass (the sweep and the slower upkeep) if no
/// other process is running one.
pub async fn tick(m: &Maintenance) -> anyhow::Result<TickReport> {
    pass(m, true).await
}

/// How often the slower upkeep (reconciling payments with YooKassa and
/// Telegram, retention, clearing old queue data) runs; the sweep of jobs and
/// holds runs every tick, so a dead worker's job is taken over quickly.
const UPKEEP_EVERY: Duration = Duration::from_secs(30);

/// One pass: always the sweep; the upkeep too when `upkeep`.
async fn pass(m: &Maintenance, upkeep: bool) -> anyhow::Result<TickReport> {
    let (db, ledger, queue) = (&m.db, &m.ledger, &m.queue);
    let lock = db.begin().await?;
    let row = lock
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock({MAINTENANCE_LOCK_KEY}) AS locked"),
        ))
        .await?;
    let locked = row.map(|row| row.try_get::<bool>("", "locked")).transpose()?.unwrap_or(false);
    if !locked {
        return Ok(TickReport::default());
    }
    let mut report = TickReport { ran: true, ..TickReport::default() };

    let stale = jobs::stale_jobs(db, chrono::Utc::now(), m.repush_after).await?;
    let mut pushed = Vec::new();
    for (job_id, kind) in stale {
        match queue.push_job(kind, job_id).await {
            Ok(()) => pushed.push(job_id),
            Err(err) => {
                tracing::warn!(%job_id, error = %err, "re-push failed; next tick tries again");
                break;
            }
        }
    }
    jobs::mark_pushed(db, &pushed).await?;
    report.requeued = pushed.len();
    if report.requeued > 0 {
        tracing::info!(
            count = report.requeued,
            "pushed again jobs whose lease ended or whose message was lost"
        );
    }

    report.holds_released = ledger.release_stale_holds(db, STALE_HOLD_AGE).await?.len();
    if !upkeep {
        lock.commit().await?;
        return Ok(report);
    }
    match queue.forget_finished(FINISHED_MESSAGE_AGE).await {
        Ok(forgotten) => report.queue_messages_forgotten = forgotten,
        Err(err) => {
            tracing::warn!(error = %err, "could not clear finished queue messages; next tick tries again")
        }
    }
    report.updates_forgotten = shared::telegram::updates::forget_handled(db).await?;
    if let Some(store) = &m.store {
        report.texts_backfilled = backfill_transcript_texts(db, store).await?;
        report.uploads_aborted =
            shared::media::uploads::abort_abandoned(db, store, ABANDONED_UPLOAD_AGE).await?;
    }
    if let Some(client) = &m.yookassa {
        report.payments_settled = reconcile_yookassa(m, client).await?;
    }
    report.plans_withdrawn = plans::withdraw(m).await?;
    if let Some(client) = &m.yookassa {
        report.plans_renewed = plans::renew(m, client).await?;
    }
    report.plans_ended = plans::end(m).await?;
    report.duplicates_refunded = plans::refund_duplicates(m).await?;
    report.payments_settled += settle_recorded_charges(m).await?;
    report.payments_settled += reconcile_stars(m).await?;
    if let Some(retention) = &m.retention {
        report.images_deleted = crate::images::apply_retention(db, retention).await?;
    }
    if let Some(retention) = &m.media_retention {
        report.media_deleted = crate::retention::apply(db, retention).await?;
    }
    lock.commit().await?;
    Ok(report)
}

/// An upload not completed after this long is abandoned: a phone line moves
/// the largest one in well under that, and its parts cost storage until aborted.
const ABANDONED_UPLOAD_AGE: Duration = Duration::from_secs(24 * 3600);

/// Transcripts a tick gives their searchable text, at most.
const TEXT_BACKFILL_BATCH: u32 = 20;

/// Copies the stored `.txt` of transcripts made before their text was kept in
/// PostgreSQL, a batch per tick, so search finds them too. A file retention
/// already removed leaves an empty text (nothing to find, nothing to retry).
async fn backfill_transcript_texts(
    db: &DatabaseConnection,
    store: &storage::ObjectStore,
) -> anyhow::Result<usize> {
    let missing = transcripts::without_text(db, TEXT_BACKFILL_BATCH).await?;
    for (job_id, key) in &missing {
        let text = match store.get(&storage::ObjectKey::parse(key)?).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(storage::StorageError::NotFound(_)) => String::new(),
            Err(err) => return Err(err.into()),
        };
        transcripts::set_text(db, *job_id, &text).await?;
    }
    Ok(missing.len())
}

/// Asks YooKassa about payments pending for long, so a lost notification
/// never loses a payment.
async fn reconcile_yookassa(m: &Maintenance, client: &YooKassa) -> anyhow::Result<usize> {
    use tracing::Instrument as _;
    let mut settled = 0;
    for payment in payments::pending_older_than(&m.db, PaymentProvider::YooKassa, RECONCILE_AFTER).await? {
        let Some(provider_id) = payment.provider_payment_id.as_deref() else { continue };
        let span = tracing::info_span!("reconcile", payment_id = %payment.id);
        let fetching = answered("YooKassa, fetching a pending payment", client.get_payment(provider_id));
        let Some(fetched) = fetching.instrument(span).await else { continue };
        let outcome = payments::apply_yookassa(&m.db, &m.ledger, &fetched, m.referral_percent).await?;
        if outcome != PaymentOutcome::Nothing {
            settled += 1;
            tracing::warn!(payment_id = %payment.id, ?outcome, "settled a payment whose notification never came");
        }
        tell_payer(m, &outcome, payment.id).await?;
    }
    Ok(settled)
}

/// How long a recorded Telegram charge may stay uncredited before maintenance
/// credits it (the update handler normally does within milliseconds).
const RECORDED_CHARGE_GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// Pages of the Stars history read per tick (100 lines each).
const STAR_PAGES_PER_TICK: u32 = 10;

/// Credits Telegram charges whose update was recorded but not credited
/// (the handler failed, or the bot died between the two steps).
async fn settle_recorded_charges(m: &Maintenance) -> anyhow::Result<usize> {
    let mut settled = 0;
    for charge in payments::recorded_unsettled(&m.db, RECORDED_CHARGE_GRACE).await? {
        settled += settle_charge(m, &charge).await?;
    }
    Ok(settled)
}

/// Reads the Stars history past where the last pass stopped and credits
/// every payment to the bot that is ours and still pending: a payment whose
/// update never arrived is credited all the same.
async fn reconcile_stars(m: &Maintenance) -> anyhow::Result<usize> {
    use teloxide::{
        payloads::GetStarTransactionsSetters,
        types::{TransactionPartner, TransactionPartnerUserKind},
    };
    let mut position = payments::star_history_position(&m.db).await?;
    let mut settled = 0;
    for _ in 0..STAR_PAGES_PER_TICK {
        let page =
            m.bot.get_star_transactions().offset(u32::try_from(position).unwrap_or(u32::MAX)).limit(100);
        let page = match tokio::time::timeout(CALL_TIMEOUT, page.counted()).await {
            Ok(Ok(page)) => page.transactions,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "cannot read the Stars history; next tick tries again");
                break;
            }
            Err(_) => {
                tracing::warn!("Telegram did not answer getStarTransactions; next tick tries again");
                break;
            }
        };
        for transaction in &page {
            let Some(TransactionPartner::User(partner)) = &transaction.source else { continue };
            let TransactionPartnerUserKind::InvoicePayment(invoice) = &partner.kind else { continue };
            let Some(payment_id) = invoice.invoice_payload.as_deref().and_then(|p| p.parse().ok()) else {
                continue;
            };
            let charge = payments::TelegramCharge {
                payment_id,
                charge_id: transaction.id.0.clone(),
                currency: "XTR".to_owned(),
                total_amount: transaction.amount,
                raw: serde_json::to_value(transaction)?,
            };
            settled += settle_charge(m, &charge).await?;
        }
        position += page.len() as u64;
        payments::set_star_history_position(&m.db, position).await?;
        if page.len() < 100 {
            break;
        }
    }
    Ok(settled)
}

/// Credits one reported charge (once) and tells the payer; a charge that is
/// not ours or does not match its invoice is logged and left alone.
async fn settle_charge(m: &Maintenance, charge: &payments::TelegramCharge) -> anyhow::Result<usize> {
    let outcome = match payments::settle_telegram_charge(&m.db, &m.ledger, charge, m.referral_percent).await {
        Ok(outcome) => outcome,
        Err(payments::PaymentError::NotFound(_)) => return Ok(0),
        Err(err @ payments::PaymentError::AmountMismatch { .. }) => {
            tracing::error!(payment_id = %charge.payment_id, error = %err, "a Telegram charge does not match its invoice");
            return Ok(0);
        }
        Err(err) => return Err(err.into()),
    };
    if outcome == PaymentOutcome::Nothing {
        return Ok(0);
    }
    tracing::warn!(payment_id = %charge.payment_id, charge_id = %charge.charge_id, "credited a payment its update did not");
    tell_payer(m, &outcome, charge.payment_id).await?;
    Ok(1)
}

/// Tells the payer what became of their payment; a failed message is only logged.
async fn tell_payer(
    m: &Maintenance,
    outcome: &PaymentOutcome,
    payment_id: shared::ids::PaymentId,
) -> anyhow::Result<()> {
    let Some((chat, text)) = payments::notice_for(&m.db, &m.ledger, outcome).await? else { return Ok(()) };
    use tracing::Instrument as _;
    send_logged(m, chat, text).instrument(tracing::info_span!("payment notice", %payment_id)).await;
    Ok(())
}

/// `call`'s answer within [`CALL_TIMEOUT`]; a refusal or silence of `service`
/// (named with what was asked) is logged and `None`: the next tick tries again.
async fn answered<T, E: std::fmt::Display>(
    service: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(answer)) => Some(answer),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "{service}: refused; next tick tries again");
            None
        }
        Err(_) => {
            tracing::warn!("{service}: no answer; next tick asks again");
            None
        }
    }
}

/// Sends `text` to `chat` within [`CALL_TIMEOUT`]; a failure is logged, not returned
/// (a tick holds the maintenance lock and must go on).
async fn send_logged(m: &Maintenance, chat: shared::ids::ChatId, text: String) {
    match tokio::time::timeout(CALL_TIMEOUT, m.bot.send_message(chat, text).counted()).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => tracing::warn!(chat = chat.0, error = %err, "could not tell a user"),
        Err(_) => tracing::warn!(chat = chat.0, "Telegram did not answer; the user was not told"),
    }
}

/// Ticks every `every` until the process stops; errors are logged and retried next tick.
pub async fn run_forever(maintenance: Maintenance, every: Duration) {
    use tracing::Instrument as _;
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_upkeep: Option<tokio::time::Instant> = None;
    loop {
        interval.tick().await;
        let upkeep = last_upkeep.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY);
        let result = pass(&maintenance, upkeep).instrument(tracing::info_span!("maintenance", upkeep)).await;
        match result {
            // A pass another process ran does not count: upkeep is tried again next tick.
            Ok(report) if upkeep && report.ran => last_upkeep = Some(tokio::time::Instant::now()),
            Ok(_) => {}
            Err(err) => tracing::error!(error = format!("{err:#}"), "maintenance tick failed"),
        }
    }
}
