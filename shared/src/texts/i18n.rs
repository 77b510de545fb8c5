//! User-facing texts in Russian (first) and English.
//!
//! Every message a user can see is a variant of [`Text`]; this is the one
//! place where it becomes words, so no handler builds user text itself. The
//! words live in Fluent catalogues, `shared/locales/<lang>/bot.ftl`, compiled
//! into the binary: each variant is one message there and its fields are the
//! message's arguments. Amounts go in as numbers, so the catalogue picks plural
//! forms by CLDR rules («1 кредит», «2 кредита», «5 кредитов», «1,5 кредита»).

use std::{fmt, str::FromStr, sync::LazyLock};

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};
use unic_langid::{LanguageIdentifier, langid};

/// A language the bot speaks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Lang {
    /// Russian: the default for everyone who is not using Telegram in English.
    #[default]
    #[sea_orm(string_value = "ru")]
    Ru,
    /// English.
    #[sea_orm(string_value = "en")]
    En,
}

impl Lang {
    /// Picks the language from Telegram's `language_code` (an IETF tag such as
    /// `en`, `en-GB` or `ru`). English users get English; everyone else Russian,
    /// because our audience is mostly Russian-speaking.
    pub fn from_telegram(code: Option<&str>) -> Self {
        match code {
            Some(code) if code.eq_ignore_ascii_case("en") || code.to_ascii_lowercase().starts_with("en-") => {
                Self::En
            }
            _ => Self::Ru,
        }
    }

    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ru" => Ok(Self::Ru),
            "en" => Ok(Self::En),
            other => Err(format!("unknown language `{other}`")),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Everything the bot can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    /// Answer to `/start`.
    Welcome {
        /// The user's first name, as Telegram gives it.
        first_name: String,
        /// Free minutes of transcription per day.
        free_minutes: u32,
    },
    /// Answer to `/help`.
    Help {
        /// Price of one minute of audio, in credits.
        price_per_minute: Decimal,
        /// Free minutes of transcription per day.
        free_minutes: u32,
    },
    /// A text the bot does not understand.
    Unknown,
    /// Answer to `/paysupport` without a question: how to ask, and the
    /// operator's contacts (`PAY_SUPPORT_TEXT`) under it when set.
    PaySupport {
        /// The operator's own words, shown as they are.
        contact: Option<String>,
    },
    /// A `/paysupport` question was passed to the team.
    PaySupportSent,
    /// Too many `/paysupport` questions in a minute.
    PaySupportSlowDown,
    /// No admin to pass a `/paysupport` question to.
    PaySupportUnavailable,
    /// To the payer: a card payment (YooKassa) was refunded.
    RefundedByCard {
        /// Roubles returned.
        amount: Decimal,
        /// Credits taken back from the balance.
        credits: Decimal,
    },
    /// To the admin: the YooKassa refund is done and its credits taken back.
    CardRefundDone {
        /// Roubles returned.
        amount: Decimal,
        /// Credits taken back.
        credits: Decimal,
    },
    /// To the admin: YooKassa took the refund and has not finished it yet;
    /// the credits go when it reports success.
    CardRefundPending,
    /// To the admin: YooKassa refused the refund.
    CardRefundFailed {
        /// YooKassa's words.
        reason: String,
    },
    /// An admin's answer to the user's `/paysupport` question.
    PaySupportAnswer {
        /// The admin's words, as they wrote them.
        answer: String,
    },
    /// Answer to `/terms`.
    Terms {
        /// The operator's published terms (`TERMS_URL`), when set.
        url: Option<String>,
    },
    /// Answer to `/balance`.
    Balance {
        /// Spendable credits.
        available: Decimal,
        /// Credits reserved by running jobs.
        held: Decimal,
        /// Free transcription seconds left today.
        free_seconds_left: u32,
        /// Free image generations left this month.
        free_images_left: u32,
    },
    /// Heading of `/history`.
    HistoryHeading,
    /// `/history` with nothing to show.
    HistoryEmpty,
    /// One line of `/history` as a person reads it: a job from its
    /// reservation to its charge, a payment, a bonus (the Mini App's history
    /// shows the same lines).
    HistoryEntry {
        /// `dd.mm HH:MM` in the billing time zone.
        when: String,
        /// What it was.
        what: HistoryWhat,
        /// A transcription's length, `m:ss`, once measured.
        duration: Option<String>,
        /// What it did to the balance.
        outcome: HistoryOutcome,
        /// Credits of that outcome (unsigned).
        credits: Decimal,
    },
    /// Under a purchase line of `/history`: the payment behind it.
    HistoryPayment {
        /// Who took the money.
        provider: PaymentVia,
        /// Price paid, e.g. `149`.
        amount: Decimal,
        /// `RUB`, or `XTR` for Stars.
        currency: String,
        /// Where the payment stands.
        status: PaymentState,
    },
    /// The "older" pagination button.
    OlderButton,
    /// Prompt of `/lang`.
    ChooseLanguage,
    /// Confirmation after choosing a language.
    LanguageSet,
    /// A recording was accepted and queued.
    Queued {
        /// Price held, in credits.
        price: Decimal,
        /// Free seconds used.
        free_seconds: u32,
        /// Jobs ahead of it.
        position: u64,
    },
    /// Not enough credit for a job.
    InsufficientFunds {
        /// Price of the job.
        price: Decimal,
        /// Credits available.
        available: Decimal,
    },
    /// The "buy credits" button.
    BuyButton,
    /// The button (and menu button) that opens the Mini App.
    AppButton,
    /// What the Mini App offers, above its button (`/app`).
    AppIntro,
    /// The file is larger than the bot may download.
    FileTooBig {
        /// The limit in MB.
        limit_mb: u64,
    },
    /// The recording is longer than allowed.
    TooLong {
        /// The limit in minutes.
        max_minutes: u32,
    },
    /// A document that is not audio or video.
    NotAudio,
    /// The same file was transcribed before: sent again for free.
    AlreadyTranscribed,
    /// Too many jobs waiting.
    TooManyJobs {
        /// The limit.
        limit: u32,
    },
    /// Too many messages in a minute.
    SlowDown,
    /// `/cancel` cancelled a job.
    Cancelled {
        /// Credits returned.
        returned: Decimal,
    },
    /// `/cancel` found nothing to cancel.
    NothingToCancel,
    /// `/mydata`: the export is being put together.
    ExportPreparing,
    /// Caption of the `/mydata` ZIP.
    ExportReady {
        /// Files left out to keep the ZIP within Telegram's limit.
        omitted: u32,
        /// Hours the picture links work.
        link_hours: u32,
    },
    /// `/mydata` could not be put together now.
    ExportFailed,
    /// `/deletemydata`: what goes, what stays, and the question.
    EraseConfirm {
        /// The balance kept on the anonymised account.
        available: Decimal,
    },
    /// The button that confirms the deletion.
    EraseButton,
    /// The button that keeps everything.
    EraseKeepButton,
    /// The deletion is done.
    Erased {
        /// The balance kept on the anonymised account.
        available: Decimal,
    },
    /// The deletion was called off.
    EraseCalledOff,
    /// Something broke on our side; nothing was charged.
    InternalError,
    /// Heading of `/buy`.
    ChoosePackage,
    /// A package button paid in roubles.
    PackageRub {
        /// Credits, bonus included.
        credits: Decimal,
        /// Price in roubles.
        price: Decimal,
    },
    /// A package button paid in Stars.
    PackageStars {
        /// Credits, bonus included.
        credits: Decimal,
        /// Price in Stars.
        stars: u32,
    },
    /// The message with the YooKassa payment link.
    PayByLink {
        /// Credits to be added.
        credits: Decimal,
        /// Price in roubles.
        price: Decimal,
    },
    /// The "Pay" button.
    PayButton,
    /// Title of a Stars invoice.
    InvoiceTitle {
        /// Credits bought.
        credits: Decimal,
    },
    /// Description of a Stars invoice.
    InvoiceDescription,
    /// Payment arrived and was credited.
    PaymentReceived {
        /// Credits added.
        credits: Decimal,
        /// Balance after.
        balance: Decimal,
    },
    /// The payment was cancelled at the provider.
    PaymentCanceled,
    /// A checkout that does not match what we offered.
    PaymentRefused,
    /// A package button for card payment inside Telegram.
    PackageCard {
        /// Credits in the package.
        credits: Decimal,
        /// Price in roubles.
        price: Decimal,
    },
    /// `/refund` without a charge id (admins only).
    RefundUsage,
    /// `/refund` of a charge we do not know as a paid Stars payment.
    RefundNotFound,
    /// `/refund` of a payment that is not paid (already refunded, pending...).
    RefundNotPossible {
        /// Where it stands.
        status: PaymentState,
    },
    /// The user has spent the credits: no refund, nothing changed.
    RefundBalanceShort {
        /// Credits to take back.
        needed: Decimal,
        /// What the user has.
        available: Decimal,
    },
    /// Telegram refused the refund; nothing changed.
    RefundFailed {
        /// Telegram's words.
        reason: String,
    },
    /// The admin's confirmation.
    RefundDone {
        /// Stars returned.
        stars: Decimal,
        /// Credits taken back.
        credits: Decimal,
    },
    /// The payer's notice.
    RefundedToYou {
        /// Stars returned.
        stars: Decimal,
        /// Credits taken back.
        credits: Decimal,
    },
    /// No payment method is configured.
    PaymentsUnavailable,
    /// Answer to `/referral`.
    Referral {
        /// The personal link.
        link: String,
        /// Users invited.
        invited: i64,
        /// Of them, users who paid.
        paid: i64,
        /// Credits earned.
        earned: Decimal,
        /// Referrer's share of a first purchase, in percent.
        percent: u32,
    },
    /// Status while the file downloads.
    Downloading,
    /// A document turned out longer than its size suggested: the new price.
    PriceRaised {
        /// Measured length, `m:ss`.
        duration: String,
        /// Credits now reserved.
        price: Decimal,
    },
    /// The price held for a job, under its status while it runs, so the
    /// quote stays in sight until the result arrives.
    HeldPrice {
        /// Credits reserved (0: free minutes pay for it).
        price: Decimal,
    },
    /// Status while chunks are transcribed: minutes of the recording done.
    Transcribing {
        /// Whole minutes transcribed so far.
        done: u32,
        /// Minutes of the recording, rounded up.
        total: u32,
    },
    /// Under the progress: the time the rest should take.
    TimeLeft {
        /// Seconds left (shown in minutes from 90 s).
        seconds: u32,
    },
    /// What the status message says once the transcript is out.
    TranscribedIn {
        /// `m:ss` of audio.
        duration: String,
        /// Seconds from the request to the transcript.
        took: u32,
    },
    /// The line under a delivered transcript.
    TranscriptFooter {
        /// `m:ss` of audio.
        duration: String,
        /// Credits charged.
        charged: Decimal,
    },
    /// The "get .txt" button.
    TxtButton,
    /// The "get .srt" button.
    SrtButton,
    /// The transcript was too long for messages and comes as files.
    TranscriptAsFile,
    /// The measured recording costs more than the balance allows; nothing was charged.
    TranscriptionUnaffordable {
        /// Measured length, `m:ss` (at least this when decoding stopped early).
        duration: String,
        /// What that length costs, free minutes counted.
        price: Decimal,
        /// Spendable credits.
        available: Decimal,
    },
    /// The job failed; nothing was charged.
    TranscriptionFailed {
        /// Why, in the user's terms.
        reason: FailureReason,
    },
    /// `/image` without a prompt: asks for one (the user replies to this message).
    AskImagePrompt,
    /// A prompt or description over the length limit.
    PromptTooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// Not enough credit for a picture or an idea.
    NotEnoughForImage {
        /// Price of the job.
        price: Decimal,
        /// Credits available.
        available: Decimal,
    },
    /// A picture was accepted and queued.
    ImageQueued {
        /// Price held, in credits.
        price: Decimal,
        /// Whether one of the free monthly images pays for it.
        free: bool,
        /// An edit rather than a new picture.
        edit: bool,
    },
    /// The caption of a delivered picture: what was asked, and the charge.
    ImageReady {
        /// The prompt, shortened to fit a caption.
        prompt: String,
        /// Credits charged.
        charged: Decimal,
    },
    /// The button that sends the picture as a file, uncompressed.
    FullQualityButton,
    /// The picture behind a "full quality" button was deleted by retention.
    ImageExpired,
    /// How to ask for an edit.
    EditHowTo,
    /// `/language`: what recordings are transcribed in now, and the choices.
    ChooseSpokenLanguage {
        /// The language now (its own name), or the automatic choice's label.
        current: String,
    },
    /// The `/language` button that lets the provider detect the language.
    SpokenAuto,
    /// A transcription language was chosen.
    SpokenLanguageSet {
        /// Its own name, or the automatic choice's label.
        language: String,
    },
    /// An `/idea` button tapped again: its picture is already being drawn (or was).
    IdeaAlreadyPicked,
    /// A file sent for editing that is not a JPEG, PNG or WebP picture.
    NotAnImage,
    /// A photo for editing over the size limit.
    ImageTooBig {
        /// The limit in MB.
        limit_mb: u64,
    },
    /// The picture could not be made; nothing was charged.
    ImageFailed {
        /// Why, in the user's terms.
        reason: ImageFailureReason,
    },
    /// How to use `/idea`.
    IdeaHowTo,
    /// `/idea` accepted and queued.
    IdeaQueued {
        /// Price held, in credits.
        price: Decimal,
    },
    /// The prompts `/idea` suggests; each has a button below.
    IdeaList {
        /// The prompts.
        ideas: Vec<String>,
        /// Credits charged.
        charged: Decimal,
    },
    /// `/idea` failed; nothing was charged.
    IdeaFailed {
        /// Why, in the user's terms.
        reason: ImageFailureReason,
    },
    /// The button under a transcript that asks for its summary.
    SummaryButton,
    /// A summary was accepted and queued.
    SummaryQueued {
        /// Price held, in credits.
        price: Decimal,
    },
    /// A summary and its action items, as the model wrote them, just made.
    SummaryReady {
        /// The model's answer.
        summary: String,
        /// Whether only the transcript's beginning was summarised (it is too long).
        partial: bool,
        /// Credits charged.
        charged: Decimal,
    },
    /// A summary made before, shown again for free.
    SummaryStored {
        /// The model's answer.
        summary: String,
        /// Whether only the transcript's beginning was summarised.
        partial: bool,
    },
    /// The button tapped again while its summary is being made.
    SummaryInProgress,
    /// Not enough credit for a summary; nothing was queued.
    NotEnoughForSummary {
        /// Price of the summary.
        price: Decimal,
        /// Credits available.
        available: Decimal,
    },
    /// No summary could be made; nothing was charged.
    SummaryFailed {
        /// Why, in the user's terms.
        reason: SummaryFailureReason,
    },
    /// Said once when the bot is added to a group: what it does there, who
    /// pays, and what it can see.
    GroupIntro {
        /// The bot's @username, without `@`.
        bot_username: String,
        /// Price of a minute of transcription.
        price_per_minute: Decimal,
        /// Free minutes of transcription per person per day.
        free_minutes: u32,
        /// Daily cap of automatic transcription per chat, in minutes.
        auto_daily_minutes: u32,
    },
    /// `/transcribe` in a group that does not reply to a recording.
    TranscribeHowTo {
        /// The bot's @username, without `@`.
        bot_username: String,
    },
    /// In a group: the person who asked cannot pay (their balance is not shown there).
    GroupNotEnoughCredit {
        /// Their first name.
        first_name: String,
    },
    /// A recording in a group measured longer than its price held; the
    /// balance is not shown there.
    GroupTranscriptionUnaffordable {
        /// Measured length, `m:ss`.
        duration: String,
        /// Price of that length.
        price: Decimal,
    },
    /// An account command sent in a group.
    PrivateOnly,
    /// Button opening a private chat with the bot.
    OpenPrivateButton,
    /// Too many requests in a group within a minute.
    GroupSlowDown,
    /// `/auto` without `on` or `off`.
    AutoUsage,
    /// `/auto on|off` by someone who is not an admin of the group.
    AutoAdminsOnly,
    /// A request sent on behalf of the group (an anonymous admin) or a channel: nobody to charge.
    GroupSenderUnknown,
    /// Automatic transcription was turned on.
    AutoOn {
        /// Who pays for it.
        payer: String,
        /// Daily cap per chat, in minutes.
        daily_minutes: u32,
        /// Whether the bot receives every message of the group (an admin,
        /// or privacy mode off); otherwise it cannot hear voice notes.
        sees_all: bool,
    },
    /// Automatic transcription was turned off.
    AutoOff,
    /// The chat reached its daily cap; automatic transcription resumes tomorrow.
    AutoCapReached {
        /// The cap, in minutes.
        daily_minutes: u32,
    },
    /// The payer of automatic transcription ran out of credit; it resumes tomorrow.
    AutoPayerOutOfCredit,
}

