//! What the bot and the worker send to Telegram, composed and sent one way.
//!
//! A transcript reaches the user the same way whether it was just made or is
//! a free repeat of an earlier one: as messages when short, as `.txt` and
//! `.srt` files when long, then a footer with the file buttons. Every send
//! goes through [`send`], which waits out Telegram's `retry_after` and gives
//! up after a few tries or a timeout. The worker sends everything it
//! delivers (transcripts, pictures, ideas, failure notices) through it.

use std::time::Duration;

use teloxide::{
    RequestError,
    payloads::{SendMessageSetters, SendPhotoSetters},
    prelude::{Bot, Requester},
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId},
};
use uuid::Uuid;

use crate::{
    i18n::{Lang, Text},
    money::Credits,
    text::{TELEGRAM_MESSAGE_LIMIT, split_message},
};

/// One message to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// Plain text.
    Text(String),
    /// A file.
    Document {
        /// The file name the user sees.
        name: &'static str,
        /// Its bytes.
        body: Vec<u8>,
    },
    /// Text with inline buttons.
    WithButtons {
        /// The text.
        text: String,
        /// The buttons.
        buttons: InlineKeyboardMarkup,
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
    },
}

/// Which stored file a transcript button asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranscriptFile {
    /// Plain text.
    Txt,
    /// Subtitles.
    Srt,
}

/// The callback data of the button that sends `file` of job `job`'s transcript.
pub fn transcript_button_data(job: Uuid, file: TranscriptFile) -> String {
    match file {
        TranscriptFile::Txt => format!("tf:{}:txt", job.simple()),
        TranscriptFile::Srt => format!("tf:{}:srt", job.simple()),
    }
}

/// A transcript as it is delivered.
#[derive(Clone, Copy, Debug)]
pub struct TranscriptDelivery<'a> {
    /// The job that made it (its buttons fetch its files).
    pub job: Uuid,
    /// Plain text.
    pub txt: &'a str,
    /// Subtitles.
    pub srt: &'a str,
    /// Longer texts than this (in characters) come as files.
    pub file_after_chars: usize,
    /// Length, `m:ss`.
    pub duration: &'a str,
    /// Credits charged for it now.
    pub charged: Credits,
}

/// The messages that deliver a transcript, in order.
pub fn transcript_messages(delivery: &TranscriptDelivery<'_>, lang: Lang) -> Vec<Outgoing> {
    let TranscriptDelivery { job, txt, srt, file_after_chars, duration, charged } = *delivery;
    let mut outgoing = Vec::new();
    if txt.chars().count() <= file_after_chars && !txt.trim().is_empty() {
        outgoing.extend(split_message(txt, TELEGRAM_MESSAGE_LIMIT).into_iter().map(Outgoing::Text));
    } else {
        outgoing.push(Outgoing::Text(Text::TranscriptAsFiles.render(lang)));
        outgoing.push(Outgoing::Document { name: "transcript.txt", body: txt.as_bytes().to_vec() });
        outgoing.push(Outgoing::Document { name: "transcript.srt", body: srt.as_bytes().to_vec() });
    }
    outgoing.push(Outgoing::WithButtons {
        text: Text::TranscriptFooter { duration: duration.to_owned(), charged: charged.amount() }
            .render(lang),
        buttons: InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback(
                Text::TxtButton.render(lang),
                transcript_button_data(job, TranscriptFile::Txt),
            ),
            InlineKeyboardButton::callback(
                Text::SrtButton.render(lang),
                transcript_button_data(job, TranscriptFile::Srt),
            ),
        ]]),
    });
    outgoing
}

/// Longest wait for one send.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends after a `429` at most this many times.
const FLOOD_RETRIES: u32 = 3;

/// Longest `retry_after` waited out; a longer one fails the send (the job is retried later).
const LONGEST_FLOOD_WAIT: Duration = Duration::from_secs(60);

/// Sends one message, waiting out Telegram's flood control (`429 retry_after`)
/// a few times; every other error, and a send that takes longer than a
/// minute, is returned for the caller to judge.
///
/// # Errors
/// Telegram's error, or a timeout as [`RequestError::Network`]-like `Io`.
pub async fn send(bot: &Bot, chat: ChatId, message: &Outgoing) -> Result<MessageId, RequestError> {
    let mut tries = 0;
    loop {
        let attempt = async {
            match message {
                Outgoing::Text(text) => bot.send_message(chat, text.clone()).await,
                Outgoing::Document { name, body } => {
                    bot.send_document(chat, InputFile::memory(body.clone()).file_name(*name)).await
                }
                Outgoing::WithButtons { text, buttons } => {
                    bot.send_message(chat, text.clone()).reply_markup(buttons.clone()).await
                }
                Outgoing::Photo { name, body, caption, buttons } => {
                    bot.send_photo(chat, InputFile::memory(body.clone()).file_name(*name))
                        .caption(caption.clone())
                        .reply_markup(buttons.clone())
                        .await
                }
            }
        };
        let result = match tokio::time::timeout(SEND_TIMEOUT, attempt).await {
            Ok(result) => result,
            Err(_) => {
                return Err(RequestError::Io(std::sync::Arc::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("Telegram did not answer in {SEND_TIMEOUT:?}"),
                ))));
            }
        };
        match result {
            Err(RequestError::RetryAfter(wait))
                if tries < FLOOD_RETRIES && wait.duration() <= LONGEST_FLOOD_WAIT =>
            {
                tries += 1;
                tracing::info!(chat = chat.0, wait = ?wait.duration(), "Telegram asked to slow down; waiting");
                tokio::time::sleep(wait.duration()).await;
            }
            other => return other.map(|sent| sent.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(txt: &str) -> TranscriptDelivery<'_> {
        TranscriptDelivery {
            job: Uuid::from_u128(7),
            txt,
            srt: "1\n00:00:00,000 --> 00:00:01,000\nhi\n",
            file_after_chars: 100,
            duration: "0:05",
            charged: "1.25".parse().unwrap(),
        }
    }

    #[test]
    fn short_transcripts_come_as_messages_long_ones_as_files_both_with_the_footer() {
        let short = transcript_messages(&delivery("Hello there."), Lang::En);
        assert_eq!(short.len(), 2);
        assert_eq!(short[0], Outgoing::Text("Hello there.".into()));
        let long_text = "word ".repeat(100);
        let long = transcript_messages(&delivery(&long_text), Lang::En);
        assert!(matches!(long[1], Outgoing::Document { name: "transcript.txt", .. }));
        assert!(matches!(long[2], Outgoing::Document { name: "transcript.srt", .. }));
        for messages in [short, long] {
            let Some(Outgoing::WithButtons { text, buttons }) = messages.last() else { panic!("no footer") };
            assert_eq!(text, "Duration 0:05, 1.25 credits charged.");
            assert_eq!(buttons.inline_keyboard[0].len(), 2);
        }
    }

    #[test]
    fn button_data_names_the_job_and_the_file() {
        let job = Uuid::from_u128(0xabc);
        assert_eq!(transcript_button_data(job, TranscriptFile::Srt), format!("tf:{}:srt", job.simple()));
    }
}
