//! Inline button payloads (`callback_data`): every button the bot or the
//! worker makes is encoded here and parsed here, typed, never matched as raw
//! strings elsewhere. A payload is at most 64 bytes, as Telegram requires;
//! anything else that comes back (an old or forged button) parses to `None`.

use crate::{
    billing::ledger::StatementCursor,
    ids::{JobId, UserId},
    texts::i18n::Lang,
};

/// What an inline button asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callback {
    /// The next page of `/history`: lines older than `before`.
    History {
        /// Where the shown page ended (`None`: the newest page; buttons from
        /// before the statement view open that).
        before: Option<StatementCursor>,
    },
    /// Switch the bot's language.
    Lang(Lang),
    /// Show the credit packages.
    Buy,
    /// Send a file of the transcript of `job`.
    Transcript {
        /// The job.
        job: JobId,
        /// Which file.
        file: TranscriptFile,
    },
    /// Send the picture of `job` as a file, in full quality.
    FullQuality {
        /// The image job.
        job: JobId,
    },
    /// Draw prompt `index` of the `/idea` job `job`.
    IdeaPick {
        /// The idea job.
        job: JobId,
        /// Which prompt (0-based).
        index: u8,
    },
    /// Summarise the transcript of the transcription job `job`.
    Summary {
        /// The transcription job.
        job: JobId,
    },
    /// Transcribe this user's recordings in `code` (ISO 639-1), or, with
    /// `None`, in the language the provider detects.
    Spoken {
        /// Two lowercase ASCII letters.
        code: Option<[u8; 2]>,
    },
    /// The answer to `/deletemydata`'s question.
    Erase {
        /// True: delete; false: keep everything.
        confirmed: bool,
    },
    /// Pay for the package of `credits` credits.
    Pay {
        /// The package's base credits (its id is `p{credits}`).
        credits: u32,
        /// How.
        method: PayMethod,
    },
    /// Subscribe to plan number `index` of `SUBSCRIPTION_PLANS` (Stars or YooKassa).
    Subscribe {
        /// The plan's place in the configured list.
        index: u8,
        /// How.
        method: PayMethod,
    },
    /// Stop the user's plan from renewing.
    PlanCancel,
    /// Let a cancelled Stars plan renew again.
    PlanResume,
    /// An admin's button on a `/user` card.
    AdminUser {
        /// What to do.
        action: AdminUserAction,
        /// To whom (internal id).
        user: UserId,
    },
    /// An admin confirms the pending grant or debit `action` (its id is the
    /// posting's idempotency key, so a second tap posts nothing).
    AdminConfirm {
        /// The pending action.
        action: uuid::Uuid,
    },
    /// An admin cancels the pending grant or debit `action`.
    AdminCancel {
        /// The pending action.
        action: uuid::Uuid,
    },
    /// An admin queues the failed job `job` again.
    AdminRetry {
        /// The failed job.
        job: JobId,
    },
    /// An admin answers the preview of the broadcast `broadcast`.
    AdminBroadcast {
        /// The proposed broadcast.
        broadcast: uuid::Uuid,
        /// True: send it; false: cancel it.
        send: bool,
    },
}

/// What a button on a `/user` card does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminUserAction {
    /// Explain how to grant credits to the user.
    Grant,
    /// Ban the user.
    Ban,
    /// Lift the user's ban.
    Unban,
}

/// Which stored file a transcript button asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranscriptFile {
    /// Plain text.
    Txt,
    /// Subtitles.
    Srt,
}

/// Ways to pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayMethod {
    /// YooKassa (cards, SBP).
    YooKassa,
    /// Telegram Stars.
    Stars,
    /// A card inside Telegram, through the configured payment provider.
    Card,
}

impl PayMethod {
    fn parse(code: &str) -> Option<Self> {
        match code {
            "yk" => Some(Self::YooKassa),
            "xtr" => Some(Self::Stars),
            "card" => Some(Self::Card),
            _ => None,
        }
    }
}