/// Why a summary could not be made, as users are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum SummaryFailureReason {
    /// The chat model kept failing.
    Unavailable,
    /// The chat model refused.
    Refused,
    /// The transcript is gone, or is not the user's.
    NoTranscript,
    /// The transcript has no words.
    NothingToSummarise,
}

impl SummaryFailureReason {
    fn message_id(self) -> &'static str {
        match self {
            Self::Unavailable => "summary-failure-unavailable",
            Self::Refused => "summary-failure-refused",
            Self::NoTranscript => "summary-failure-no-transcript",
            Self::NothingToSummarise => "summary-failure-empty",
        }
    }
}

/// Why a picture (or an idea) could not be made, as users are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum ImageFailureReason {
    /// The provider refused the request under its content policy.
    Refused,
    /// The file is not a picture we can edit.
    NotAnImage,
    /// The photo is too big.
    TooBig,
    /// The provider kept failing.
    Unavailable,
}

impl ImageFailureReason {
    fn message_id(self) -> &'static str {
        match self {
            Self::Refused => "image-failure-refused",
            Self::NotAnImage => "image-failure-not-an-image",
            Self::TooBig => "image-failure-too-big",
            Self::Unavailable => "image-failure-unavailable",
        }
    }
}

/// Why a transcription failed, as users are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum FailureReason {
    /// The file is damaged.
    Corrupt,
    /// Not a format we read.
    Unsupported,
    /// A video without sound, or silence only.
    NoAudio,
    /// Longer than allowed.
    TooLong,
    /// Too big to download.
    TooBig,
    /// The speech service kept failing.
    ProviderUnavailable,
    /// Measured, the recording costs more than the balance allows.
    NotEnoughCredit,
    /// Something else on our side.
    Internal,
}

