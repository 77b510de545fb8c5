//! User-facing texts in Russian (first) and English.
//!
//! Every message a user can see is a variant of [`Text`]; this is the one
//! place where it becomes words, so no handler builds user text itself.

use std::{fmt, str::FromStr};

use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};

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
        price_per_minute: String,
        /// Free minutes of transcription per day.
        free_minutes: u32,
    },
    /// A text the bot does not understand.
    Unknown,
    /// Answer to `/balance`.
    Balance {
        /// Spendable credits.
        available: String,
        /// Credits reserved by running jobs.
        held: String,
        /// Free transcription seconds left today.
        free_seconds_left: u32,
        /// Free image generations left this month.
        free_images_left: u32,
    },
    /// Heading of `/history`.
    HistoryHeading,
    /// `/history` with nothing to show.
    HistoryEmpty,
    /// One line of `/history`.
    HistoryLine {
        /// `dd.mm HH:MM` in the billing time zone.
        when: String,
        /// What happened.
        kind: HistoryKind,
        /// Signed net change, e.g. `+100` or `-12.5`.
        amount: String,
        /// Available credits after it.
        balance_after: String,
    },
    /// Under a purchase line of `/history`: the payment behind it.
    HistoryPayment {
        /// Who took the money.
        provider: PaymentVia,
        /// Price paid, e.g. `149`.
        amount: String,
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
        price: String,
        /// Free seconds used.
        free_seconds: u32,
        /// Jobs ahead of it.
        position: u64,
    },
    /// Not enough credit for a job.
    InsufficientFunds {
        /// Price of the job.
        price: String,
        /// Credits available.
        available: String,
    },
    /// The "buy credits" button.
    BuyButton,
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
        returned: String,
    },
    /// `/cancel` found nothing to cancel.
    NothingToCancel,
    /// Something broke on our side; nothing was charged.
    InternalError,
    /// Heading of `/buy`.
    ChoosePackage,
    /// A package button paid in roubles.
    PackageRub {
        /// Credits, bonus included.
        credits: String,
        /// Price in roubles.
        price: String,
    },
    /// A package button paid in Stars.
    PackageStars {
        /// Credits, bonus included.
        credits: String,
        /// Price in Stars.
        stars: u32,
    },
    /// The message with the YooKassa payment link.
    PayByLink {
        /// Credits to be added.
        credits: String,
        /// Price in roubles.
        price: String,
    },
    /// The "Pay" button.
    PayButton,
    /// Title of a Stars invoice.
    InvoiceTitle {
        /// Credits bought.
        credits: String,
    },
    /// Description of a Stars invoice.
    InvoiceDescription,
    /// Payment arrived and was credited.
    PaymentReceived {
        /// Credits added.
        credits: String,
        /// Balance after.
        balance: String,
    },
    /// The payment was cancelled at the provider.
    PaymentCanceled,
    /// A checkout that does not match what we offered.
    PaymentRefused,
    /// A package button for card payment inside Telegram.
    PackageCard {
        /// Credits in the package.
        credits: String,
        /// Price in roubles.
        price: String,
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
        needed: String,
        /// What the user has.
        available: String,
    },
    /// Telegram refused the refund; nothing changed.
    RefundFailed {
        /// Telegram's words.
        reason: String,
    },
    /// The admin's confirmation.
    RefundDone {
        /// Stars returned.
        stars: String,
        /// Credits taken back.
        credits: String,
    },
    /// The payer's notice.
    RefundedToYou {
        /// Stars returned.
        stars: String,
        /// Credits taken back.
        credits: String,
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
        earned: String,
        /// Referrer's share of a first purchase, in percent.
        percent: u32,
    },
    /// Status while the file downloads.
    Downloading,
    /// Status while chunks are transcribed.
    /// A document turned out longer than its size suggested: the new price.
    PriceRaised {
        /// Measured length, `m:ss`.
        duration: String,
        /// Credits now reserved.
        price: String,
    },
    Transcribing {
        /// Chunks done.
        done: usize,
        /// Chunks in all.
        total: usize,
    },
    /// The line under a delivered transcript.
    TranscriptFooter {
        /// `m:ss` of audio.
        duration: String,
        /// Credits charged.
        charged: String,
    },
    /// The "get .txt" button.
    TxtButton,
    /// The "get .srt" button.
    SrtButton,
    /// The transcript was too long for messages and comes as files.
    TranscriptAsFiles,
    /// The measured recording costs more than the balance allows; nothing was charged.
    TranscriptionUnaffordable {
        /// Measured length, `m:ss` (at least this when decoding stopped early).
        duration: String,
        /// What that length costs, free minutes counted.
        price: String,
        /// Spendable credits.
        available: String,
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
        price: String,
        /// Credits available.
        available: String,
    },
    /// A picture was accepted and queued.
    ImageQueued {
        /// Price held, in credits.
        price: String,
        /// Whether one of the free monthly images pays for it.
        free: bool,
        /// An edit rather than a new picture.
        edit: bool,
    },
    /// The caption of a delivered picture.
    ImageReady {
        /// Credits charged.
        charged: String,
    },
    /// The button that sends the picture as a file, uncompressed.
    FullQualityButton,
    /// The picture behind a "full quality" button was deleted by retention.
    ImageExpired,
    /// How to ask for an edit.
    EditHowTo,
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
        price: String,
    },
    /// The prompts `/idea` suggests; each has a button below.
    IdeaList {
        /// The prompts.
        ideas: Vec<String>,
        /// Credits charged.
        charged: String,
    },
    /// `/idea` failed; nothing was charged.
    IdeaFailed {
        /// Why, in the user's terms.
        reason: ImageFailureReason,
    },
}

