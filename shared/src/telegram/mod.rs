//! What the bot and the worker send to Telegram, composed and sent one way.
//!
//! A transcript reaches the user the same way whether it was just made or is
//! a free repeat of an earlier one: as messages then a footer with the file
//! buttons when short, as one `.txt` file carrying the footer when long.
//!
//! Every process talks to Telegram through one [`Telegram`] client built by
//! [`connect`], which also sets the process's pace ([`pacing`]): one message
//! a second per private chat, twenty a minute per group,
//! `TELEGRAM_MESSAGES_PER_SECOND` overall. Every call goes through
//! [`Counted::counted`], which waits for a send's slot, counts the call and
//! sends it again after a `429`. The bot's handlers and the
//! worker use the same client; [`send`] adds an upper bound on the whole wait for the
//! messages the worker delivers (transcripts, pictures, ideas, notices) and
//! for the copies of an admin's broadcast.

pub mod buttons;
mod calls;
mod pacing;
mod settings;
pub mod updates;

pub use calls::Counted;
pub use pacing::Addressee;
pub use settings::{LocalFileError, LocalFiles, TelegramSettings, UpdateMode};

use std::time::Duration;

use teloxide::{
    RequestError,
    payloads::{SendDocumentSetters, SendMessageSetters, SendPhotoSetters},
    prelude::{Bot, Requester},
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ReplyParameters},
};

use self::buttons::{Callback, TranscriptFile};
use crate::ids::JobId;
use crate::{
    billing::money::Credits,
    texts::i18n::{Lang, Text},
    texts::split::{TELEGRAM_MESSAGE_LIMIT, split_message},
};

/// One message to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// Plain text.
    Text(String),
    /// A file, with an optional caption and buttons.
    Document {
        /// The file name the user sees.
        name: &'static str,
        /// Its bytes.
        body: Vec<u8>,
        /// The text under it.
        caption: Option<String>,
        /// Buttons under it.
        buttons: Option<InlineKeyboardMarkup>,
        /// The message it answers (sent anyway if that message is gone).
        reply_to: Option<MessageId>,
    },
    /// Text with inline buttons.
    WithButtons {
        /// The text.
        text: String,
        /// The buttons.
        buttons: InlineKeyboardMarkup,
    },
    /// Text in reply to an earlier message (sent anyway if that message is gone).
    Reply {
        /// The text.
        text: String,
        /// The message it answers.
        to: MessageId,
    },
    /// A picture with a caption and inline buttons.
    Photo {
        /// The file name.
        name: &'static str,
        /// Its bytes.
        body: bytes::Bytes,
        /// The caption.
        caption: String,
        /// The buttons.
        buttons: InlineKeyboardMarkup,
        /// The message it answers (sent anyway if that message is gone).
        reply_to: Option<MessageId>,
    },
    /// A copy of an existing message (any kind: text, photo, voice...), without
    /// a link to the original: an admin's broadcast.
    Copy {
        /// The chat the original is in.
        from_chat: ChatId,
        /// The original.
        message: MessageId,
    },
}

/// A transcript as it is delivered.
#[derive(Clone, Copy, Debug)]
pub struct TranscriptDelivery<'a> {
    /// The job that made it (its buttons fetch its files).
    pub job: JobId,
    /// Plain text.
    pub txt: &'a str,
    /// Longer texts than this (in characters) come as files.
    pub file_after_chars: usize,
    /// Length, `m:ss`.
    pub duration: &'a str,
    /// Credits charged for it now.
    pub charged: Credits,
    /// The message its first part replies to (the recording, in a group).
    pub reply_to: Option<MessageId>,
}