impl FailureReason {
    fn message_id(self) -> &'static str {
        match self {
            Self::Corrupt => "transcription-failure-corrupt",
            Self::Unsupported => "transcription-failure-unsupported",
            Self::NoAudio => "transcription-failure-no-audio",
            Self::TooLong => "transcription-failure-too-long",
            Self::TooBig => "transcription-failure-too-big",
            Self::ProviderUnavailable => "transcription-failure-provider-unavailable",
            Self::NotEnoughCredit => "transcription-failure-not-enough-credit",
            Self::Internal => "transcription-failure-internal",
        }
    }
}

/// Who took a payment, as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum PaymentVia {
    /// YooKassa directly.
    YooKassa,
    /// A card inside Telegram.
    TelegramCard,
    /// Telegram Stars.
    Stars,
}

impl PaymentVia {
    fn message_id(self) -> &'static str {
        match self {
            Self::YooKassa => "payment-via-yookassa",
            Self::TelegramCard => "payment-via-telegram-card",
            Self::Stars => "payment-via-stars",
        }
    }
}

/// Where a payment stands, as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum PaymentState {
    /// Waiting for the payer.
    Pending,
    /// Paid and credited.
    Paid,
    /// Canceled or expired.
    Canceled,
    /// Given back.
    Refunded,
}

impl PaymentState {
    fn message_id(self) -> &'static str {
        match self {
            Self::Pending => "payment-state-pending",
            Self::Paid => "payment-state-paid",
            Self::Canceled => "payment-state-canceled",
            Self::Refunded => "payment-state-refunded",
        }
    }
}

/// What a `/history` line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryWhat {
    /// A transcription.
    Transcription,
    /// A picture, drawn or edited.
    Picture,
    /// Prompt ideas.
    Idea,
    /// A transcript's summary.
    Summary,
    /// A purchase, bonus or correction.
    Credit(HistoryKind),
}

impl HistoryWhat {
    fn message_id(self) -> &'static str {
        match self {
            Self::Transcription => "history-what-transcription",
            Self::Picture => "history-what-picture",
            Self::Idea => "history-what-idea",
            Self::Summary => "history-what-summary",
            Self::Credit(kind) => kind.message_id(),
        }
    }
}

/// What a `/history` line did to the balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum HistoryOutcome {
    /// A job charged this much.
    Charged,
    /// A job the free allowance paid for.
    Free,
    /// Credits reserved for a job still running.
    Reserved,
    /// A job that ended without a charge (failed, cancelled).
    NothingCharged,
    /// Credits that came in.
    Credited,
    /// Credits taken (a correction, a reversed purchase).
    Debited,
    /// A payment not made yet.
    Waiting,
    /// A payment that was not made.
    NotPaid,
}

impl HistoryOutcome {
    fn selector(self) -> &'static str {
        match self {
            Self::Charged => "charged",
            Self::Free => "free",
            Self::Reserved => "reserved",
            Self::NothingCharged => "nothing",
            Self::Credited => "credited",
            Self::Debited => "debited",
            Self::Waiting => "waiting",
            Self::NotPaid => "unpaid",
        }
    }
}

/// Kinds of history lines, as users see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter)]
pub enum HistoryKind {
    /// Credits bought.
    Purchase,
    /// Credits granted.
    Bonus,
    /// Credits reserved for a job.
    Hold,
    /// A job charged.
    Charge,
    /// A reservation returned.
    Release,
    /// A charge refunded.
    Refund,
    /// A correction by support.
    Adjustment,
    /// A purchase reversed.
    Reversal,
}

impl HistoryKind {
    fn message_id(self) -> &'static str {
        match self {
            Self::Purchase => "history-kind-purchase",
            Self::Bonus => "history-kind-bonus",
            Self::Hold => "history-kind-hold",
            Self::Charge => "history-kind-charge",
            Self::Release => "history-kind-release",
            Self::Refund => "history-kind-refund",
            Self::Adjustment => "history-kind-adjustment",
            Self::Reversal => "history-kind-reversal",
        }
    }
}

/// `1. first` / `2. second` lines.
fn numbered(items: &[String]) -> String {
    items.iter().enumerate().map(|(i, item)| format!("{}. {item}", i + 1)).collect::<Vec<_>>().join("\n")
}

/// `m:ss` for a number of seconds.
pub fn minutes_seconds(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The catalogues, one per language.
const RU_FTL: &str = include_str!("../../locales/ru/bot.ftl");
const EN_FTL: &str = include_str!("../../locales/en/bot.ftl");
/// The operator's side (`super::admin`), in the same bundles.
pub(super) const RU_ADMIN_FTL: &str = include_str!("../../locales/ru/admin.ftl");
pub(super) const EN_ADMIN_FTL: &str = include_str!("../../locales/en/admin.ftl");
/// Subscription plans (`super::plans`), in the same bundles.
pub(super) const RU_PLANS_FTL: &str = include_str!("../../locales/ru/plans.ftl");
pub(super) const EN_PLANS_FTL: &str = include_str!("../../locales/en/plans.ftl");

type Bundle = FluentBundle<FluentResource>;

/// Every language's messages.
pub(super) struct Catalogue {
    ru: Bundle,
    en: Bundle,
}

/// Parsed once, on first use.
pub(super) static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue {
    ru: bundle(langid!("ru"), &[RU_FTL, RU_ADMIN_FTL, RU_PLANS_FTL], DecimalSeparator::Comma),
    en: bundle(langid!("en"), &[EN_FTL, EN_ADMIN_FTL, EN_PLANS_FTL], DecimalSeparator::Point),
});

/// How a language writes the fraction of a number.
enum DecimalSeparator {
    /// `1.5`: Fluent's own formatting, which never groups digits.
    Point,
    /// `1,5`.
    Comma,
}

// The .ftl files are compiled in and every message is rendered by the tests,
// so a catalogue that does not parse never gets past them.
#[allow(clippy::expect_used)]
fn bundle(locale: LanguageIdentifier, sources: &[&'static str], separator: DecimalSeparator) -> Bundle {
    let mut bundle = Bundle::new_concurrent(vec![locale]);
    // Telegram would show the marks isolating each argument as stray characters.
    bundle.set_use_isolating(false);
    if let DecimalSeparator::Comma = separator {
        bundle.set_formatter(Some(decimal_comma));
    }
    for source in sources {
        let resource = FluentResource::try_new((*source).to_owned())
            .map_err(|(_, errors)| errors)
            .expect("the compiled-in .ftl file parses");
        bundle.add_resource(resource).expect("the compiled-in .ftl files define each message once");
    }
    bundle
}

/// A number as Fluent formats it (no grouping), with a decimal comma: `1,5`.
fn decimal_comma<M>(value: &FluentValue<'_>, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(number) => Some(number.as_string().replace('.', ",")),
        _ => None,
    }
}

impl Catalogue {
    fn bundle(&self, lang: Lang) -> &Bundle {
        match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }

    /// Message `id` in `lang`; what went wrong is added to `problems`.
    pub(super) fn format(
        &self,
        lang: Lang,
        id: &str,
        args: Option<&FluentArgs<'_>>,
        problems: &mut Vec<String>,
    ) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(id).and_then(|message| message.value()) else {
            problems.push(format!("no message `{id}`"));
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors).into_owned();
        problems.extend(errors.into_iter().map(|error| format!("`{id}`: {error}")));
        text
    }
}

/// A text the catalogue could not render: a message or an argument is missing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot render `{id}` in {lang}: {}", problems.join("; "))]
pub struct RenderError {
    pub(super) id: &'static str,
    pub(super) lang: Lang,
    pub(super) problems: Vec<String>,
    /// What Fluent made of it anyway, placeholders for the missing parts.
    pub(super) partial: String,
}

/// `rendered`'s text. A message or argument missing from the catalogue panics
/// in debug builds (so every test run catches it) and is logged in release
/// builds, where the user gets what could be rendered.
pub(super) fn shown(rendered: Result<String, RenderError>) -> String {
    rendered.unwrap_or_else(|err| {
        if cfg!(debug_assertions) {
            panic!("{err}");
        }
        tracing::error!(error = %err, "a text is missing from the catalogue");
        err.partial
    })
}

/// Message `id` in `lang` with `args`, or what the catalogue lacks for it
/// (`problems` found while the arguments were made come along).
pub(super) fn formatted(
    id: &'static str,
    lang: Lang,
    args: &FluentArgs<'_>,
    mut problems: Vec<String>,
) -> Result<String, RenderError> {
    let text = CATALOGUE.format(lang, id, Some(args), &mut problems);
    if problems.is_empty() { Ok(text) } else { Err(RenderError { id, lang, problems, partial: text }) }
}