/// Why a picture (or an idea) could not be made, as users are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    fn describe(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Refused, Lang::Ru) => {
                "сервис отклонил запрос по своим правилам безопасности — попробуйте описать иначе"
            }
            (Self::Refused, Lang::En) => {
                "the service refused the request under its safety rules; try describing it differently"
            }
            (Self::NotAnImage, Lang::Ru) => "это не картинка в JPEG, PNG или WebP",
            (Self::NotAnImage, Lang::En) => "this is not a JPEG, PNG or WebP picture",
            (Self::TooBig, Lang::Ru) => "фото слишком большое",
            (Self::TooBig, Lang::En) => "the photo is too big",
            (Self::Unavailable, Lang::Ru) => "сервис картинок сейчас недоступен",
            (Self::Unavailable, Lang::En) => "the picture service is unavailable",
        }
    }
}

/// Why a transcription failed, as users are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    fn describe(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Corrupt, Lang::Ru) => "файл повреждён",
            (Self::Corrupt, Lang::En) => "the file is damaged",
            (Self::Unsupported, Lang::Ru) => "этот формат я не читаю",
            (Self::Unsupported, Lang::En) => "I cannot read this format",
            (Self::NoAudio, Lang::Ru) => "в файле нет звука",
            (Self::NoAudio, Lang::En) => "the file has no sound",
            (Self::TooLong, Lang::Ru) => "запись слишком длинная",
            (Self::TooLong, Lang::En) => "the recording is too long",
            (Self::TooBig, Lang::Ru) => "файл слишком большой для скачивания",
            (Self::TooBig, Lang::En) => "the file is too big to download",
            (Self::ProviderUnavailable, Lang::Ru) => "сервис распознавания речи сейчас недоступен",
            (Self::ProviderUnavailable, Lang::En) => "the speech recognition service is unavailable",
            (Self::NotEnoughCredit, Lang::Ru) => {
                "на балансе не хватает кредитов; пополните его командой /buy и пришлите запись снова"
            }
            (Self::NotEnoughCredit, Lang::En) => {
                "your balance does not cover it; top up with /buy and send it again"
            }
            (Self::Internal, Lang::Ru) => "у нас что-то сломалось",
            (Self::Internal, Lang::En) => "something broke on our side",
        }
    }
}

/// Who took a payment, as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentVia {
    /// YooKassa directly.
    YooKassa,
    /// A card inside Telegram.
    TelegramCard,
    /// Telegram Stars.
    Stars,
}

impl PaymentVia {
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::YooKassa, _) => "YooKassa",
            (Self::TelegramCard, Lang::Ru) => "карта в Telegram",
            (Self::TelegramCard, Lang::En) => "card in Telegram",
            (Self::Stars, _) => "Telegram Stars",
        }
    }
}

/// Where a payment stands, as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Pending, Lang::Ru) => "ожидает оплаты",
            (Self::Pending, Lang::En) => "pending",
            (Self::Paid, Lang::Ru) => "оплачен",
            (Self::Paid, Lang::En) => "paid",
            (Self::Canceled, Lang::Ru) => "отменён",
            (Self::Canceled, Lang::En) => "canceled",
            (Self::Refunded, Lang::Ru) => "возвращён",
            (Self::Refunded, Lang::En) => "refunded",
        }
    }
}

