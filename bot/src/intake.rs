//! Recordings in: validate, price, hold, queue, and tell the user.

use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use shared::{
    billing::ledger::LedgerError,
    billing::money::Credits,
    billing::pricing::{self, Work},
    jobs::{self, JobError, MediaSource, TranscriptionInput},
    telegram::{self, TranscriptDelivery},
    texts::i18n::{Text, minutes_seconds},
};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::{Message, Requester},
    types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ReplyParameters},
};

use shared::telegram::buttons::Callback;

use crate::startup::AppState;

/// A recording as it arrived, before any check.
struct Incoming {
    input: TranscriptionInput,
    /// Whether Telegram says it is audio or video at all.
    is_media: bool,
}

fn incoming(msg: &Message) -> Option<Incoming> {
    let (file, duration, mime, name, source) = if let Some(v) = msg.voice() {
        (
            &v.file,
            Some(v.duration.seconds()),
            v.mime_type.as_ref().map(ToString::to_string),
            None,
            MediaSource::Voice,
        )
    } else if let Some(a) = msg.audio() {
        (
            &a.file,
            Some(a.duration.seconds()),
            a.mime_type.as_ref().map(ToString::to_string),
            a.file_name.clone(),
            MediaSource::Audio,
        )
    } else if let Some(v) = msg.video_note() {
        (&v.file, Some(v.duration.seconds()), Some("video/mp4".to_owned()), None, MediaSource::VideoNote)
    } else if let Some(v) = msg.video() {
        (
            &v.file,
            Some(v.duration.seconds()),
            v.mime_type.as_ref().map(ToString::to_string),
            v.file_name.clone(),
            MediaSource::Video,
        )
    } else if let Some(d) = msg.document() {
        (
            &d.file,
            None,
            d.mime_type.as_ref().map(ToString::to_string),
            d.file_name.clone(),
            MediaSource::Document,
        )
    } else {
        return None;
    };
    let size = (file.size != u32::MAX).then_some(u64::from(file.size));
    let is_media = match source {
        MediaSource::Document => {
            mime.as_deref().is_some_and(|m| m.starts_with("audio/") || m.starts_with("video/"))
                || mime.as_deref() == Some("application/ogg")
        }
        _ => true,
    };
    let duration = duration.unwrap_or_else(|| jobs::estimated_seconds(size.unwrap_or(0)));
    Some(Incoming {
        input: TranscriptionInput {
            file_id: file.id.0.clone(),
            file_unique_id: file.unique_id.0.clone(),
            file_size: size,
            mime_type: mime,
            file_name: name,
            duration_hint_s: duration.max(1),
            source,
            reply_to: None,
        },
        is_media,
    })
}

/// Whether a message carries something we could transcribe.
pub fn is_recording(msg: &Message) -> bool {
    incoming(msg).is_some()
}

/// Where a recording came from, which changes who is told what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The payer's private chat with the bot: everything is said there.
    Private,
    /// A group: answers reply to `reply_to`, the transcript replies to the
    /// recording, and nothing of the payer's account is shown.
    Group {
        /// The message answers reply to (the request, or the recording itself).
        reply_to: MessageId,
        /// Automatic transcription (`/auto on`): the per-chat daily cap bounds
        /// it, not the payer's limit of unfinished jobs.
        automatic: bool,
    },
}

/// What became of a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intake {
    /// Queued with its price held.
    Queued,
    /// Transcribed before: the stored transcript was sent again, free.
    Repeated,
    /// Refused (too big, too long, not audio, too many jobs); the chat was told why.
    Refused,
    /// The payer cannot pay for it; in a group the caller tells the chat (in
    /// private the payer was shown the price, their balance and top-ups).
    Unaffordable,
}

/// The Telegram duration of a recording (an estimate for documents), if the
/// message carries one.
pub fn duration_hint(msg: &Message) -> Option<u32> {
    incoming(msg).map(|incoming| incoming.input.duration_hint_s)
}