/// An amount for Fluent: a number, so that plural rules apply (`1,5` takes the
/// form of fractions). Amounts have at most four decimals, which an `f64`
/// prints back exactly.
pub(super) fn amount(value: Decimal) -> FluentValue<'static> {
    // A zero that went through arithmetic may carry a sign; nobody wants to read `-0`.
    let value = if value.is_zero() { Decimal::ZERO } else { value.normalize() };
    match value.to_f64() {
        Some(number) => FluentValue::from(number),
        None => FluentValue::from(value.to_string()),
    }
}

/// `"yes"` or `"no"`, for a selector in the catalogue.
pub(super) fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

impl Text {
    /// The message of the catalogue that renders this text. A new variant
    /// needs a message in every .ftl file and samples in the tests below.
    fn message_id(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::Help { .. } => "help",
            Self::Unknown => "unknown",
            Self::PaySupport { .. } => "pay-support",
            Self::PaySupportSent => "pay-support-sent",
            Self::PaySupportSlowDown => "pay-support-slow-down",
            Self::PaySupportUnavailable => "pay-support-unavailable",
            Self::PaySupportAnswer { .. } => "pay-support-answer",
            Self::RefundedByCard { .. } => "refunded-by-card",
            Self::CardRefundDone { .. } => "card-refund-done",
            Self::CardRefundPending => "card-refund-pending",
            Self::CardRefundFailed { .. } => "card-refund-failed",
            Self::Terms { .. } => "terms",
            Self::Balance { .. } => "balance",
            Self::HistoryHeading => "history-heading",
            Self::HistoryEmpty => "history-empty",
            Self::HistoryEntry { .. } => "history-entry",
            Self::HistoryPayment { .. } => "history-payment",
            Self::OlderButton => "older-button",
            Self::ChooseLanguage => "choose-language",
            Self::LanguageSet => "language-set",
            Self::Queued { .. } => "queued",
            Self::InsufficientFunds { .. } => "insufficient-funds",
            Self::BuyButton => "buy-button",
            Self::AppButton => "app-button",
            Self::AppIntro => "app-intro",
            Self::FileTooBig { .. } => "file-too-big",
            Self::TooLong { .. } => "too-long",
            Self::NotAudio => "not-audio",
            Self::AlreadyTranscribed => "already-transcribed",
            Self::TooManyJobs { .. } => "too-many-jobs",
            Self::SlowDown => "slow-down",
            Self::Cancelled { .. } => "cancelled",
            Self::NothingToCancel => "nothing-to-cancel",
            Self::ExportPreparing => "export-preparing",
            Self::ExportReady { .. } => "export-ready",
            Self::ExportFailed => "export-failed",
            Self::EraseConfirm { .. } => "erase-confirm",
            Self::EraseButton => "erase-button",
            Self::EraseKeepButton => "erase-keep-button",
            Self::Erased { .. } => "erased",
            Self::EraseCalledOff => "erase-called-off",
            Self::InternalError => "internal-error",
            Self::ChoosePackage => "choose-package",
            Self::PackageRub { .. } => "package-rub",
            Self::PackageStars { .. } => "package-stars",
            Self::PayByLink { .. } => "pay-by-link",
            Self::PayButton => "pay-button",
            Self::InvoiceTitle { .. } => "invoice-title",
            Self::InvoiceDescription => "invoice-description",
            Self::PaymentReceived { .. } => "payment-received",
            Self::PaymentCanceled => "payment-canceled",
            Self::PaymentRefused => "payment-refused",
            Self::PackageCard { .. } => "package-card",
            Self::RefundUsage => "refund-usage",
            Self::RefundNotFound => "refund-not-found",
            Self::RefundNotPossible { .. } => "refund-not-possible",
            Self::RefundBalanceShort { .. } => "refund-balance-short",
            Self::RefundFailed { .. } => "refund-failed",
            Self::RefundDone { .. } => "refund-done",
            Self::RefundedToYou { .. } => "refunded-to-you",
            Self::PaymentsUnavailable => "payments-unavailable",
            Self::Referral { .. } => "referral",
            Self::Downloading => "downloading",
            Self::PriceRaised { .. } => "price-raised",
            Self::Transcribing { .. } => "transcribing",
            Self::TimeLeft { .. } => "time-left",
            Self::TranscribedIn { .. } => "transcribed-in",
            Self::HeldPrice { .. } => "held-price",
            Self::TranscriptFooter { .. } => "transcript-footer",
            Self::TxtButton => "txt-button",
            Self::SrtButton => "srt-button",
            Self::TranscriptAsFile => "transcript-as-file",
            Self::TranscriptionUnaffordable { .. } => "transcription-unaffordable",
            Self::TranscriptionFailed { .. } => "transcription-failed",
            Self::AskImagePrompt => "ask-image-prompt",
            Self::PromptTooLong { .. } => "prompt-too-long",
            Self::NotEnoughForImage { .. } => "not-enough-for-image",
            Self::ImageQueued { .. } => "image-queued",
            Self::ImageReady { .. } => "image-ready",
            Self::FullQualityButton => "full-quality-button",
            Self::ImageExpired => "image-expired",
            Self::EditHowTo => "edit-how-to",
            Self::ChooseSpokenLanguage { .. } => "spoken-choose",
            Self::SpokenAuto => "spoken-auto",
            Self::SpokenLanguageSet { .. } => "spoken-set",
            Self::IdeaAlreadyPicked => "idea-already-picked",
            Self::NotAnImage => "not-an-image",
            Self::ImageTooBig { .. } => "image-too-big",
            Self::ImageFailed { .. } => "image-failed",
            Self::IdeaHowTo => "idea-how-to",
            Self::IdeaQueued { .. } => "idea-queued",
            Self::IdeaList { .. } => "idea-list",
            Self::IdeaFailed { .. } => "idea-failed",
            Self::SummaryButton => "summary-button",
            Self::SummaryQueued { .. } => "summary-queued",
            Self::SummaryReady { .. } => "summary-ready",
            Self::SummaryStored { .. } => "summary-stored",
            Self::SummaryInProgress => "summary-in-progress",
            Self::NotEnoughForSummary { .. } => "not-enough-for-summary",
            Self::SummaryFailed { .. } => "summary-failed",
            Self::GroupIntro { .. } => "group-intro",
            Self::TranscribeHowTo { .. } => "transcribe-how-to",
            Self::GroupNotEnoughCredit { .. } => "group-not-enough-credit",
            Self::GroupTranscriptionUnaffordable { .. } => "group-transcription-unaffordable",
            Self::PrivateOnly => "private-only",
            Self::OpenPrivateButton => "open-private-button",
            Self::GroupSlowDown => "group-slow-down",
            Self::AutoUsage => "auto-usage",
            Self::AutoAdminsOnly => "auto-admins-only",
            Self::GroupSenderUnknown => "group-sender-unknown",
            Self::AutoOn { .. } => "auto-on",
            Self::AutoOff => "auto-off",
            Self::AutoCapReached { .. } => "auto-cap-reached",
            Self::AutoPayerOutOfCredit => "auto-payer-out-of-credit",
        }
    }

    /// The variant's fields as the message's arguments; words of the helper
    /// enums (reasons, kinds, states) are rendered first, in `lang`.
    fn arguments(&self, lang: Lang, problems: &mut Vec<String>) -> FluentArgs<'_> {
        let mut label = |id: &str| CATALOGUE.format(lang, id, None, problems);
        let mut args = FluentArgs::new();
        match self {
            Self::PaySupport { contact } => args.set("contact", contact.as_deref().unwrap_or("none")),
            Self::Terms { url } => args.set("url", url.as_deref().unwrap_or("none")),
            Self::PaySupportAnswer { answer } => args.set("answer", answer.as_str()),
            Self::RefundedByCard { amount: rub, credits } | Self::CardRefundDone { amount: rub, credits } => {
                args.set("amount", amount(*rub));
                args.set("credits", amount(*credits));
            }
            Self::Unknown
            | Self::PaySupportSent
            | Self::CardRefundPending
            | Self::PaySupportSlowDown
            | Self::PaySupportUnavailable
            | Self::HistoryHeading
            | Self::HistoryEmpty
            | Self::OlderButton
            | Self::ChooseLanguage
            | Self::LanguageSet
            | Self::BuyButton
            | Self::AppButton
            | Self::AppIntro
            | Self::NotAudio
            | Self::AlreadyTranscribed
            | Self::SlowDown
            | Self::NothingToCancel
            | Self::ExportPreparing
            | Self::ExportFailed
            | Self::EraseButton
            | Self::EraseKeepButton
            | Self::EraseCalledOff
            | Self::InternalError
            | Self::ChoosePackage
            | Self::PayButton
            | Self::InvoiceDescription
            | Self::PaymentCanceled
            | Self::PaymentRefused
            | Self::RefundUsage
            | Self::RefundNotFound
            | Self::PaymentsUnavailable
            | Self::Downloading
            | Self::TxtButton
            | Self::SrtButton
            | Self::TranscriptAsFile
            | Self::AskImagePrompt
            | Self::FullQualityButton
            | Self::ImageExpired
            | Self::EditHowTo
            | Self::SpokenAuto
            | Self::IdeaAlreadyPicked
            | Self::NotAnImage
            | Self::IdeaHowTo
            | Self::SummaryButton
            | Self::SummaryInProgress
            | Self::PrivateOnly
            | Self::OpenPrivateButton
            | Self::GroupSlowDown
            | Self::AutoUsage
            | Self::AutoAdminsOnly
            | Self::GroupSenderUnknown
            | Self::AutoOff
            | Self::AutoPayerOutOfCredit => {}
            Self::Welcome { first_name, free_minutes } => {
                args.set("first_name", first_name.as_str());
                args.set("free_minutes", *free_minutes);
            }
            Self::Help { price_per_minute, free_minutes } => {
                args.set("price_per_minute", amount(*price_per_minute));
                args.set("free_minutes", *free_minutes);
            }
            Self::Balance { available, held, free_seconds_left, free_images_left } => {
                args.set("available", amount(*available));
                args.set("held", amount(*held));
                args.set("free_time", minutes_seconds(*free_seconds_left));
                args.set("free_images_left", *free_images_left);
            }
            Self::HistoryEntry { when, what, duration, outcome, credits } => {
                args.set("when", when.as_str());
                args.set("what", label(what.message_id()));
                args.set("duration", duration.clone().unwrap_or_else(|| "none".to_owned()));
                args.set("outcome", outcome.selector());
                args.set("credits", amount(*credits));
            }
            Self::HistoryPayment { provider, amount: paid, currency, status } => {
                args.set("provider", label(provider.message_id()));
                args.set("amount", amount(*paid));
                args.set("currency", currency.as_str());
                args.set("status", label(status.message_id()));
            }
            Self::Queued { price, free_seconds, position } => {
                args.set("price", amount(*price));
                args.set("free_seconds", *free_seconds);
                args.set("free_time", minutes_seconds(*free_seconds));
                args.set("position", *position);
            }
            Self::InsufficientFunds { price, available }
            | Self::NotEnoughForImage { price, available }
            | Self::NotEnoughForSummary { price, available } => {
                args.set("price", amount(*price));
                args.set("available", amount(*available));
            }
            Self::FileTooBig { limit_mb } | Self::ImageTooBig { limit_mb } => {
                args.set("limit_mb", *limit_mb);
            }
            Self::TooLong { max_minutes } => args.set("max_minutes", *max_minutes),
            Self::TooManyJobs { limit } => args.set("limit", *limit),
            Self::Cancelled { returned } => args.set("returned", amount(*returned)),
            Self::ExportReady { omitted, link_hours } => {
                args.set("omitted", *omitted);
                args.set("link_hours", *link_hours);
            }
            Self::EraseConfirm { available } | Self::Erased { available } => {
                args.set("available", amount(*available))
            }
            Self::PackageRub { credits, price }
            | Self::PackageCard { credits, price }
            | Self::PayByLink { credits, price } => {
                args.set("credits", amount(*credits));
                args.set("price", amount(*price));
            }
            Self::PackageStars { credits, stars } => {
                args.set("credits", amount(*credits));
                args.set("stars", *stars);
            }
            Self::InvoiceTitle { credits } => args.set("credits", amount(*credits)),
            Self::PaymentReceived { credits, balance } => {
                args.set("credits", amount(*credits));
                args.set("balance", amount(*balance));
            }
            Self::RefundNotPossible { status } => args.set("status", label(status.message_id())),
            Self::RefundBalanceShort { needed, available } => {
                args.set("needed", amount(*needed));
                args.set("available", amount(*available));
            }
            Self::RefundFailed { reason } | Self::CardRefundFailed { reason } => {
                args.set("reason", reason.as_str());
            }
            Self::RefundDone { stars, credits } | Self::RefundedToYou { stars, credits } => {
                args.set("stars", amount(*stars));
                args.set("credits", amount(*credits));
            }
            Self::Referral { link, invited, paid, earned, percent } => {
                args.set("link", link.as_str());
                args.set("invited", *invited);
                args.set("paid", *paid);
                args.set("earned", amount(*earned));
                args.set("percent", *percent);
            }
            Self::PriceRaised { duration, price } => {
                args.set("duration", duration.as_str());
                args.set("price", amount(*price));
            }
            Self::HeldPrice { price } => args.set("price", amount(*price)),
            Self::ChooseSpokenLanguage { current } => args.set("current", current.as_str()),
            Self::SpokenLanguageSet { language } => args.set("language", language.as_str()),
            Self::Transcribing { done, total } => {
                args.set("done", *done);
                args.set("total", *total);
            }
            Self::TimeLeft { seconds } => {
                // From a minute and a half on, whole minutes rounded up; below, seconds.
                let minutes = if *seconds >= 90 { seconds.div_ceil(60) } else { 0 };
                args.set("minutes", minutes);
                args.set("seconds", *seconds);
            }
            Self::TranscribedIn { duration, took } => {
                args.set("duration", duration.as_str());
                args.set("minutes", *took / 60);
                args.set("seconds", *took % 60);
            }
            Self::TranscriptFooter { duration, charged } => {
                args.set("duration", duration.as_str());
                args.set("charged", amount(*charged));
            }
            Self::TranscriptionUnaffordable { duration, price, available } => {
                args.set("duration", duration.as_str());
                args.set("price", amount(*price));
                args.set("available", amount(*available));
            }
            Self::TranscriptionFailed { reason } => args.set("reason", label(reason.message_id())),
            Self::PromptTooLong { max } => args.set("max", *max),
            Self::ImageQueued { price, free, edit } => {
                args.set("price", amount(*price));
                args.set("free", yes_no(*free));
                args.set("edit", yes_no(*edit));
            }
            Self::ImageReady { prompt, charged } => {
                args.set("prompt", prompt.as_str());
                args.set("charged", amount(*charged));
            }
            Self::ImageFailed { reason } | Self::IdeaFailed { reason } => {
                args.set("reason", label(reason.message_id()));
            }
            Self::IdeaQueued { price } | Self::SummaryQueued { price } => args.set("price", amount(*price)),
            Self::IdeaList { ideas, charged } => {
                args.set("ideas", numbered(ideas));
                args.set("charged", amount(*charged));
            }
            Self::SummaryReady { summary, partial, charged } => {
                args.set("summary", summary.as_str());
                args.set("partial", yes_no(*partial));
                args.set("charged", amount(*charged));
            }
            Self::SummaryStored { summary, partial } => {
                args.set("summary", summary.as_str());
                args.set("partial", yes_no(*partial));
            }
            Self::SummaryFailed { reason } => args.set("reason", label(reason.message_id())),
            Self::GroupIntro { bot_username, price_per_minute, free_minutes, auto_daily_minutes } => {
                args.set("bot", bot_username.as_str());
                args.set("price_per_minute", amount(*price_per_minute));
                args.set("free_minutes", *free_minutes);
                args.set("auto_minutes", *auto_daily_minutes);
            }
            Self::TranscribeHowTo { bot_username } => args.set("bot", bot_username.as_str()),
            Self::GroupNotEnoughCredit { first_name } => args.set("first_name", first_name.as_str()),
            Self::GroupTranscriptionUnaffordable { duration, price } => {
                args.set("duration", duration.as_str());
                args.set("price", amount(*price));
            }
            Self::AutoOn { payer, daily_minutes, sees_all } => {
                args.set("payer", payer.as_str());
                args.set("minutes", *daily_minutes);
                args.set("sees_all", yes_no(*sees_all));
            }
            Self::AutoCapReached { daily_minutes } => args.set("minutes", *daily_minutes),
        }
        args
    }

    /// This text as a group may read it: nothing of a person's account (a
    /// balance) is shown to the other members.
    pub fn for_group(self) -> Self {
        match self {
            Self::TranscriptionUnaffordable { duration, price, .. } => {
                Self::GroupTranscriptionUnaffordable { duration, price }
            }
            other => other,
        }
    }

    /// The text in `lang`, as Telegram plain text (see [`shown`]).
    pub fn render(&self, lang: Lang) -> String {
        shown(self.try_render(lang))
    }

    /// The text in `lang`, or what is missing from the catalogue to render it.
    pub fn try_render(&self, lang: Lang) -> Result<String, RenderError> {
        let mut problems = Vec::new();
        let args = self.arguments(lang, &mut problems);
        formatted(self.message_id(), lang, &args, problems)
    }
}