/// Kinds of history lines, as users see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Purchase, Lang::Ru) => "Пополнение",
            (Self::Purchase, Lang::En) => "Top-up",
            (Self::Bonus, Lang::Ru) => "Бонус",
            (Self::Bonus, Lang::En) => "Bonus",
            (Self::Hold, Lang::Ru) => "Резерв",
            (Self::Hold, Lang::En) => "Reserved",
            (Self::Charge, Lang::Ru) => "Списание",
            (Self::Charge, Lang::En) => "Charge",
            (Self::Release, Lang::Ru) => "Возврат резерва",
            (Self::Release, Lang::En) => "Reservation returned",
            (Self::Refund, Lang::Ru) => "Возврат",
            (Self::Refund, Lang::En) => "Refund",
            (Self::Adjustment, Lang::Ru) => "Корректировка",
            (Self::Adjustment, Lang::En) => "Adjustment",
            (Self::Reversal, Lang::Ru) => "Отмена пополнения",
            (Self::Reversal, Lang::En) => "Top-up reversed",
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

impl Text {
    /// The text in `lang`, as Telegram plain text.
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Welcome { first_name, free_minutes }, Lang::Ru) => format!(
                "Здравствуйте, {first_name}!\n\n\
                 Я превращаю голосовые сообщения, аудио и видео в текст, а ещё рисую и редактирую картинки.\n\n\
                 Пришлите голосовое сообщение — каждый день {free_minutes} мин. бесплатно.\n\
                 Все команды: /help"
            ),
            (Self::Welcome { first_name, free_minutes }, Lang::En) => format!(
                "Hello, {first_name}!\n\n\
                 I turn voice messages, audio and video into text, and I draw and edit pictures.\n\n\
                 Send me a voice message: {free_minutes} min. a day are free.\n\
                 All commands: /help"
            ),
            (Self::Help { price_per_minute, free_minutes }, Lang::Ru) => format!(
                "Что я умею:\n\
                 • расшифровка голосовых, аудио, видео и кружочков — просто пришлите файл;\n\
                 • /image <описание> — нарисовать картинку;\n\
                 • фото с подписью — отредактировать фото;\n\
                 • /balance — баланс, /buy — пополнить, /history — история.\n\n\
                 Цена: {price_per_minute} кредитов за минуту, первые {free_minutes} мин. в день бесплатно."
            ),
            (Self::Help { price_per_minute, free_minutes }, Lang::En) => format!(
                "What I can do:\n\
                 • transcribe voice messages, audio, video and video notes: just send the file;\n\
                 • /image <description>: draw a picture;\n\
                 • a photo with a caption: edit the photo;\n\
                 • /balance: balance, /buy: top up, /history: history.\n\n\
                 Price: {price_per_minute} credits a minute, the first {free_minutes} min. a day are free."
            ),
            (Self::Unknown, Lang::Ru) => {
                "Не понял. Пришлите голосовое сообщение или аудио, или посмотрите /help.".to_owned()
            }
            (Self::Unknown, Lang::En) => {
                "I did not get that. Send a voice message or audio, or see /help.".to_owned()
            }
            (Self::Balance { available, held, free_seconds_left, free_images_left }, Lang::Ru) => format!(
                "Баланс: {available} кредитов\nВ резерве: {held}\n\
                 Бесплатно сегодня: {} мин.\nБесплатных картинок в этом месяце: {free_images_left}",
                minutes_seconds(*free_seconds_left)
            ),
            (Self::Balance { available, held, free_seconds_left, free_images_left }, Lang::En) => format!(
                "Balance: {available} credits\nReserved: {held}\n\
                 Free today: {} min.\nFree images this month: {free_images_left}",
                minutes_seconds(*free_seconds_left)
            ),
            (Self::HistoryHeading, Lang::Ru) => "История операций:".to_owned(),
            (Self::HistoryHeading, Lang::En) => "Your history:".to_owned(),
            (Self::HistoryEmpty, Lang::Ru) => "Операций пока нет.".to_owned(),
            (Self::HistoryEmpty, Lang::En) => "No operations yet.".to_owned(),
            (Self::HistoryLine { when, kind, amount, balance_after }, Lang::Ru) => {
                format!("{when} {}: {amount} (баланс {balance_after})", kind.label(Lang::Ru))
            }
            (Self::HistoryLine { when, kind, amount, balance_after }, Lang::En) => {
                format!("{when} {}: {amount} (balance {balance_after})", kind.label(Lang::En))
            }
            (Self::HistoryPayment { provider, amount, currency, status }, lang) => {
                let price = match currency.as_str() {
                    "XTR" => format!("{amount} ⭐"),
                    "RUB" => format!("{amount} ₽"),
                    other => format!("{amount} {other}"),
                };
                format!("    {} · {price} · {}", provider.label(lang), status.label(lang))
            }
            (Self::OlderButton, Lang::Ru) => "Ранее »".to_owned(),
            (Self::OlderButton, Lang::En) => "Older »".to_owned(),
            (Self::ChooseLanguage, _) => "Выберите язык / Choose your language:".to_owned(),
            (Self::LanguageSet, Lang::Ru) => "Готово: говорю по-русски.".to_owned(),
            (Self::LanguageSet, Lang::En) => "Done: I will speak English.".to_owned(),
            (Self::Queued { price, free_seconds, position }, Lang::Ru) => {
                let free = if *free_seconds > 0 {
                    format!(", бесплатно {} мин.", minutes_seconds(*free_seconds))
                } else {
                    String::new()
                };
                let queue = if *position == 0 {
                    "следующая".to_owned()
                } else {
                    format!("перед вами {position}")
                };
                format!("Принято. Стоимость: {price} кредитов{free}. Очередь: {queue}. Расшифровываю…")
            }
            (Self::Queued { price, free_seconds, position }, Lang::En) => {
                let free = if *free_seconds > 0 {
                    format!(", {} min. free", minutes_seconds(*free_seconds))
                } else {
                    String::new()
                };
                let queue = if *position == 0 {
                    "you are next".to_owned()
                } else {
                    format!("{position} ahead of you")
                };
                format!("Got it. Price: {price} credits{free}. Queue: {queue}. Transcribing…")
            }
            (Self::InsufficientFunds { price, available }, Lang::Ru) => format!(
                "Не хватает кредитов: нужно {price}, на балансе {available}. Пополните баланс, и я всё расшифрую."
            ),
            (Self::InsufficientFunds { price, available }, Lang::En) => format!(
                "Not enough credits: {price} needed, {available} available. Top up and I will transcribe it."
            ),
            (Self::BuyButton, Lang::Ru) => "Пополнить баланс".to_owned(),
            (Self::BuyButton, Lang::En) => "Buy credits".to_owned(),
            (Self::FileTooBig { limit_mb }, Lang::Ru) => format!(
                "Файл слишком большой: Telegram разрешает ботам скачивать файлы до {limit_mb} МБ. \
                 Сожмите его или пришлите частями."
            ),
            (Self::FileTooBig { limit_mb }, Lang::En) => format!(
                "The file is too big: Telegram lets bots download files up to {limit_mb} MB. \
                 Compress it or send it in parts."
            ),
            (Self::TooLong { max_minutes }, Lang::Ru) => {
                format!("Запись слишком длинная: я принимаю до {max_minutes} минут.")
            }
            (Self::TooLong { max_minutes }, Lang::En) => {
                format!("The recording is too long: I accept up to {max_minutes} minutes.")
            }
            (Self::NotAudio, Lang::Ru) => {
                "Это не аудио и не видео. Пришлите голосовое сообщение, аудио или видео.".to_owned()
            }
            (Self::NotAudio, Lang::En) => {
                "This is not audio or video. Send a voice message, audio or video.".to_owned()
            }
            (Self::AlreadyTranscribed, Lang::Ru) => {
                "Этот файл я уже расшифровывал — вот текст, бесплатно.".to_owned()
            }
            (Self::AlreadyTranscribed, Lang::En) => {
                "I transcribed this file before: here it is again, free.".to_owned()
            }
            (Self::TooManyJobs { limit }, Lang::Ru) => {
                format!("У вас уже {limit} файла в очереди. Дождитесь результата и пришлите следующий.")
            }
            (Self::TooManyJobs { limit }, Lang::En) => {
                format!(
                    "You already have {limit} files in the queue. Wait for a result, then send the next one."
                )
            }
            (Self::SlowDown, Lang::Ru) => "Слишком много сообщений. Подождите минуту, пожалуйста.".to_owned(),
            (Self::SlowDown, Lang::En) => "Too many messages. Please wait a minute.".to_owned(),
            (Self::Cancelled { returned }, Lang::Ru) => {
                format!("Отменено. Вернул в баланс: {returned} кредитов.")
            }
            (Self::Cancelled { returned }, Lang::En) => {
                format!("Cancelled. {returned} credits are back on your balance.")
            }
            (Self::NothingToCancel, Lang::Ru) => "Отменять нечего: в очереди нет ваших файлов.".to_owned(),
            (Self::NothingToCancel, Lang::En) => {
                "Nothing to cancel: none of your files is waiting.".to_owned()
            }
            (Self::InternalError, Lang::Ru) => {
                "Что-то пошло не так на нашей стороне. Деньги не списаны, попробуйте ещё раз.".to_owned()
            }
            (Self::InternalError, Lang::En) => {
                "Something went wrong on our side. Nothing was charged; please try again.".to_owned()
            }
            (Self::ChoosePackage, Lang::Ru) => "Выберите пакет кредитов:".to_owned(),
            (Self::ChoosePackage, Lang::En) => "Choose a credit package:".to_owned(),
            (Self::PackageRub { credits, price }, Lang::Ru) => format!("{credits} кредитов — {price} ₽"),
            (Self::PackageRub { credits, price }, Lang::En) => format!("{credits} credits for {price} RUB"),
            (Self::PackageCard { credits, price }, Lang::Ru) => {
                format!("{credits} кредитов — {price} ₽ картой в Telegram")
            }
            (Self::PackageCard { credits, price }, Lang::En) => {
                format!("{credits} credits for {price} RUB by card in Telegram")
            }
            (Self::RefundUsage, Lang::Ru) => "Формат: /refund <telegram_payment_charge_id>".to_owned(),
            (Self::RefundUsage, Lang::En) => "Usage: /refund <telegram_payment_charge_id>".to_owned(),
            (Self::RefundNotFound, Lang::Ru) => "Оплаченного платежа звёздами с таким id нет.".to_owned(),
            (Self::RefundNotFound, Lang::En) => "There is no paid Stars payment with this id.".to_owned(),
            (Self::RefundNotPossible { status }, lang) => match lang {
                Lang::Ru => format!("Вернуть нельзя: платёж {}.", status.label(Lang::Ru)),
                Lang::En => format!("Cannot refund: the payment is {}.", status.label(Lang::En)),
            },
            (Self::RefundBalanceShort { needed, available }, Lang::Ru) => format!(
                "Вернуть нельзя: нужно списать {needed} кредитов, а у пользователя {available}. Ничего не изменено."
            ),
            (Self::RefundBalanceShort { needed, available }, Lang::En) => format!(
                "Cannot refund: {needed} credits must be taken back but the user has {available}. Nothing changed."
            ),
            (Self::RefundFailed { reason }, Lang::Ru) => {
                format!("Telegram не вернул звёзды: {reason}. Ничего не изменено.")
            }
            (Self::RefundFailed { reason }, Lang::En) => {
                format!("Telegram did not return the Stars: {reason}. Nothing changed.")
            }
            (Self::RefundDone { stars, credits }, Lang::Ru) => {
                format!("Готово: возвращено {stars} ⭐, списано {credits} кредитов.")
            }
            (Self::RefundDone { stars, credits }, Lang::En) => {
                format!("Done: {stars} ⭐ returned, {credits} credits taken back.")
            }
            (Self::RefundedToYou { stars, credits }, Lang::Ru) => {
                format!("Вам возвращено {stars} ⭐; {credits} кредитов списано с баланса.")
            }
            (Self::RefundedToYou { stars, credits }, Lang::En) => {
                format!("{stars} ⭐ were returned to you; {credits} credits were taken off your balance.")
            }
            (Self::PackageStars { credits, stars }, Lang::Ru) => format!("{credits} кредитов — {stars} ⭐"),
            (Self::PackageStars { credits, stars }, Lang::En) => format!("{credits} credits for {stars} ⭐"),
            (Self::PayByLink { credits, price }, Lang::Ru) => {
                format!("К оплате {price} ₽ за {credits} кредитов. Нажмите «Оплатить» — карта или СБП.")
            }
            (Self::PayByLink { credits, price }, Lang::En) => {
                format!("{price} RUB for {credits} credits. Tap Pay to pay by card or SBP.")
            }
            (Self::PayButton, Lang::Ru) => "Оплатить".to_owned(),
            (Self::PayButton, Lang::En) => "Pay".to_owned(),
            (Self::InvoiceTitle { credits }, Lang::Ru) => format!("{credits} кредитов"),
            (Self::InvoiceTitle { credits }, Lang::En) => format!("{credits} credits"),
            (Self::InvoiceDescription, Lang::Ru) => "Кредиты для расшифровки и картинок".to_owned(),
            (Self::InvoiceDescription, Lang::En) => "Credits for transcripts and pictures".to_owned(),
            (Self::PaymentReceived { credits, balance }, Lang::Ru) => {
                format!("Оплата получена: +{credits} кредитов. Баланс: {balance}.")
            }
            (Self::PaymentReceived { credits, balance }, Lang::En) => {
                format!("Payment received: +{credits} credits. Balance: {balance}.")
            }
            (Self::PaymentCanceled, Lang::Ru) => "Платёж отменён, деньги не списаны.".to_owned(),
            (Self::PaymentCanceled, Lang::En) => {
                "The payment was cancelled; you were not charged.".to_owned()
            }
            (Self::PaymentRefused, Lang::Ru) => {
                "Этот счёт устарел. Откройте /buy и выберите пакет заново.".to_owned()
            }
            (Self::PaymentRefused, Lang::En) => {
                "This invoice is out of date. Open /buy and choose a package again.".to_owned()
            }
            (Self::Referral { link, invited, paid, earned, percent }, Lang::Ru) => format!(
                "Ваша ссылка: {link}\nДрузья получат бота, а вы — {percent}% кредитов с их первой покупки.\n\
                 Приглашено: {invited}, оплатили: {paid}, заработано: {earned} кредитов."
            ),
            (Self::Referral { link, invited, paid, earned, percent }, Lang::En) => format!(
                "Your link: {link}\nYou get {percent}% of your friends' first purchase in credits.\n\
                 Invited: {invited}, paid: {paid}, earned: {earned} credits."
            ),
            (Self::Downloading, Lang::Ru) => "Скачиваю файл…".to_owned(),
            (Self::Downloading, Lang::En) => "Downloading the file…".to_owned(),
            (Self::PriceRaised { duration, price }, Lang::Ru) => format!(
                "Запись длится {duration} — дольше, чем можно было судить по размеру файла. \
                 Стоимость: {price} кредитов."
            ),
            (Self::PriceRaised { duration, price }, Lang::En) => format!(
                "The recording lasts {duration}, longer than its file size suggested. The price is {price} credits."
            ),
            (Self::Transcribing { done, total }, Lang::Ru) => format!("Расшифровываю: {done} из {total}…"),
            (Self::Transcribing { done, total }, Lang::En) => format!("Transcribing: {done} of {total}…"),
            (Self::TranscriptFooter { duration, charged }, Lang::Ru) => {
                format!("Длительность {duration}, списано {charged} кредитов.")
            }
            (Self::TranscriptFooter { duration, charged }, Lang::En) => {
                format!("Duration {duration}, {charged} credits charged.")
            }
            (Self::TxtButton, Lang::Ru) => "Скачать .txt".to_owned(),
            (Self::TxtButton, Lang::En) => "Get .txt".to_owned(),
            (Self::SrtButton, Lang::Ru) => "Скачать .srt".to_owned(),
            (Self::SrtButton, Lang::En) => "Get .srt".to_owned(),
            (Self::TranscriptAsFiles, Lang::Ru) => "Текст длинный — присылаю файлами.".to_owned(),
            (Self::TranscriptAsFiles, Lang::En) => "The text is long, so here it is as files.".to_owned(),
            (Self::TranscriptionUnaffordable { duration, price, available }, Lang::Ru) => format!(
                "Запись длится {duration}, её расшифровка стоит {price} кредитов, а на балансе {available}. \
                 Пополните баланс командой /buy и пришлите запись снова. Деньги не списаны."
            ),
            (Self::TranscriptionUnaffordable { duration, price, available }, Lang::En) => format!(
                "The recording lasts {duration}; transcribing it costs {price} credits and your balance is \
                 {available}. Top up with /buy and send it again. You were not charged."
            ),
            (Self::TranscriptionFailed { reason }, Lang::Ru) => {
                format!("Не получилось расшифровать: {}. Деньги не списаны.", reason.describe(Lang::Ru))
            }
            (Self::TranscriptionFailed { reason }, Lang::En) => {
                format!("I could not transcribe it: {}. You were not charged.", reason.describe(Lang::En))
            }
            (Self::AskImagePrompt, Lang::Ru) => {
                "Что нарисовать? Опишите картинку в ответе на это сообщение.".to_owned()
            }
            (Self::AskImagePrompt, Lang::En) => {
                "What should I draw? Describe the picture in a reply to this message.".to_owned()
            }
            (Self::PromptTooLong { max }, Lang::Ru) => {
                format!("Слишком длинное описание: не больше {max} символов.")
            }
            (Self::PromptTooLong { max }, Lang::En) => {
                format!("The description is too long: {max} characters at most.")
            }
            (Self::NotEnoughForImage { price, available }, Lang::Ru) => {
                format!("Не хватает кредитов: нужно {price}, на балансе {available}. Пополните баланс и попробуйте снова.")
            }
            (Self::NotEnoughForImage { price, available }, Lang::En) => {
                format!("Not enough credits: {price} needed, {available} available. Top up and try again.")
            }
            (Self::ImageQueued { price, free, edit }, Lang::Ru) => {
                let free = if *free { " (бесплатная картинка этого месяца)" } else { "" };
                let doing = if *edit { "Редактирую фото…" } else { "Рисую…" };
                format!("Принято. Стоимость: {price} кредитов{free}. {doing}")
            }
            (Self::ImageQueued { price, free, edit }, Lang::En) => {
                let free = if *free { " (a free picture of this month)" } else { "" };
                let doing = if *edit { "Editing the photo…" } else { "Drawing…" };
                format!("Got it. Price: {price} credits{free}. {doing}")
            }
            (Self::ImageReady { charged }, Lang::Ru) => format!("Готово. Списано {charged} кредитов."),
            (Self::ImageReady { charged }, Lang::En) => format!("Done. {charged} credits charged."),
            (Self::FullQualityButton, Lang::Ru) => "Оригинал без сжатия".to_owned(),
            (Self::FullQualityButton, Lang::En) => "Full quality".to_owned(),
            (Self::ImageExpired, Lang::Ru) => "Эта картинка уже удалена из хранилища.".to_owned(),
            (Self::ImageExpired, Lang::En) => "This picture has already been deleted from storage.".to_owned(),
            (Self::EditHowTo, Lang::Ru) => "Чтобы отредактировать фото, пришлите его с подписью, что изменить, \
                 или ответьте на фото командой /edit <что изменить>."
                .to_owned(),
            (Self::EditHowTo, Lang::En) => "To edit a photo, send it with a caption saying what to change, \
                 or reply to the photo with /edit <what to change>."
                .to_owned(),
            (Self::NotAnImage, Lang::Ru) => {
                "Это не картинка. Для редактирования пришлите фото в JPEG, PNG или WebP.".to_owned()
            }
            (Self::NotAnImage, Lang::En) => {
                "This is not a picture. To edit, send a JPEG, PNG or WebP photo.".to_owned()
            }
            (Self::ImageTooBig { limit_mb }, Lang::Ru) => {
                format!("Фото слишком большое: для редактирования — до {limit_mb} МБ.")
            }
            (Self::ImageTooBig { limit_mb }, Lang::En) => {
                format!("The photo is too big: up to {limit_mb} MB can be edited.")
            }
            (Self::ImageFailed { reason }, Lang::Ru) => {
                format!("Не получилось сделать картинку: {}. Деньги не списаны.", reason.describe(Lang::Ru))
            }
            (Self::ImageFailed { reason }, Lang::En) => {
                format!("I could not make the picture: {}. You were not charged.", reason.describe(Lang::En))
            }
            (Self::IdeaHowTo, Lang::Ru) => {
                "Опишите идею после команды, например: /idea кот-космонавт. Я предложу три промпта.".to_owned()
            }
            (Self::IdeaHowTo, Lang::En) => {
                "Describe your idea after the command, e.g. /idea a cat astronaut. I will suggest three prompts."
                    .to_owned()
            }
            (Self::IdeaQueued { price }, Lang::Ru) => format!("Придумываю промпты… Стоимость: {price} кредитов."),
            (Self::IdeaQueued { price }, Lang::En) => format!("Thinking up prompts… Price: {price} credits."),
            (Self::IdeaList { ideas, charged }, Lang::Ru) => {
                let list = numbered(ideas);
                format!("Варианты — нажмите кнопку, чтобы нарисовать:\n{list}\nСписано {charged} кредитов.")
            }
            (Self::IdeaList { ideas, charged }, Lang::En) => {
                let list = numbered(ideas);
                format!("Ideas: tap a button to draw one.\n{list}\n{charged} credits charged.")
            }
            (Self::IdeaFailed { reason }, Lang::Ru) => {
                format!("Не получилось придумать промпты: {}. Деньги не списаны.", reason.describe(Lang::Ru))
            }
            (Self::IdeaFailed { reason }, Lang::En) => {
                format!("I could not think up prompts: {}. You were not charged.", reason.describe(Lang::En))
            }
            (Self::PaymentsUnavailable, Lang::Ru) => "Оплата сейчас недоступна, попробуйте позже.".to_owned(),
            (Self::PaymentsUnavailable, Lang::En) => {
                "Payments are unavailable right now; please try later.".to_owned()
            }
        }
    }
}

