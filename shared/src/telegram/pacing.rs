//! Every message a process sends, kept within Telegram's limits the moment it can go.
//!
//! Telegram allows about one message a second in a private chat, twenty a minute in a group
//! or channel, and some tens a second overall; past them it answers `429`. A send first waits
//! for its chat's slot, then for the overall one, and leaves as soon as both are free: a reply
//! to an idle chat leaves at once. (teloxide's `Throttle`, which this replaces, let its queue go
//! four times a second, so every reply waited up to 250 ms and a process never sent more than
//! its per-second limit in bursts of a quarter second.) Only sends are paced, as Telegram limits
//! messages; edits, callback answers and reads go straight out.
//!
//! The limits are Telegram's per bot, so the pacer is the process's, shared by every clone of
//! its client: [`super::connect`] installs it and [`super::Counted::counted`] waits on it.

use std::{
    num::NonZeroU32,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Jitter, Quota, RateLimiter};
use teloxide::{
    payloads,
    types::{ChatId, Recipient},
};

/// A message every so many sends makes the pacer forget chats idle long enough to be free.
const FORGET_EVERY: u64 = 4096;

/// Waiters on one slot spread their next look over this much time rather than all waking at
/// once.
const JITTER: Duration = Duration::from_millis(5);

/// The pace of one process's sends.
struct Pacer {
    overall: DefaultDirectRateLimiter,
    /// Private chats: one message a second.
    people: DefaultKeyedRateLimiter<ChatId>,
    /// Groups, supergroups and channels: twenty a minute, a few at once.
    groups: DefaultKeyedRateLimiter<Recipient>,
    sends: AtomicU64,
}

impl Pacer {
    fn new(messages_per_second: NonZeroU32) -> Self {
        const ONE: NonZeroU32 = NonZeroU32::MIN;
        let group_burst = NonZeroU32::new(3).unwrap_or(ONE);
        let group_rate = NonZeroU32::new(20).unwrap_or(ONE);
        Self {
            overall: RateLimiter::direct(Quota::per_second(messages_per_second)),
            people: RateLimiter::keyed(Quota::per_second(ONE)),
            groups: RateLimiter::keyed(Quota::per_minute(group_rate).allow_burst(group_burst)),
            sends: AtomicU64::new(0),
        }
    }

    async fn wait(&self, to: &Recipient) {
        let jitter = Jitter::up_to(JITTER);
        match to {
            Recipient::Id(chat) if chat.is_user() => {
                self.people.until_key_ready_with_jitter(chat, jitter).await
            }
            _ => self.groups.until_key_ready_with_jitter(to, jitter).await,
        }
        self.overall.until_ready_with_jitter(jitter).await;
        if self.sends.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.people.retain_recent();
            self.groups.retain_recent();
        }
    }
}

static PACER: RwLock<Option<Arc<Pacer>>> = RwLock::new(None);

/// Makes `messages_per_second` the process's overall pace, with Telegram's per-chat limits.
pub(super) fn install(messages_per_second: NonZeroU32) {
    let pacer = Arc::new(Pacer::new(messages_per_second));
    *PACER.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(pacer);
}

/// Waits until a message to `to` may leave (at once when no client was built, as in a tool
/// that only reads).
pub(super) async fn wait_for_slot(to: &Recipient) {
    let pacer = PACER.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some(pacer) = pacer {
        pacer.wait(to).await;
    }
}

/// The chat a request writes a message to, when it is a send Telegram's limits count.
pub trait Addressee {
    /// The chat, for a send; `None` for every other call.
    fn addressee(&self) -> Option<&Recipient>;
}

macro_rules! sends {
    ($($payload:ident),* $(,)?) => {$(
        impl Addressee for payloads::$payload {
            fn addressee(&self) -> Option<&Recipient> {
                Some(&self.chat_id)
            }
        }
    )*};
}

macro_rules! not_sends {
    ($($payload:ident),* $(,)?) => {$(
        impl Addressee for payloads::$payload {
            fn addressee(&self) -> Option<&Recipient> {
                None
            }
        }
    )*};
}

sends!(
    SendMessage,
    SendDocument,
    SendPhoto,
    SendAudio,
    SendVoice,
    SendVideo,
    SendMediaGroup,
    SendInvoice,
    CopyMessage,
    ForwardMessage,
);

not_sends!(
    AnswerCallbackQuery,
    AnswerPreCheckoutQuery,
    CreateInvoiceLink,
    DeleteMessage,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    EditUserStarSubscription,
    GetChatMember,
    GetFile,
    GetMe,
    GetStarTransactions,
    GetUpdates,
    RefundStarPayment,
    SendChatAction,
    SetChatMenuButton,
    SetMyCommands,
    SetWebhook,
);