impl Callback {
    /// The `callback_data` (at most 64 bytes, as Telegram requires).
    pub fn encode(self) -> String {
        match self {
            Self::History { before: Some(before) } => format!("hs:{before}"),
            Self::History { before: None } => "hs".to_owned(),
            Self::Lang(lang) => format!("lang:{}", lang.code()),
            Self::Spoken { code: None } => "sl:auto".to_owned(),
            Self::Spoken { code: Some([a, b]) } => format!("sl:{}{}", char::from(a), char::from(b)),
            Self::Buy => "buy".to_owned(),
            Self::Erase { confirmed: true } => "erase:yes".to_owned(),
            Self::Erase { confirmed: false } => "erase:no".to_owned(),
            Self::Transcript { job, file: TranscriptFile::Txt } => format!("tf:{}:txt", job.0.simple()),
            Self::Transcript { job, file: TranscriptFile::Srt } => format!("tf:{}:srt", job.0.simple()),
            Self::FullQuality { job } => format!("img:{}", job.0.simple()),
            Self::IdeaPick { job, index } => format!("idea:{}:{index}", job.0.simple()),
            Self::Summary { job } => format!("sum:{}", job.0.simple()),
            Self::Pay { credits, method: PayMethod::YooKassa } => format!("pay:{credits}:yk"),
            Self::Pay { credits, method: PayMethod::Stars } => format!("pay:{credits}:xtr"),
            Self::Pay { credits, method: PayMethod::Card } => format!("pay:{credits}:card"),
            Self::Subscribe { index, method: PayMethod::YooKassa } => format!("sub:{index}:yk"),
            Self::Subscribe { index, method: PayMethod::Stars } => format!("sub:{index}:xtr"),
            Self::Subscribe { index, method: PayMethod::Card } => format!("sub:{index}:card"),
            Self::PlanCancel => "plan:cancel".to_owned(),
            Self::PlanResume => "plan:resume".to_owned(),
            Self::AdminUser { action, user } => {
                let action = match action {
                    AdminUserAction::Grant => "g",
                    AdminUserAction::Ban => "b",
                    AdminUserAction::Unban => "u",
                };
                format!("adm:{action}:{user}")
            }
            Self::AdminConfirm { action } => format!("adm:ok:{}", action.simple()),
            Self::AdminCancel { action } => format!("adm:no:{}", action.simple()),
            Self::AdminRetry { job } => format!("adm:rt:{}", job.0.simple()),
            Self::AdminBroadcast { broadcast, send: true } => format!("adm:bs:{}", broadcast.simple()),
            Self::AdminBroadcast { broadcast, send: false } => format!("adm:bx:{}", broadcast.simple()),
        }
    }

    /// Parses `callback_data`; anything else (old or forged buttons) is `None`.
    pub fn parse(data: &str) -> Option<Self> {
        match data {
            "buy" => return Some(Self::Buy),
            "erase:yes" => return Some(Self::Erase { confirmed: true }),
            "erase:no" => return Some(Self::Erase { confirmed: false }),
            "plan:cancel" => return Some(Self::PlanCancel),
            "plan:resume" => return Some(Self::PlanResume),
            _ => {}
        }
        if let Some(rest) = data.strip_prefix("adm:") {
            return Self::parse_admin(rest);
        }
        if let Some(code) = data.strip_prefix("sl:") {
            return match code.as_bytes() {
                b"auto" => Some(Self::Spoken { code: None }),
                &[a, b] if a.is_ascii_lowercase() && b.is_ascii_lowercase() => {
                    Some(Self::Spoken { code: Some([a, b]) })
                }
                _ => None,
            };
        }
        if let Some(rest) = data.strip_prefix("pay:") {
            let (credits, method) = rest.split_once(':')?;
            let method = PayMethod::parse(method)?;
            return credits.parse().ok().map(|credits| Self::Pay { credits, method });
        }
        if let Some(rest) = data.strip_prefix("sub:") {
            let (index, method) = rest.split_once(':')?;
            let method = PayMethod::parse(method)?;
            return index.parse().ok().map(|index| Self::Subscribe { index, method });
        }
        if let Some(rest) = data.strip_prefix("tf:") {
            let (job, file) = rest.split_once(':')?;
            let file = match file {
                "txt" => TranscriptFile::Txt,
                "srt" => TranscriptFile::Srt,
                _ => return None,
            };
            return job.parse().ok().map(|job| Self::Transcript { job, file });
        }
        if let Some(job) = data.strip_prefix("img:") {
            return job.parse().ok().map(|job| Self::FullQuality { job });
        }
        if let Some(job) = data.strip_prefix("sum:") {
            return job.parse().ok().map(|job| Self::Summary { job });
        }
        if let Some(rest) = data.strip_prefix("idea:") {
            let (job, index) = rest.split_once(':')?;
            return Some(Self::IdeaPick { job: job.parse().ok()?, index: index.parse().ok()? });
        }
        if data == "hs" {
            return Some(Self::History { before: None });
        }
        if let Some(before) = data.strip_prefix("hs:") {
            return before.parse().ok().map(|before| Self::History { before: Some(before) });
        }
        // Pages of the ledger view that came before: the newest page now.
        if data.strip_prefix("h:").is_some_and(|id| id.parse::<i64>().is_ok()) {
            return Some(Self::History { before: None });
        }
        data.strip_prefix("lang:").and_then(|code| code.parse().ok()).map(Self::Lang)
    }