/// The bot's command menu in `lang`, as (command, description) pairs.
pub fn command_menu(lang: Lang) -> Vec<(&'static str, &'static str)> {
    match lang {
        Lang::Ru => vec![
            ("start", "Начать"),
            ("help", "Что умеет бот и сколько это стоит"),
            ("balance", "Баланс и бесплатные минуты"),
            ("history", "История операций"),
            ("buy", "Пополнить баланс"),
            ("image", "Нарисовать картинку"),
            ("idea", "Идеи для картинки"),
            ("referral", "Пригласить друзей"),
            ("lang", "Язык"),
            ("cancel", "Отменить файл в очереди"),
        ],
        Lang::En => vec![
            ("start", "Start"),
            ("help", "What the bot does and what it costs"),
            ("balance", "Balance and free minutes"),
            ("history", "Your history"),
            ("buy", "Buy credits"),
            ("image", "Draw a picture"),
            ("idea", "Ideas for a picture"),
            ("referral", "Invite friends"),
            ("lang", "Language"),
            ("cancel", "Cancel a queued file"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                available: "10".into(),
                held: "0".into(),
                free_seconds_left: 125,
                free_images_left: 3,
            },
            Text::HistoryHeading,
            Text::HistoryEmpty,
            Text::HistoryLine {
                when: "01.02 10:00".into(),
                kind: HistoryKind::Charge,
                amount: "-15".into(),
                balance_after: "85".into(),
            },
            Text::OlderButton,
            Text::LanguageSet,
            Text::Queued { price: "30".into(), free_seconds: 180, position: 2 },
            Text::InsufficientFunds { price: "30".into(), available: "5".into() },
            Text::BuyButton,
            Text::FileTooBig { limit_mb: 20 },
            Text::TooLong { max_minutes: 180 },
            Text::NotAudio,
            Text::AlreadyTranscribed,
            Text::TooManyJobs { limit: 3 },
            Text::SlowDown,
            Text::Cancelled { returned: "30".into() },
            Text::NothingToCancel,
            Text::InternalError,
            Text::ChoosePackage,
            Text::PackageRub { credits: "330".into(), price: "399".into() },
            Text::PackageStars { credits: "330".into(), stars: 270 },
            Text::PayByLink { credits: "330".into(), price: "399".into() },
            Text::PayButton,
            Text::InvoiceTitle { credits: "330".into() },
            Text::InvoiceDescription,
            Text::PaymentReceived { credits: "330".into(), balance: "335".into() },
            Text::PaymentCanceled,
            Text::PaymentRefused,
            Text::PackageCard { credits: "110".into(), price: "149".into() },
            Text::RefundUsage,
            Text::RefundNotFound,
            Text::RefundNotPossible { status: PaymentState::Refunded },
            Text::RefundBalanceShort { needed: "330".into(), available: "10".into() },
            Text::RefundFailed { reason: "CHARGE_ALREADY_REFUNDED".into() },
            Text::RefundDone { stars: "270".into(), credits: "330".into() },
            Text::RefundedToYou { stars: "270".into(), credits: "330".into() },
            Text::HistoryPayment {
                provider: PaymentVia::TelegramCard,
                amount: "149".into(),
                currency: "RUB".into(),
                status: PaymentState::Paid,
            },
            Text::PaymentsUnavailable,
            Text::Referral {
                link: "https://t.me/b?start=ref_x".into(),
                invited: 2,
                paid: 1,
                earned: "12".into(),
                percent: 10,
            },
            Text::Downloading,
            Text::Transcribing { done: 1, total: 3 },
            Text::TranscriptFooter { duration: "1:05".into(), charged: "16.25".into() },
            Text::TxtButton,
            Text::SrtButton,
            Text::TranscriptAsFiles,
            Text::TranscriptionFailed { reason: FailureReason::Corrupt },
            Text::TranscriptionFailed { reason: FailureReason::ProviderUnavailable },
            Text::TranscriptionFailed { reason: FailureReason::NotEnoughCredit },
            Text::PriceRaised { duration: "30:00".into(), price: "450".into() },
            Text::TranscriptionUnaffordable {
                duration: "8:40".into(),
                price: "85".into(),
                available: "12".into(),
            },
            Text::AskImagePrompt,
            Text::PromptTooLong { max: 1000 },
            Text::NotEnoughForImage { price: "20".into(), available: "5".into() },
            Text::ImageQueued { price: "0".into(), free: true, edit: false },
            Text::ImageQueued { price: "25".into(), free: false, edit: true },
            Text::ImageReady { charged: "20".into() },
            Text::FullQualityButton,
            Text::ImageExpired,
            Text::EditHowTo,
            Text::NotAnImage,
            Text::ImageTooBig { limit_mb: 10 },
            Text::ImageFailed { reason: ImageFailureReason::Refused },
            Text::ImageFailed { reason: ImageFailureReason::Unavailable },
            Text::IdeaHowTo,
            Text::IdeaQueued { price: "1".into() },
            Text::IdeaList { ideas: vec!["a".into(), "b".into(), "c".into()], charged: "1".into() },
            Text::IdeaFailed { reason: ImageFailureReason::Unavailable },
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
            available: "12.5".into(),
            held: "3".into(),
            free_seconds_left: 125,
            free_images_left: 3,
        };
        assert!(balance.render(Lang::Ru).contains("2:05 мин."));
        assert!(balance.render(Lang::En).contains("12.5 credits"));
        let queued = Text::Queued { price: "30".into(), free_seconds: 180, position: 0 };
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