/// The bot's commands, in menu order; each has a `command-<name>` message.
const COMMANDS: [&str; 16] = [
    "start",
    "help",
    "balance",
    "history",
    "buy",
    "plan",
    "image",
    "idea",
    "referral",
    "lang",
    "language",
    "cancel",
    "mydata",
    "deletemydata",
    "paysupport",
    "terms",
];

/// The bot's commands in groups and supergroups, in menu order; each has a
/// `command-<name>` message.
const GROUP_COMMANDS: [&str; 3] = ["transcribe", "auto", "help"];

/// The rendered menus, so that [`command_menu`] and [`group_command_menu`]
/// can hand out `'static` words: private ru, private en, group ru, group en.
static COMMAND_MENUS: LazyLock<[Vec<(&'static str, String)>; 4]> = LazyLock::new(|| {
    [
        menu_in(&COMMANDS, Lang::Ru),
        menu_in(&COMMANDS, Lang::En),
        menu_in(&GROUP_COMMANDS, Lang::Ru),
        menu_in(&GROUP_COMMANDS, Lang::En),
    ]
});

fn menu_in(commands: &[&'static str], lang: Lang) -> Vec<(&'static str, String)> {
    commands
        .iter()
        .map(|&command| {
            let mut problems = Vec::new();
            let description = CATALOGUE.format(lang, &format!("command-{command}"), None, &mut problems);
            if !problems.is_empty() {
                tracing::error!(problems = ?problems, "a command description is missing from the catalogue");
            }
            (command, description)
        })
        .collect()
}

fn menu(index: usize) -> Vec<(&'static str, &'static str)> {
    let menus: &'static [Vec<(&'static str, String)>; 4] = &COMMAND_MENUS;
    menus[index].iter().map(|(command, description)| (*command, description.as_str())).collect()
}