/// The messages that deliver a transcript, in order.
///
/// A long one is one file, `transcript.txt`, with the footer in its caption
/// and the subtitles behind its button: Telegram paces a chat to a message a
/// second, so every message more is a second more before the user has the
/// whole of it.
pub fn transcript_messages(delivery: &TranscriptDelivery<'_>, lang: Lang) -> Vec<Outgoing> {
    let TranscriptDelivery { job, txt, file_after_chars, duration, charged, reply_to } = *delivery;
    let footer =
        Text::TranscriptFooter { duration: duration.to_owned(), charged: charged.amount() }.render(lang);
    let srt_button = InlineKeyboardButton::callback(
        Text::SrtButton.render(lang),
        Callback::Transcript { job, file: TranscriptFile::Srt }.encode(),
    );
    let summary_button = vec![InlineKeyboardButton::callback(
        Text::SummaryButton.render(lang),
        Callback::Summary { job }.encode(),
    )];
    if txt.chars().count() > file_after_chars || txt.trim().is_empty() {
        // The file is the text: only the subtitles and the summary are a tap away.
        let caption = format!("{}\n{footer}", Text::TranscriptAsFile.render(lang));
        return vec![Outgoing::Document {
            name: "transcript.txt",
            body: txt.as_bytes().to_vec(),
            caption: Some(caption),
            buttons: Some(InlineKeyboardMarkup::new([vec![srt_button], summary_button])),
            reply_to,
        }];
    }
    let buttons = InlineKeyboardMarkup::new([
        vec![
            InlineKeyboardButton::callback(
                Text::TxtButton.render(lang),
                Callback::Transcript { job, file: TranscriptFile::Txt }.encode(),
            ),
            srt_button,
        ],
        summary_button,
    ]);
    let mut outgoing: Vec<Outgoing> =
        split_message(txt, TELEGRAM_MESSAGE_LIMIT).into_iter().map(Outgoing::Text).collect();
    if let (Some(to), Some(Outgoing::Text(first))) = (reply_to, outgoing.first_mut()) {
        let text = std::mem::take(first);
        outgoing[0] = Outgoing::Reply { text, to };
    }
    outgoing.push(Outgoing::WithButtons { text: footer, buttons });
    outgoing
}

/// The one Telegram client of a process; its calls are paced and counted by
/// [`Counted::counted`].
pub type Telegram = Bot;

/// Builds the process's Telegram client and sets the process's pace:
/// `messages_per_second` over all chats, with Telegram's per-chat limits.
pub fn connect(token: &str, api_url: url::Url, messages_per_second: std::num::NonZeroU32) -> Telegram {
    pacing::install(messages_per_second);
    Bot::new(token).set_api_url(api_url)
}

/// Longest wait for one send, including its place in the pacing queue and
/// Telegram's flood waits: past it the send fails and the job is tried later.
const SEND_TIMEOUT: Duration = Duration::from_secs(90);

