//! Retention of recordings and transcripts, beside that of pictures
//! ([`crate::images::apply_retention`]): originals of recordings go after
//! `AUDIO_RETENTION_DAYS`, transcripts (text, subtitles, summary) after
//! `TRANSCRIPT_RETENTION_DAYS`; each removal is recorded on its row. It also
//! removes what a worker stored for a job cancelled by `/deletemydata` while
//! it ran.

use sea_orm::DatabaseConnection;
use shared::media::retention::{self, DeletionReason, RetentionSettings};
use storage::ObjectStore;

/// Rows one pass looks at per kind: a backlog is worked off over several ticks.
const BATCH: u32 = 500;

/// How long recordings and transcripts stay, and where they are.
#[derive(Clone)]
pub struct MediaRetention {
    /// Object storage.
    pub store: ObjectStore,
    /// The ages (`None`: kept for ever).
    pub settings: RetentionSettings,
}

/// What one pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaRetentionReport {
    /// Original recordings deleted.
    pub recordings: usize,
    /// Transcripts deleted (their files and text).
    pub transcripts: usize,
    /// Objects of jobs cancelled by a deletion, stored after it, deleted.
    pub erased_leftovers: usize,
}

/// One pass: deletes recordings and transcripts past their age and the
/// leftovers of deleted accounts. A storage failure stops that kind for this
/// pass (the next one goes on) without losing what was recorded.
///
/// # Errors
/// When the database fails.
pub async fn apply(
    db: &DatabaseConnection,
    retention: &MediaRetention,
) -> anyhow::Result<MediaRetentionReport> {
    let now = chrono::Utc::now();
    let store = &retention.store;
    let mut report = MediaRetentionReport::default();
    if let Some(max_age) = retention.settings.audio {
        let expired = retention::expired_recordings(db, now - max_age, BATCH).await?;
        report.recordings = settle(
            retention::delete_objects(db, store, &expired, DeletionReason::Retention).await,
            "recordings",
        );
    }
    if let Some(max_age) = retention.settings.transcripts {
        for job in retention::expired_transcripts(db, now - max_age, BATCH).await? {
            match retention::delete_transcript(db, store, job, DeletionReason::Retention).await {
                Ok(true) => report.transcripts += 1,
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(job_id = %job, error = format!("{err:#}"), "cannot delete a transcript; next pass tries again");
                    break;
                }
            }
        }
    }
    let leftovers = retention::erased_leftovers(db, BATCH).await?;
    report.erased_leftovers = settle(
        retention::delete_objects(db, store, &leftovers, DeletionReason::UserRequest).await,
        "objects of deleted accounts",
    );
    for job in retention::erased_transcripts(db, BATCH).await? {
        retention::forget_transcript(db, job, DeletionReason::UserRequest).await?;
    }
    if report != MediaRetentionReport::default() {
        tracing::info!(
            recordings = report.recordings,
            transcripts = report.transcripts,
            erased_leftovers = report.erased_leftovers,
            "retention deleted old recordings and transcripts"
        );
    }
    Ok(report)
}

/// The count of a batch removal; a failure is logged and counts nothing
/// (the rows it did remove are recorded, the rest wait for the next pass).
fn settle(removed: anyhow::Result<usize>, what: &str) -> usize {
    removed.unwrap_or_else(|err| {
        tracing::warn!(what, error = format!("{err:#}"), "cannot delete; next pass tries again");
        0
    })
}