/// The bot's command menu of private chats in `lang`, as (command, description) pairs.
pub fn command_menu(lang: Lang) -> Vec<(&'static str, &'static str)> {
    menu(match lang {
        Lang::Ru => 0,
        Lang::En => 1,
    })
}

/// The bot's command menu of groups and supergroups in `lang`.
pub fn group_command_menu(lang: Lang) -> Vec<(&'static str, &'static str)> {
    menu(match lang {
        Lang::Ru => 2,
        Lang::En => 3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    use sea_orm::Iterable;

    fn dec(amount: &str) -> Decimal {
        amount.parse().unwrap()
    }

    /// Amounts of credits every plural form is checked with.
    const CREDITS: [&str; 7] = ["0", "1", "2", "5", "11", "21", "1.5"];
    /// Counts every plural form is checked with.
    const COUNTS: [u32; 6] = [0, 1, 2, 5, 11, 21];
    /// Durations, in seconds: 0:59, 1:00, 59:59.
    const DURATIONS: [u32; 3] = [59, 60, 3599];
    /// A summary as a chat model writes one.
    const SUMMARY: &str = "Анна и Олег договорились перенести релиз на пятницу.\n\nЗадачи:\n- Олег: обновить план до среды\n- Анна: предупредить клиента";

    fn credits() -> impl Iterator<Item = Decimal> {
        CREDITS.into_iter().map(dec)
    }

    /// Every variant of [`Text`] with representative arguments: each amount
    /// and count through every plural form, each duration, each reason.
    fn samples() -> Vec<Text> {
        let mut all = vec![
            Text::Unknown,
            Text::PaySupport { contact: None },
            Text::PaySupport { contact: Some("support@example.com, @example_support".into()) },
            Text::PaySupportSent,
            Text::PaySupportSlowDown,
            Text::PaySupportUnavailable,
            Text::CardRefundPending,
            Text::CardRefundFailed { reason: "refund amount exceeds the payment".into() },
            Text::PaySupportAnswer {
                answer: "Вернули 100 кредитов, проверьте /balance.".into()
            },
            Text::Terms { url: None },
            Text::Terms { url: Some("https://example.com/terms".into()) },
            Text::HistoryHeading,
            Text::HistoryEmpty,
            Text::OlderButton,
            Text::ChooseLanguage,
            Text::LanguageSet,
            Text::BuyButton,
            Text::AppButton,
            Text::AppIntro,
            Text::NotAudio,
            Text::AlreadyTranscribed,
            Text::SlowDown,
            Text::NothingToCancel,
            Text::ExportPreparing,
            Text::ExportFailed,
            Text::EraseButton,
            Text::EraseKeepButton,
            Text::EraseCalledOff,
            Text::InternalError,
            Text::ChoosePackage,
            Text::PayButton,
            Text::InvoiceDescription,
            Text::PaymentCanceled,
            Text::PaymentRefused,
            Text::RefundUsage,
            Text::RefundNotFound,
            Text::PaymentsUnavailable,
            Text::Downloading,
            Text::TxtButton,
            Text::SrtButton,
            Text::TranscriptAsFile,
            Text::AskImagePrompt,
            Text::FullQualityButton,
            Text::ImageExpired,
            Text::EditHowTo,
            Text::SpokenAuto,
            Text::ChooseSpokenLanguage { current: "Deutsch".into() },
            Text::SpokenLanguageSet { language: "Deutsch".into() },
            Text::IdeaAlreadyPicked,
            Text::NotAnImage,
            Text::IdeaHowTo,
            Text::FileTooBig { limit_mb: 20 },
            Text::ImageTooBig { limit_mb: 10 },
            Text::RefundFailed { reason: "CHARGE_ALREADY_REFUNDED".into() },
            Text::InsufficientFunds { price: dec("30"), available: dec("5") },
            Text::InsufficientFunds { price: dec("1.5"), available: dec("0") },
            Text::NotEnoughForImage { price: dec("20"), available: dec("5") },
            Text::NotEnoughForImage { price: dec("1.5"), available: dec("0.25") },
            Text::Transcribing { done: 0, total: 3 },
            Text::Transcribing { done: 1, total: 3 },
            Text::Transcribing { done: 21, total: 21 },
            Text::TimeLeft { seconds: 8 },
            Text::TimeLeft { seconds: 89 },
            Text::TimeLeft { seconds: 200 },
            Text::TranscribedIn { duration: "60:00".into(), took: 11 },
            Text::TranscribedIn { duration: "180:00".into(), took: 125 },
            Text::ImageQueued { price: dec("0"), free: true, edit: false },
            Text::ImageQueued { price: dec("25"), free: false, edit: true },
            Text::PackageRub { credits: dec("330"), price: dec("399") },
            Text::PackageCard { credits: dec("110"), price: dec("149.5") },
            Text::TooLong { max_minutes: 180 },
            Text::PromptTooLong { max: 1000 },
            Text::SummaryButton,
            Text::SummaryInProgress,
            Text::NotEnoughForSummary { price: dec("3"), available: dec("1.5") },
            Text::SummaryStored { summary: SUMMARY.into(), partial: false },
            Text::SummaryStored { summary: SUMMARY.into(), partial: true },
            Text::TranscribeHowTo { bot_username: "tgbot".into() },
            Text::GroupNotEnoughCredit { first_name: "Анна".into() },
            Text::GroupTranscriptionUnaffordable { duration: "8:40".into(), price: dec("85") },
            Text::PrivateOnly,
            Text::OpenPrivateButton,
            Text::GroupSlowDown,
            Text::AutoUsage,
            Text::AutoAdminsOnly,
            Text::GroupSenderUnknown,
            Text::AutoOn { payer: "Анна".into(), daily_minutes: 60, sees_all: true },
            Text::AutoOn { payer: "Анна".into(), daily_minutes: 1, sees_all: false },
            Text::AutoOff,
            Text::AutoPayerOutOfCredit,
        ];
        for free_minutes in COUNTS {
            all.push(Text::Welcome { first_name: "Анна".into(), free_minutes });
            all.push(Text::Help { price_per_minute: dec("15"), free_minutes });
            all.push(Text::TooLong { max_minutes: free_minutes });
            all.push(Text::TooManyJobs { limit: free_minutes });
            all.push(Text::PromptTooLong { max: usize::try_from(free_minutes).unwrap() });
            all.push(Text::Queued { price: dec("30"), free_seconds: 0, position: u64::from(free_minutes) });
            all.push(Text::PackageStars { credits: dec("100"), stars: free_minutes });
            all.push(Text::GroupIntro {
                bot_username: "tgbot".into(),
                price_per_minute: dec("15"),
                free_minutes,
                auto_daily_minutes: 60,
            });
            all.push(Text::AutoCapReached { daily_minutes: free_minutes });
            all.push(Text::ExportReady { omitted: free_minutes, link_hours: 24 });
        }
        for seconds in DURATIONS {
            let duration = minutes_seconds(seconds);
            all.push(Text::Balance {
                available: dec("10"),
                held: dec("0"),
                free_seconds_left: seconds,
                free_images_left: 3,
            });
            all.push(Text::Queued { price: dec("0"), free_seconds: seconds, position: 2 });
            all.push(Text::PriceRaised { duration: duration.clone(), price: dec("450") });
            all.push(Text::TranscriptFooter { duration: duration.clone(), charged: dec("15") });
            all.push(Text::TranscriptionUnaffordable { duration, price: dec("85"), available: dec("12") });
        }
        for (n, amount) in credits().enumerate() {
            let count = COUNTS.get(n).copied().unwrap_or(2);
            all.extend([
                Text::Help { price_per_minute: amount, free_minutes: 3 },
                Text::Balance {
                    available: amount,
                    held: amount,
                    free_seconds_left: 0,
                    free_images_left: count,
                },
                Text::Queued { price: amount, free_seconds: 0, position: 0 },
                Text::HeldPrice { price: amount },
                Text::Cancelled { returned: amount },
                Text::EraseConfirm { available: amount },
                Text::Erased { available: amount },
                Text::PackageRub { credits: amount, price: dec("149") },
                Text::PackageCard { credits: amount, price: dec("149") },
                Text::PackageStars { credits: amount, stars: 50 },
                Text::PayByLink { credits: amount, price: dec("149") },
                Text::InvoiceTitle { credits: amount },
                Text::PaymentReceived { credits: amount, balance: dec("100.5") },
                Text::RefundBalanceShort { needed: amount, available: dec("0.5") },
                Text::RefundDone { stars: Decimal::from(count), credits: amount },
                Text::RefundedToYou { stars: Decimal::from(count), credits: amount },
                Text::RefundedByCard { amount: dec("149"), credits: amount },
                Text::CardRefundDone { amount: dec("149"), credits: amount },
                Text::Referral {
                    link: "https://t.me/bot?start=ref_x".into(),
                    invited: i64::from(count),
                    paid: i64::from(count / 2),
                    earned: amount,
                    percent: 10,
                },
                Text::PriceRaised { duration: "30:00".into(), price: amount },
                Text::TranscriptFooter { duration: "1:00".into(), charged: amount },
                Text::TranscriptionUnaffordable {
                    duration: "1:00".into(),
                    price: amount,
                    available: dec("0.5"),
                },
                Text::ImageQueued { price: amount, free: false, edit: false },
                Text::ImageReady { prompt: "a cat".into(), charged: amount },
                Text::IdeaQueued { price: amount },
                Text::SummaryQueued { price: amount },
                Text::SummaryReady { summary: SUMMARY.into(), partial: false, charged: amount },
                Text::IdeaList {
                    ideas: vec![
                        "кот-космонавт в скафандре, акварель".into(),
                        "кот на Луне, пиксель-арт".into(),
                        "портрет кота в шлеме, масло".into(),
                    ],
                    charged: amount,
                },
            ]);
        }
        let whats = [HistoryWhat::Transcription, HistoryWhat::Picture, HistoryWhat::Idea]
            .into_iter()
            .chain(HistoryKind::iter().map(HistoryWhat::Credit))
            .chain([HistoryWhat::Summary]);
        for (what, outcome) in whats.zip(HistoryOutcome::iter().cycle()) {
            all.push(Text::HistoryEntry {
                when: "01.02 10:00".into(),
                what,
                duration: None,
                outcome,
                credits: dec("30"),
            });
        }
        for outcome in HistoryOutcome::iter() {
            for credits in ["1", "2", "5", "84.75"] {
                all.push(Text::HistoryEntry {
                    when: "31.12 23:59".into(),
                    what: HistoryWhat::Transcription,
                    duration: Some("8:39".into()),
                    outcome,
                    credits: dec(credits),
                });
            }
        }
        let payments =
            [("YooKassa", "149", "RUB"), ("TelegramCard", "149.5", "RUB"), ("Stars", "270", "XTR")];
        for (provider, (_, paid, currency)) in PaymentVia::iter().zip(payments) {
            for status in PaymentState::iter() {
                all.push(Text::HistoryPayment {
                    provider,
                    amount: dec(paid),
                    currency: currency.into(),
                    status,
                });
            }
        }
        all.push(Text::HistoryPayment {
            provider: PaymentVia::YooKassa,
            amount: dec("1.5"),
            currency: "USD".into(),
            status: PaymentState::Paid,
        });
        for status in PaymentState::iter() {
            all.push(Text::RefundNotPossible { status });
        }
        for reason in FailureReason::iter() {
            all.push(Text::TranscriptionFailed { reason });
        }
        for reason in ImageFailureReason::iter() {
            all.push(Text::ImageFailed { reason });
            all.push(Text::IdeaFailed { reason });
        }
        for reason in SummaryFailureReason::iter() {
            all.push(Text::SummaryFailed { reason });
        }
        all.push(Text::SummaryReady { summary: SUMMARY.into(), partial: true, charged: dec("3") });
        all
    }

    /// The message ids an .ftl file defines.
    fn message_ids(source: &str) -> BTreeSet<String> {
        let resource =
            fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        resource
            .body
            .into_iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
                fluent_syntax::ast::Entry::Term(term) => Some(format!("-{}", term.id.name)),
                _ => None,
            })
            .collect()
    }

    /// The ids of the messages the helper enums and the command menu use.
    fn helper_ids() -> BTreeSet<String> {
        let mut ids: BTreeSet<String> =
            COMMANDS.iter().chain(&GROUP_COMMANDS).map(|command| format!("command-{command}")).collect();
        ids.extend(FailureReason::iter().map(|reason| reason.message_id().to_owned()));
        ids.extend(ImageFailureReason::iter().map(|reason| reason.message_id().to_owned()));
        ids.extend(SummaryFailureReason::iter().map(|reason| reason.message_id().to_owned()));
        ids.extend(PaymentVia::iter().map(|via| via.message_id().to_owned()));
        ids.extend(PaymentState::iter().map(|state| state.message_id().to_owned()));
        ids.extend(HistoryKind::iter().map(|kind| kind.message_id().to_owned()));
        ids.extend(
            [HistoryWhat::Transcription, HistoryWhat::Picture, HistoryWhat::Idea, HistoryWhat::Summary]
                .map(|what| what.message_id().to_owned()),
        );
        ids
    }

    #[test]
    fn both_catalogues_parse_and_define_the_same_messages() {
        let (ru, en) = (message_ids(RU_FTL), message_ids(EN_FTL));
        assert!(!ru.is_empty());
        let only_ru: Vec<_> = ru.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ru).collect();
        assert!(only_ru.is_empty() && only_en.is_empty(), "only in ru: {only_ru:?}; only in en: {only_en:?}");
    }

    #[test]
    fn every_message_is_used_and_every_text_has_a_message() {
        let mut used: BTreeSet<String> = samples().iter().map(|text| text.message_id().to_owned()).collect();
        used.extend(helper_ids());
        let defined = message_ids(RU_FTL);
        let unused: Vec<_> = defined.difference(&used).collect();
        let missing: Vec<_> = used.difference(&defined).collect();
        assert!(unused.is_empty(), "messages no text renders (or the tests do not sample): {unused:?}");
        assert!(missing.is_empty(), "texts without a message: {missing:?}");
    }

    #[test]
    fn every_text_renders_in_both_languages_without_errors() {
        let mut failures = Vec::new();
        for lang in Lang::iter() {
            for text in samples() {
                match text.try_render(lang) {
                    Ok(rendered) => {
                        assert!(!rendered.trim().is_empty(), "{text:?} in {lang} is empty");
                        assert!(
                            !rendered.contains(['\u{2068}', '\u{2069}']),
                            "{text:?} in {lang} has bidi isolation marks"
                        );
                    }
                    Err(err) => failures.push(err.to_string()),
                }
            }
            for (command, description) in command_menu(lang) {
                assert!(!description.starts_with("command-"), "/{command} has no description in {lang}");
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn a_missing_argument_is_an_error_not_a_surprise() {
        let mut problems = Vec::new();
        let text = CATALOGUE.format(Lang::Ru, "image-ready", Some(&FluentArgs::new()), &mut problems);
        assert!(!problems.is_empty(), "{text}");
        CATALOGUE.format(Lang::En, "no-such-message", None, &mut problems);
        assert!(problems.iter().any(|problem| problem.contains("no-such-message")), "{problems:?}");
    }

    #[test]
    fn counts_take_the_cldr_plural_forms() {
        let title = |amount: &str, lang| Text::InvoiceTitle { credits: dec(amount) }.render(lang);
        let ru =
            ["0 кредитов", "1 кредит", "2 кредита", "5 кредитов", "11 кредитов", "21 кредит", "1,5 кредита"];
        let en =
            ["0 credits", "1 credit", "2 credits", "5 credits", "11 credits", "21 credits", "1.5 credits"];
        for ((amount, ru), en) in CREDITS.into_iter().zip(ru).zip(en) {
            assert_eq!(title(amount, Lang::Ru), ru);
            assert_eq!(title(amount, Lang::En), en);
        }
        assert_eq!(title("22.25", Lang::Ru), "22,25 кредита");
        assert_eq!(title("1000", Lang::Ru), "1000 кредитов", "no grouping");
        assert_eq!(title("1234567.5", Lang::En), "1234567.5 credits", "no grouping");
        assert_eq!(title("2.50", Lang::Ru), "2,5 кредита", "amounts are normalised");
        assert!((-dec("0.00")).is_sign_negative());
        assert_eq!(Text::InvoiceTitle { credits: -dec("0.00") }.render(Lang::En), "0 credits", "no -0");
        let jobs = |limit| Text::TooManyJobs { limit }.render(Lang::Ru);
        assert!(jobs(1).starts_with("У вас уже 1 файл в очереди."));
        assert!(jobs(3).starts_with("У вас уже 3 файла в очереди."));
        assert!(jobs(5).starts_with("У вас уже 5 файлов в очереди."));
        assert_eq!(
            Text::TooLong { max_minutes: 21 }.render(Lang::Ru),
            "Запись слишком длинная: я принимаю до 21 минуты."
        );
        assert_eq!(
            Text::HistoryEntry {
                when: "01.02 10:00".into(),
                what: HistoryWhat::Transcription,
                duration: Some("8:39".into()),
                outcome: HistoryOutcome::Charged,
                credits: dec("84.75"),
            }
            .render(Lang::Ru),
            "01.02 10:00 Расшифровка 8:39 — 84,75 кредита"
        );
    }

    /// One snapshot per message: every sample in Russian and in English.
    #[test]
    fn snapshots_of_every_message() {
        let mut by_message: BTreeMap<&str, Vec<Text>> = BTreeMap::new();
        for text in samples() {
            by_message.entry(text.message_id()).or_default().push(text);
        }
        let indent = |text: String| text.lines().collect::<Vec<_>>().join("\n    ").replace("    \n", "\n");
        for (id, texts) in by_message {
            let mut shown = String::new();
            for text in texts {
                shown.push_str(&format!("── {text:?}\n"));
                for lang in Lang::iter() {
                    shown.push_str(&format!("{lang}: {}\n", indent(text.render(lang))));
                }
            }
            insta::assert_snapshot!(id, shown);
        }
        let mut menu = String::new();
        for lang in Lang::iter() {
            for (command, description) in command_menu(lang) {
                menu.push_str(&format!("{lang}: /{command} — {description}\n"));
            }
        }
        insta::assert_snapshot!("command-menu", menu);
        let mut group_menu = String::new();
        for lang in Lang::iter() {
            for (command, description) in group_command_menu(lang) {
                group_menu.push_str(&format!("{lang}: /{command} — {description}\n"));
            }
        }
        insta::assert_snapshot!("group-command-menu", group_menu);
    }

    #[test]
    fn english_only_for_english_users() {
        assert_eq!(Lang::from_telegram(Some("en")), Lang::En);
        assert_eq!(Lang::from_telegram(Some("en-GB")), Lang::En);
        assert_eq!(Lang::from_telegram(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_telegram(Some("uk")), Lang::Ru);
        assert_eq!(Lang::from_telegram(Some("eng")), Lang::Ru);
        assert_eq!(Lang::from_telegram(None), Lang::Ru);
    }

    #[test]
    fn every_text_has_both_languages_and_they_differ() {
        let texts = [
            Text::Unknown,
            Text::Balance {
                available: dec("10"),
                held: dec("0"),
                free_seconds_left: 125,
                free_images_left: 3,
            },
            Text::HistoryHeading,
            Text::HistoryEmpty,
            Text::HistoryEntry {
                when: "01.02 10:00".into(),
                what: HistoryWhat::Picture,
                duration: None,
                outcome: HistoryOutcome::Free,
                credits: dec("0"),
            },
            Text::OlderButton,
            Text::LanguageSet,
            Text::Queued { price: dec("30"), free_seconds: 180, position: 2 },
            Text::InsufficientFunds { price: dec("30"), available: dec("5") },
            Text::BuyButton,
            Text::FileTooBig { limit_mb: 20 },
            Text::TooLong { max_minutes: 180 },
            Text::NotAudio,
            Text::AlreadyTranscribed,
            Text::TooManyJobs { limit: 3 },
            Text::SlowDown,
            Text::Cancelled { returned: dec("30") },
            Text::NothingToCancel,
            Text::InternalError,
            Text::ChoosePackage,
            Text::PackageRub { credits: dec("330"), price: dec("399") },
            Text::PackageStars { credits: dec("330"), stars: 270 },
            Text::PayByLink { credits: dec("330"), price: dec("399") },
            Text::PayButton,
            Text::InvoiceTitle { credits: dec("330") },
            Text::InvoiceDescription,
            Text::PaymentReceived { credits: dec("330"), balance: dec("335") },
            Text::PaymentCanceled,
            Text::PaymentRefused,
            Text::PackageCard { credits: dec("110"), price: dec("149") },
            Text::RefundUsage,
            Text::RefundNotFound,
            Text::RefundNotPossible { status: PaymentState::Refunded },
            Text::RefundBalanceShort { needed: dec("330"), available: dec("10") },
            Text::RefundFailed { reason: "CHARGE_ALREADY_REFUNDED".into() },
            Text::RefundDone { stars: dec("270"), credits: dec("330") },
            Text::RefundedToYou { stars: dec("270"), credits: dec("330") },
            Text::HistoryPayment {
                provider: PaymentVia::TelegramCard,
                amount: dec("149"),
                currency: "RUB".into(),
                status: PaymentState::Paid,
            },
            Text::PaymentsUnavailable,
            Text::Referral {
                link: "https://t.me/b?start=ref_x".into(),
                invited: 2,
                paid: 1,
                earned: dec("12"),
                percent: 10,
            },
            Text::Downloading,
            Text::Transcribing { done: 1, total: 3 },
            Text::TranscriptFooter { duration: "1:05".into(), charged: dec("16.25") },
            Text::TxtButton,
            Text::SrtButton,
            Text::TranscriptAsFile,
            Text::TranscriptionFailed { reason: FailureReason::Corrupt },
            Text::TranscriptionFailed { reason: FailureReason::ProviderUnavailable },
            Text::TranscriptionFailed { reason: FailureReason::NotEnoughCredit },
            Text::PriceRaised { duration: "30:00".into(), price: dec("450") },
            Text::TranscriptionUnaffordable {
                duration: "8:40".into(),
                price: dec("85"),
                available: dec("12"),
            },
            Text::AskImagePrompt,
            Text::PromptTooLong { max: 1000 },
            Text::NotEnoughForImage { price: dec("20"), available: dec("5") },
            Text::ImageQueued { price: dec("0"), free: true, edit: false },
            Text::ImageQueued { price: dec("25"), free: false, edit: true },
            Text::ImageReady {
                prompt: "кот в шляпе на крыше, акварель".into(), charged: dec("20")
            },
            Text::FullQualityButton,
            Text::ImageExpired,
            Text::EditHowTo,
            Text::NotAnImage,
            Text::ImageTooBig { limit_mb: 10 },
            Text::ImageFailed { reason: ImageFailureReason::Refused },
            Text::ImageFailed { reason: ImageFailureReason::Unavailable },
            Text::IdeaHowTo,
            Text::IdeaQueued { price: dec("1") },
            Text::IdeaList { ideas: vec!["a".into(), "b".into(), "c".into()], charged: dec("1") },
            Text::IdeaFailed { reason: ImageFailureReason::Unavailable },
            Text::SummaryButton,
            Text::SummaryQueued { price: dec("3") },
            Text::SummaryReady { summary: "-".into(), partial: true, charged: dec("3") },
            Text::SummaryStored { summary: "-".into(), partial: false },
            Text::SummaryInProgress,
            Text::NotEnoughForSummary { price: dec("3"), available: dec("1") },
            Text::SummaryFailed { reason: SummaryFailureReason::NoTranscript },
            Text::GroupIntro {
                bot_username: "tgbot".into(),
                price_per_minute: dec("15"),
                free_minutes: 3,
                auto_daily_minutes: 60,
            },
            Text::TranscribeHowTo { bot_username: "tgbot".into() },
            Text::GroupNotEnoughCredit { first_name: "Anna".into() },
            Text::GroupTranscriptionUnaffordable { duration: "8:40".into(), price: dec("85") },
            Text::PrivateOnly,
            Text::OpenPrivateButton,
            Text::GroupSlowDown,
            Text::AutoUsage,
            Text::AutoAdminsOnly,
            Text::GroupSenderUnknown,
            Text::AutoOn { payer: "Anna".into(), daily_minutes: 60, sees_all: false },
            Text::AutoOff,
            Text::AutoCapReached { daily_minutes: 60 },
            Text::AutoPayerOutOfCredit,
        ];
        for text in texts {
            let (ru, en) = (text.render(Lang::Ru), text.render(Lang::En));
            assert!(!ru.is_empty() && !en.is_empty(), "{text:?}");
            assert_ne!(ru, en, "{text:?} is not translated");
        }
    }

    #[test]
    fn durations_and_numbers_are_shown_to_the_user() {
        let balance = Text::Balance {
            available: dec("12.5"),
            held: dec("3"),
            free_seconds_left: 125,
            free_images_left: 3,
        };
        assert!(balance.render(Lang::Ru).contains("2:05 мин."));
        assert!(balance.render(Lang::En).contains("12.5 credits"));
        let queued = Text::Queued { price: dec("30"), free_seconds: 180, position: 0 };
        assert!(queued.render(Lang::Ru).contains("бесплатно 3:00 мин."));
        assert!(queued.render(Lang::En).contains("you are next"));
    }

    #[test]
    fn welcome_is_translated() {
        let text = Text::Welcome { first_name: "Анна".into(), free_minutes: 3 };
        assert!(text.render(Lang::Ru).starts_with("Здравствуйте, Анна!"));
        assert!(text.render(Lang::En).starts_with("Hello, Анна!"));
        assert!(text.render(Lang::Ru).contains("3 мин."));
    }
}