/// Handles a voice note, audio, video note, video or document paid by `user`.
#[tracing::instrument(skip_all, fields(chat_id = msg.chat.id.0, user_id))]
pub async fn on_recording(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    user: &shared::entities::users::Model,
    audience: Audience,
) -> anyhow::Result<Intake> {
    tracing::Span::current().record("user_id", user.id.0);
    let lang = user.language;
    let Some(Incoming { mut input, is_media }) = incoming(msg) else { return Ok(Intake::Refused) };
    let settings = &state.settings;
    let (reply_to, automatic) = match audience {
        Audience::Private => (None, false),
        Audience::Group { reply_to, automatic } => (Some(reply_to), automatic),
    };
    input.reply_to = reply_to.map(|_| msg.id.0);
    let say = |text: Text| {
        let request = bot.send_message(msg.chat.id, text.render(lang));
        match reply_to {
            Some(to) => request.reply_parameters(ReplyParameters::new(to).allow_sending_without_reply()),
            None => request,
        }
    };

    if !is_media {
        say(Text::NotAudio).counted().await?;
        return Ok(Intake::Refused);
    }
    let limit = settings.telegram.max_download_bytes;
    if input.file_size.is_some_and(|size| size > limit) {
        say(Text::FileTooBig { limit_mb: limit / 1_000_000 }).counted().await?;
        return Ok(Intake::Refused);
    }
    if input.source != MediaSource::Document
        && input.duration_hint_s > settings.max_audio_minutes.saturating_mul(60)
    {
        say(Text::TooLong { max_minutes: settings.max_audio_minutes }).counted().await?;
        return Ok(Intake::Refused);
    }
    if let Some(earlier) = jobs::previous_transcript(&state.db, user.id, &input.file_unique_id).await? {
        // The same content again: the stored transcript, free and at once, delivered as the
        // first time (a file for a long one, the footer and its buttons).
        let txt = state.store.get(&storage::ObjectKey::parse(&earlier.txt_key)?).await?;
        let txt = String::from_utf8_lossy(&txt);
        let seconds = pricing::billable_seconds(u64::try_from(earlier.duration_ms).unwrap_or(0));
        let delivery = TranscriptDelivery {
            job: earlier.job_id,
            txt: &txt,
            file_after_chars: settings.transcript_file_after_chars,
            duration: &minutes_seconds(seconds),
            charged: Credits::ZERO,
            reply_to: reply_to.map(|_| msg.id),
        };
        if reply_to.is_none() {
            say(Text::AlreadyTranscribed).counted().await?;
        }
        for message in telegram::transcript_messages(&delivery, lang) {
            telegram::send(bot, msg.chat.id, &message).await?;
        }
        return Ok(Intake::Repeated);
    }
    if !automatic
        && jobs::unfinished_count(&state.db, user.id).await? >= u64::from(settings.max_queued_jobs_per_user)
    {
        say(Text::TooManyJobs { limit: settings.max_queued_jobs_per_user }).counted().await?;
        return Ok(Intake::Refused);
    }

    let queued =
        match jobs::create_transcription(&state.db, &state.ledger, user.id, msg.chat.id.into(), &input).await
        {
            Ok(queued) => queued,
            Err(JobError::Ledger(LedgerError::InsufficientFunds { .. })) if reply_to.is_some() => {
                return Ok(Intake::Unaffordable);
            }
            Err(JobError::Ledger(LedgerError::InsufficientFunds { available, .. })) => {
                let quote = pricing::quote(
                    state.ledger.pricing(),
                    Work::Transcription { seconds: input.duration_hint_s },
                    state.ledger.balance(&state.db, user.id).await?.free_seconds_left_today,
                );
                let buy = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
                    Text::BuyButton.render(lang),
                    Callback::Buy.encode(),
                )]]);
                bot.send_message(
                    msg.chat.id,
                    Text::InsufficientFunds { price: quote.price.amount(), available: available.amount() }
                        .render(lang),
                )
                .reply_markup(buy)
                .counted()
                .await?;
                return Ok(Intake::Unaffordable);
            }
            Err(err) => return Err(err.into()),
        };
    let position = jobs::queue_position(&state.db, queued.job_id).await?;
    // Pushed before the status message is sent: that message waits its turn in the chat's
    // pacing (a second after the bot's last message there), the work does not.
    // A failed push is not lost: the job row stays queued and the sweeper pushes it again.
    if let Err(err) = state.queue.push_transcribe(queued.job_id).await {
        tracing::warn!(job_id = %queued.job_id, error = %err, "queue push failed; the sweeper will retry");
    }
    let status = say(Text::Queued {
        price: queued.hold.amount.amount(),
        free_seconds: queued.hold.free_units,
        position,
    })
    .counted()
    .await?;
    if !jobs::set_status_message(&state.db, queued.job_id, status.id.0).await? {
        // Done before its status could be shown: the transcript and its footer say it all.
        if let Err(err) = bot.delete_message(msg.chat.id, status.id).counted().await {
            tracing::info!(job_id = %queued.job_id, error = %err, "could not remove a stale status message");
        }
    }
    tracing::info!(job_id = %queued.job_id, price = %queued.hold.amount, "transcription queued");
    Ok(Intake::Queued)
}