/// Sends one message through the paced client, waiting at most
/// [`SEND_TIMEOUT`]; Telegram's error is returned for the caller to judge.
///
/// # Errors
/// Telegram's error, or a timeout as an `Io` error.
pub async fn send(bot: &Telegram, chat: ChatId, message: &Outgoing) -> Result<MessageId, RequestError> {
    let attempt = async {
        match message {
            Outgoing::Text(text) => bot.send_message(chat, text.clone()).counted().await.map(|sent| sent.id),
            Outgoing::Document { name, body, caption, buttons, reply_to } => {
                let mut request = bot.send_document(chat, InputFile::memory(body.clone()).file_name(*name));
                if let Some(caption) = caption {
                    request = request.caption(caption.clone());
                }
                if let Some(buttons) = buttons {
                    request = request.reply_markup(buttons.clone());
                }
                if let Some(to) = reply_to {
                    request =
                        request.reply_parameters(ReplyParameters::new(*to).allow_sending_without_reply());
                }
                request.counted().await.map(|sent| sent.id)
            }
            Outgoing::WithButtons { text, buttons } => bot
                .send_message(chat, text.clone())
                .reply_markup(buttons.clone())
                .counted()
                .await
                .map(|sent| sent.id),
            Outgoing::Reply { text, to } => bot
                .send_message(chat, text.clone())
                .reply_parameters(ReplyParameters::new(*to).allow_sending_without_reply())
                .counted()
                .await
                .map(|sent| sent.id),
            Outgoing::Photo { name, body, caption, buttons, reply_to } => {
                let photo = bot
                    .send_photo(chat, InputFile::memory(body.clone()).file_name(*name))
                    .caption(caption.clone())
                    .reply_markup(buttons.clone());
                let sent = match reply_to {
                    Some(to) => {
                        photo
                            .reply_parameters(ReplyParameters::new(*to).allow_sending_without_reply())
                            .counted()
                            .await
                    }
                    None => photo.counted().await,
                };
                sent.map(|sent| sent.id)
            }
            Outgoing::Copy { from_chat, message } => {
                bot.copy_message(chat, *from_chat, *message).counted().await
            }
        }
    };
    match tokio::time::timeout(SEND_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(RequestError::Io(std::sync::Arc::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("Telegram did not take the message in {SEND_TIMEOUT:?}"),
        )))),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn delivery(txt: &str) -> TranscriptDelivery<'_> {
        TranscriptDelivery {
            job: JobId(Uuid::from_u128(7)),
            txt,
            file_after_chars: 100,
            duration: "0:05",
            charged: "1.25".parse().unwrap(),
            reply_to: None,
        }
    }

    #[test]
    fn short_transcripts_come_as_messages_long_ones_as_one_file_both_with_the_footer() {
        let short = transcript_messages(&delivery("Hello there."), Lang::En);
        assert_eq!(short.len(), 2);
        assert_eq!(short[0], Outgoing::Text("Hello there.".into()));
        let Some(Outgoing::WithButtons { text, buttons }) = short.last() else { panic!("no footer") };
        assert_eq!(text, "Duration 0:05, 1.25 credits charged.");
        let labels = |buttons: &InlineKeyboardMarkup| -> Vec<Vec<String>> {
            buttons.inline_keyboard.iter().map(|row| row.iter().map(|b| b.text.clone()).collect()).collect()
        };
        assert_eq!(labels(buttons), [vec!["Get .txt", "Get .srt"], vec!["Summary"]]);
        let summary = &buttons.inline_keyboard[1][0];
        let teloxide::types::InlineKeyboardButtonKind::CallbackData(data) = &summary.kind else {
            panic!("not a callback button")
        };
        assert_eq!(Callback::parse(data), Some(Callback::Summary { job: JobId(Uuid::from_u128(7)) }));

        let long_text = "word ".repeat(100);
        let long = transcript_messages(&delivery(&long_text), Lang::En);
        assert_eq!(long.len(), 1, "one message: Telegram paces a chat to one a second");
        let Outgoing::Document {
            name: "transcript.txt",
            body,
            caption: Some(caption),
            buttons: Some(buttons),
            ..
        } = &long[0]
        else {
            panic!("{:?}", long[0])
        };
        assert_eq!(body, long_text.as_bytes());
        assert!(caption.starts_with("The text is long, so here it is as a file"), "{caption}");
        assert!(caption.ends_with("\nDuration 0:05, 1.25 credits charged."), "{caption}");
        // The file is the text: the subtitles and the summary stay a tap away.
        assert_eq!(labels(buttons), [vec!["Get .srt"], vec!["Summary"]]);
    }

    #[test]
    fn in_a_group_the_first_part_replies_to_the_recording() {
        let to = MessageId(41);
        let short =
            transcript_messages(&TranscriptDelivery { reply_to: Some(to), ..delivery("Hi.") }, Lang::En);
        assert_eq!(short[0], Outgoing::Reply { text: "Hi.".into(), to });
        assert!(matches!(short[1], Outgoing::WithButtons { .. }));
        let long_text = "word ".repeat(100);
        let long =
            transcript_messages(&TranscriptDelivery { reply_to: Some(to), ..delivery(&long_text) }, Lang::En);
        assert!(
            matches!(&long[0], Outgoing::Document { name: "transcript.txt", reply_to: Some(first), .. } if *first == to)
        );
        assert_eq!(long.len(), 1);
    }
}