    fn parse_admin(rest: &str) -> Option<Self> {
        let (action, id) = rest.split_once(':')?;
        let user_action = |action| id.parse().ok().map(|id| Self::AdminUser { action, user: UserId(id) });
        match action {
            "g" => user_action(AdminUserAction::Grant),
            "b" => user_action(AdminUserAction::Ban),
            "u" => user_action(AdminUserAction::Unban),
            "ok" => id.parse().ok().map(|action| Self::AdminConfirm { action }),
            "no" => id.parse().ok().map(|action| Self::AdminCancel { action }),
            "rt" => id.parse().ok().map(|job| Self::AdminRetry { job }),
            "bs" => id.parse().ok().map(|broadcast| Self::AdminBroadcast { broadcast, send: true }),
            "bx" => id.parse().ok().map(|broadcast| Self::AdminBroadcast { broadcast, send: false }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_keep_their_published_shape() {
        // Buttons already in users' chats were made with these: they must keep parsing.
        let job = JobId(uuid::Uuid::from_u128(0xabc));
        assert_eq!(
            Callback::Transcript { job, file: TranscriptFile::Srt }.encode(),
            format!("tf:{}:srt", job.0.simple())
        );
        assert_eq!(Callback::FullQuality { job }.encode(), format!("img:{}", job.0.simple()));
        assert_eq!(Callback::IdeaPick { job, index: 1 }.encode(), format!("idea:{}:1", job.0.simple()));
        assert_eq!(Callback::Pay { credits: 300, method: PayMethod::Stars }.encode(), "pay:300:xtr");
        assert_eq!(Callback::Summary { job }.encode(), format!("sum:{}", job.0.simple()));
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        for callback in [
            Callback::History {
                before: Some("1764648000123456.j0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().unwrap()),
            },
            Callback::History { before: Some("1764648000123456.t09223372036854775807".parse().unwrap()) },
            Callback::History { before: None },
            Callback::Lang(Lang::En),
            Callback::Spoken { code: None },
            Callback::Spoken { code: Some(*b"de") },
            Callback::Buy,
            Callback::Erase { confirmed: true },
            Callback::Erase { confirmed: false },
            Callback::Pay { credits: 300, method: PayMethod::Stars },
            Callback::Pay { credits: 1000, method: PayMethod::YooKassa },
            Callback::Pay { credits: 100, method: PayMethod::Card },
            Callback::Transcript { job: JobId(uuid::Uuid::from_u128(7)), file: TranscriptFile::Srt },
            Callback::FullQuality { job: JobId(uuid::Uuid::from_u128(u128::MAX)) },
            Callback::IdeaPick { job: JobId(uuid::Uuid::from_u128(u128::MAX)), index: 2 },
            Callback::Summary { job: JobId(uuid::Uuid::from_u128(u128::MAX)) },
            Callback::Summary { job: JobId(uuid::Uuid::from_u128(1)) },
            Callback::AdminUser { action: AdminUserAction::Grant, user: UserId(i64::MAX) },
            Callback::AdminUser { action: AdminUserAction::Ban, user: UserId(5) },
            Callback::AdminUser { action: AdminUserAction::Unban, user: UserId(5) },
            Callback::AdminConfirm { action: uuid::Uuid::from_u128(u128::MAX) },
            Callback::AdminCancel { action: uuid::Uuid::from_u128(3) },
            Callback::AdminRetry { job: JobId(uuid::Uuid::from_u128(u128::MAX)) },
            Callback::AdminBroadcast { broadcast: uuid::Uuid::from_u128(u128::MAX), send: true },
            Callback::AdminBroadcast { broadcast: uuid::Uuid::from_u128(9), send: false },
        ] {
            assert_eq!(Callback::parse(&callback.encode()), Some(callback));
            assert!(callback.encode().len() <= 64);
        }
        assert_eq!(Callback::parse("h:abc"), None);
        assert_eq!(Callback::parse("h:42"), Some(Callback::History { before: None }), "an old page button");
        assert_eq!(Callback::parse("hs:12.x"), None);
        assert_eq!(Callback::parse("lang:de"), None);
        assert_eq!(Callback::parse("sl:DE"), None);
        assert_eq!(Callback::parse("sl:deu"), None);
        assert_eq!(Callback::parse(""), None);
        assert_eq!(Callback::parse("pay:100:btc"), None);
        assert_eq!(
            Callback::parse("sub:1:yk"),
            Some(Callback::Subscribe { index: 1, method: PayMethod::YooKassa })
        );
        assert_eq!(Callback::parse(&Callback::PlanCancel.encode()), Some(Callback::PlanCancel));
        assert_eq!(Callback::parse(&Callback::PlanResume.encode()), Some(Callback::PlanResume));
        assert_eq!(Callback::parse("sub:300:xtr"), None, "an index is a byte");
        assert_eq!(Callback::parse("idea:nope:1"), None);
        assert_eq!(Callback::parse("img:"), None);
        assert_eq!(Callback::parse("sum:"), None);
        assert_eq!(Callback::parse("erase:maybe"), None);
        assert_eq!(Callback::parse("sum:not-a-job"), None);
        assert_eq!(Callback::parse("idea:00000000000000000000000000000007:256"), None);
        assert_eq!(Callback::parse("tf:00000000000000000000000000000007:pdf"), None);
        assert_eq!(Callback::parse("adm:x:5"), None);
        assert_eq!(Callback::parse("adm:b:five"), None);
        assert_eq!(Callback::parse("adm:ok:not-a-uuid"), None);
        assert_eq!(Callback::parse("adm:bs:"), None);
    }
}
