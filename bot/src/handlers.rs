//! The dispatcher tree: Telegram updates in, calls into `shared` out.

use chrono::Utc;
use rust_decimal::Decimal;
use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use shared::{
    billing::ledger::{BonusReason, StatementCursor, StatementItem, StatementLine},
    billing::money::Credits,
    entities::{
        jobs::{JobKind, JobStatus},
        ledger_transactions::TransactionKind,
        payments::PaymentStatus,
        users::Model as User,
    },
    ids::JobId,
    jobs,
    people::users::{self, TelegramProfile},
    platform::metrics::{self, UpdateKind, UpdateOutcome},
    texts::{
        admin::AdminText,
        i18n::{HistoryKind, HistoryOutcome, HistoryWhat, Lang, Text, minutes_seconds},
    },
};
use teloxide::{
    dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler},
    dptree,
    payloads::SendMessageSetters,
    prelude::{CallbackQuery, Message, Requester},
    types::{InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage, Update, User as TgUser},
    utils::command::BotCommands,
};

use shared::telegram::buttons::{Callback, TranscriptFile};

use crate::{admin, groups, images, intake, payments, plans, privacy, startup::AppState, summary, support};

/// Lines per `/history` page.
const HISTORY_PAGE: u32 = 10;

/// Commands users can type.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// `/start`, optionally with a deep-link payload such as `ref_<code>`.
    Start(String),
    /// `/help`.
    Help,
    /// `/balance`.
    Balance,
    /// `/history`.
    History,
    /// `/buy`.
    Buy,
    /// `/plan`: subscription plans, the user's own and its renewal.
    Plan,
    /// `/referral`.
    Referral,
    /// `/lang`.
    Lang,
    /// `/language`: the language recordings are transcribed in.
    Language,
    /// `/cancel`.
    Cancel,
    /// `/refund <id>`: admins give a Stars or YooKassa payment back.
    Refund(String),
    /// `/image <prompt>`: draw a picture.
    Image(String),
    /// `/edit <what to change>`, in reply to a photo.
    Edit(String),
    /// `/idea <description>`: three prompts to choose from.
    Idea(String),
    /// `/app`: opens the Mini App (when it is configured).
    App,
    /// `/mydata`: a ZIP of everything kept about the user.
    MyData,
    /// `/deletemydata`: delete the user's data, after a confirmation.
    DeleteMyData,
    /// `/paysupport [question]`: payment help; a question goes to the admins.
    PaySupport(String),
    /// `/terms`: the terms of use.
    Terms,
}

/// Builds the update handler tree, each update counted and timed in the live metrics.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    observed(tree())
}

/// Wraps `inner` so every update it is given is counted by kind and outcome,
/// and timed, whether it arrives by long polling or by webhook.
fn observed(inner: UpdateHandler<anyhow::Error>) -> UpdateHandler<anyhow::Error> {
    use std::ops::ControlFlow;
    let sig = inner.sig().clone();
    let description = inner.description().clone();
    dptree::from_fn_with_description(
        description,
        move |deps: dptree::di::DependencyMap, cont| {
            let inner = inner.clone();
            async move {
                let kind = deps.try_get::<Update>().map_or(UpdateKind::Other, |update| update_kind(&update));
                let started = std::time::Instant::now();
                let result = inner.execute(deps, cont).await;
                let outcome = match &result {
                    ControlFlow::Break(Ok(())) => UpdateOutcome::Handled,
                    ControlFlow::Break(Err(_)) => UpdateOutcome::Failed,
                    ControlFlow::Continue(_) => UpdateOutcome::Ignored,
                };
                metrics::live().update_handled(kind, outcome, started.elapsed());
                result
            }
        },
        sig,
    )
}

/// The metrics' name for an update's kind.
fn update_kind(update: &Update) -> UpdateKind {
    use teloxide::types::UpdateKind as Kind;
    match &update.kind {
        Kind::Message(_) => UpdateKind::Message,
        Kind::CallbackQuery(_) => UpdateKind::CallbackQuery,
        Kind::PreCheckoutQuery(_) => UpdateKind::PreCheckoutQuery,
        Kind::MyChatMember(_) => UpdateKind::MyChatMember,
        _ => UpdateKind::Other,
    }
}

/// The handler tree itself.
fn tree() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(Update::filter_my_chat_member().endpoint(groups::on_my_chat_member))
        .branch(
            Update::filter_message()
                .filter(|msg: Message| groups::is_group(&msg))
                .endpoint(groups::on_group_message),
        )
        .branch(
            Update::filter_message()
                .filter(|msg: Message| msg.chat.is_private())
                .branch(
                    dptree::filter(|msg: Message| msg.successful_payment().is_some())
                        .endpoint(payments::on_successful_payment),
                )
                .branch(
                    dptree::filter(|msg: Message| payments::is_refunded_payment(&msg))
                        .endpoint(payments::on_refunded_payment),
                )
                .branch(dptree::entry().filter_command::<admin::AdminCommand>().endpoint(admin::on_command))
                .branch(dptree::entry().filter_command::<Command>().endpoint(on_command))
                .branch(dptree::filter(|msg: Message| images::is_edit_request(&msg)).endpoint(on_picture))
                .branch(
                    dptree::filter(|msg: Message, state: AppState| support::is_admin_reply(&msg, &state))
                        .endpoint(on_admin_reply),
                )
                .branch(
                    dptree::filter(|msg: Message| images::is_prompt_reply(&msg)).endpoint(on_prompt_reply),
                )
                .branch(dptree::filter(|msg: Message| intake::is_recording(&msg)).endpoint(on_recording))
                .branch(dptree::endpoint(on_other_message)),
        )
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_pre_checkout_query().endpoint(payments::on_pre_checkout))
}

/// What Telegram tells about a person, as `users` stores it.
pub(crate) fn profile(user: &TgUser) -> TelegramProfile {
    TelegramProfile {
        telegram_id: user.id.into(),
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        language_code: user.language_code.clone(),
    }
}

/// Grants a user created just now the welcome credit (when there is one),
/// wherever they first met the bot: `/start`, or a request in a group.
pub(crate) async fn welcome_bonus(state: &AppState, user: &User) -> anyhow::Result<()> {
    if state.settings.welcome_bonus > Credits::ZERO {
        state
            .ledger
            .grant_bonus(&state.db, user.id, state.settings.welcome_bonus, &BonusReason::Welcome)
            .await?;
    }
    Ok(())
}

/// Upserts the sender and applies the per-minute limit. `None`: stop here
/// (no sender, a banned one, or told to slow down).
pub(crate) async fn sender(bot: &Telegram, msg: &Message, state: &AppState) -> anyhow::Result<Option<User>> {
    let Some(from) = msg.from.as_ref() else { return Ok(None) };
    let user = users::upsert_from_telegram(&state.db, &profile(from)).await?;
    if turned_away(bot, msg.chat.id, state, &user).await? {
        return Ok(None);
    }
    if !state.limiter.allow(user.telegram_id, Utc::now().timestamp()).await {
        bot.send_message(msg.chat.id, Text::SlowDown.render(user.language)).counted().await?;
        return Ok(None);
    }
    Ok(Some(user))
}

/// True when an admin banned `user`: nothing they send is acted on (no job, no
/// hold), and they are told so once per ban.
pub(crate) async fn turned_away(
    bot: &Telegram,
    chat: teloxide::types::ChatId,
    state: &AppState,
    user: &User,
) -> anyhow::Result<bool> {
    if !user.is_banned() {
        return Ok(false);
    }
    tracing::info!(user_id = %user.id, "a banned user's update ignored");
    if shared::people::bans::claim_notice(&state.db, user.id).await? {
        bot.send_message(chat, AdminText::YouAreBanned.render(user.language)).counted().await?;
    }
    Ok(true)
}

async fn on_picture(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    let Some(user) = sender(&bot, &msg, &state).await? else { return Ok(()) };
    images::on_picture(&bot, &msg, &state, &user).await
}

async fn on_prompt_reply(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    let Some(user) = sender(&bot, &msg, &state).await? else { return Ok(()) };
    images::on_prompt_reply(&bot, &msg, &state, &user).await
}

async fn on_recording(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    let Some(user) = sender(&bot, &msg, &state).await? else { return Ok(()) };
    intake::on_recording(&bot, &msg, &state, &user, intake::Audience::Private).await.map(drop)
}

#[tracing::instrument(skip_all, fields(chat_id = msg.chat.id.0, command = ?command))]
async fn on_command(
    bot: Telegram,
    msg: Message,
    command: Command,
    state: AppState,
    me: teloxide::types::Me,
) -> anyhow::Result<()> {
    let Some(from) = msg.from.as_ref() else { return Ok(()) };
    // Only `/start` treats a newcomer differently; every other command spares the lookup.
    let is_new = match command {
        Command::Start(_) => users::find_by_telegram_id(&state.db, from.id.into()).await?.is_none(),
        _ => false,
    };
    let Some(user) = sender(&bot, &msg, &state).await? else { return Ok(()) };
    let lang = user.language;
    let pricing = state.ledger.pricing();
    match command {
        Command::Start(payload) => {
            if is_new {
                if let Some(code) = payload.trim().strip_prefix("ref_") {
                    users::set_referrer(&state.db, user.id, code).await?;
                }
                welcome_bonus(&state, &user).await?;
            }
            let text = Text::Welcome {
                first_name: user.first_name.clone(),
                free_minutes: pricing.free_minutes_per_day,
            };
            bot.send_message(msg.chat.id, text.render(lang)).counted().await?;
        }
        Command::Help => {
            let text = Text::Help {
                price_per_minute: pricing.transcription_cost_per_minute.amount(),
                free_minutes: pricing.free_minutes_per_day,
            };
            bot.send_message(msg.chat.id, text.render(lang)).counted().await?;
        }
        Command::Balance => {
            let balance = state.ledger.balance(&state.db, user.id).await?;
            let text = Text::Balance {
                available: balance.available.amount(),
                held: balance.held.amount(),
                free_seconds_left: balance.free_seconds_left_today,
                free_images_left: balance.free_images_left_this_month,
            };
            let mut text = text.render(lang);
            if let Some(plan) = plans::current_line(&state, &user, balance.plan.as_ref(), lang).await? {
                text = format!("{text}\n{plan}");
            }
            bot.send_message(msg.chat.id, text).counted().await?;
        }
        Command::History => send_history(&bot, msg.chat.id, &state, &user, None).await?,
        Command::Buy => payments::show_packages(&bot, msg.chat.id, &state, &user).await?,
        Command::Plan => plans::show(&bot, msg.chat.id, &state, &user).await?,
        Command::Referral => {
            let stats = users::referral_stats(&state.db, user.id).await?;
            let text = Text::Referral {
                link: users::referral_link(me.username(), &user.referral_code),
                invited: stats.invited,
                paid: stats.paid,
                earned: stats.earned,
                percent: state.settings.referral_percent,
            };
            bot.send_message(msg.chat.id, text.render(lang)).counted().await?;
        }
        Command::Lang => {
            let buttons = InlineKeyboardMarkup::new([[
                InlineKeyboardButton::callback("Русский", Callback::Lang(Lang::Ru).encode()),
                InlineKeyboardButton::callback("English", Callback::Lang(Lang::En).encode()),
            ]]);
            bot.send_message(msg.chat.id, Text::ChooseLanguage.render(lang))
                .reply_markup(buttons)
                .counted()
                .await?;
        }
        Command::Language => {
            let current = shared::people::settings::transcription_language(&state.db, user.id).await?;
            let current = spoken_name(current.code(), lang);
            let mut rows = vec![vec![InlineKeyboardButton::callback(
                Text::SpokenAuto.render(lang),
                Callback::Spoken { code: None }.encode(),
            )]];
            for pair in SPOKEN_LANGUAGES.chunks(2) {
                rows.push(
                    pair.iter()
                        .map(|(code, name)| {
                            let code = code.as_bytes();
                            InlineKeyboardButton::callback(
                                *name,
                                Callback::Spoken { code: Some([code[0], code[1]]) }.encode(),
                            )
                        })
                        .collect(),
                );
            }
            bot.send_message(msg.chat.id, Text::ChooseSpokenLanguage { current }.render(lang))
                .reply_markup(InlineKeyboardMarkup::new(rows))
                .counted()
                .await?;
        }
        Command::Refund(charge_id) => {
            if admin::is_admin(&state, user.telegram_id) {
                payments::refund(&bot, msg.chat.id, &state, &user, &charge_id).await?;
            } else {
                tracing::warn!(telegram_id = %user.telegram_id, "/refund from someone who is not an admin");
                bot.send_message(msg.chat.id, Text::Unknown.render(lang)).counted().await?;
            }
        }
        Command::Cancel => {
            let text = match jobs::cancel_latest_queued(&state.db, &state.ledger, user.id).await? {
                Some(returned) => Text::Cancelled { returned: returned.amount() },
                None => Text::NothingToCancel,
            };
            bot.send_message(msg.chat.id, text.render(lang)).counted().await?;
        }
        Command::App => {
            let url = state.settings.miniapp.as_ref().and_then(|app| app.url.clone());
            match url {
                Some(url) => {
                    let open = InlineKeyboardMarkup::new([[InlineKeyboardButton::web_app(
                        Text::AppButton.render(lang),
                        teloxide::types::WebAppInfo { url },
                    )]]);
                    bot.send_message(msg.chat.id, Text::AppIntro.render(lang))
                        .reply_markup(open)
                        .counted()
                        .await?;
                }
                None => {
                    bot.send_message(msg.chat.id, Text::Unknown.render(lang)).counted().await?;
                }
            }
        }
        Command::MyData => privacy::send_my_data(&bot, msg.chat.id, &state, &user).await?,
        Command::PaySupport(question) => {
            support::on_pay_support(&bot, msg.chat.id, &state, &user, &question).await?;
        }
        Command::Terms => support::on_terms(&bot, msg.chat.id, &state, &user).await?,
        Command::DeleteMyData => privacy::ask_to_erase(&bot, msg.chat.id, &state, &user).await?,
        Command::Image(prompt) => images::on_image_command(&bot, &msg, &state, &user, &prompt).await?,
        Command::Edit(prompt) => images::on_edit_command(&bot, &msg, &state, &user, &prompt).await?,
        Command::Idea(description) => {
            images::on_idea_command(&bot, &msg, &state, &user, &description).await?
        }
    }
    Ok(())
}

fn history_kind(kind: TransactionKind) -> HistoryKind {
    match kind {
        TransactionKind::Purchase => HistoryKind::Purchase,
        TransactionKind::Bonus => HistoryKind::Bonus,
        TransactionKind::Hold => HistoryKind::Hold,
        TransactionKind::Capture => HistoryKind::Charge,
        TransactionKind::Release => HistoryKind::Release,
        TransactionKind::Refund => HistoryKind::Refund,
        TransactionKind::Adjustment => HistoryKind::Adjustment,
        TransactionKind::Reversal => HistoryKind::Reversal,
    }
}

/// Languages `/language` offers, by their own names; the Mini App's
/// settings take any other ISO 639-1 code too.
const SPOKEN_LANGUAGES: [(&str, &str); 10] = [
    ("ru", "Русский"),
    ("en", "English"),
    ("uk", "Українська"),
    ("kk", "Қазақша"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("tr", "Türkçe"),
    ("pl", "Polski"),
];

/// A transcription language as `/language` names it.
fn spoken_name(code: Option<&str>, lang: Lang) -> String {
    match code {
        None => Text::SpokenAuto.render(lang),
        Some(code) => SPOKEN_LANGUAGES
            .iter()
            .find(|(known, _)| *known == code)
            .map_or_else(|| code.to_owned(), |(_, name)| (*name).to_owned()),
    }
}

/// Payments started and never paid stop being worth a line after this long
/// (every tap on a package starts one).
const UNPAID_SHOWN_FOR: chrono::Duration = chrono::Duration::hours(1);

/// `/history`: the same statement the Mini App shows, a page at a time.
async fn send_history(
    bot: &Telegram,
    chat: teloxide::types::ChatId,
    state: &AppState,
    user: &User,
    before: Option<StatementCursor>,
) -> anyhow::Result<()> {
    let lang = user.language;
    let lines = state.ledger.statement(&state.db, user.id, before.as_ref(), HISTORY_PAGE).await?;
    let pricing = state.ledger.pricing();
    let mut shown = vec![Text::HistoryHeading.render(lang)];
    for line in &lines {
        if let StatementItem::Payment { status: PaymentStatus::Pending, .. } = line.item
            && Utc::now() - line.at > UNPAID_SHOWN_FOR
        {
            continue;
        }
        shown.extend(statement_text(line, "%d.%m %H:%M", pricing, lang));
    }
    if shown.len() == 1 && before.is_none() {
        bot.send_message(chat, Text::HistoryEmpty.render(lang)).counted().await?;
        return Ok(());
    }
    let mut request = bot.send_message(chat, shown.join("\n"));
    if lines.len() == HISTORY_PAGE as usize
        && let Some(last) = lines.last()
    {
        request = request.reply_markup(InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
            Text::OlderButton.render(lang),
            Callback::History { before: Some(last.cursor) }.encode(),
        )]]));
    }
    request.counted().await?;
    Ok(())
}

/// A statement line as `/history` words it (a payment takes a second line),
/// its time written with `format` in the operator's time zone.
pub(crate) fn statement_text(
    line: &StatementLine,
    format: &str,
    pricing: &shared::billing::pricing::PricingSettings,
    lang: Lang,
) -> Vec<String> {
    let when = line.at.with_timezone(&pricing.timezone).format(format).to_string();
    let mut shown = vec![history_entry(line, when).render(lang)];
    if let StatementItem::Payment { provider, amount, currency, status, .. } = &line.item {
        let payment = Text::HistoryPayment {
            provider: payments::payment_via(*provider),
            amount: *amount,
            currency: currency.clone(),
            status: payments::payment_state(*status),
        };
        shown.push(payment.render(lang));
    }
    shown
}

/// A statement line in words: what it was and what it did to the balance.
fn history_entry(line: &StatementLine, when: String) -> Text {
    let (what, duration, outcome, credits) = match &line.item {
        StatementItem::Job { kind, status, duration_seconds, .. } => {
            let what = match kind {
                JobKind::Transcribe => HistoryWhat::Transcription,
                JobKind::Image => HistoryWhat::Picture,
                JobKind::Idea => HistoryWhat::Idea,
                JobKind::Summary => HistoryWhat::Summary,
            };
            let duration =
                duration_seconds.map(|seconds| minutes_seconds(u32::try_from(seconds).unwrap_or(u32::MAX)));
            let (outcome, credits) = if line.held > Decimal::ZERO {
                (HistoryOutcome::Reserved, line.held)
            } else if line.credits < Decimal::ZERO {
                (HistoryOutcome::Charged, -line.credits)
            } else if *status == JobStatus::Succeeded {
                (HistoryOutcome::Free, Decimal::ZERO)
            } else {
                (HistoryOutcome::NothingCharged, Decimal::ZERO)
            };
            (what, duration, outcome, credits)
        }
        StatementItem::Payment { status, .. } => {
            let outcome = match status {
                PaymentStatus::Pending => HistoryOutcome::Waiting,
                PaymentStatus::Canceled => HistoryOutcome::NotPaid,
                PaymentStatus::Succeeded | PaymentStatus::Refunded if line.credits < Decimal::ZERO => {
                    HistoryOutcome::Debited
                }
                PaymentStatus::Succeeded | PaymentStatus::Refunded => HistoryOutcome::Credited,
            };
            (HistoryWhat::Credit(HistoryKind::Purchase), None, outcome, line.credits.abs())
        }
        StatementItem::Credit { kind, .. } => {
            let outcome =
                if line.credits < Decimal::ZERO { HistoryOutcome::Debited } else { HistoryOutcome::Credited };
            (HistoryWhat::Credit(history_kind(*kind)), None, outcome, line.credits.abs())
        }
    };
    Text::HistoryEntry { when, what, duration, outcome, credits }
}

#[tracing::instrument(skip_all, fields(data = ?query.data))]
async fn on_callback(bot: Telegram, query: CallbackQuery, state: AppState) -> anyhow::Result<()> {
    // Answer first so the button stops spinning, whatever happens next.
    bot.answer_callback_query(query.id.clone()).counted().await?;
    let Some(callback) = query.data.as_deref().and_then(Callback::parse) else { return Ok(()) };
    let Some(chat) = query.message.as_ref().map(MaybeInaccessibleMessage::chat).map(|chat| chat.id) else {
        return Ok(());
    };
    let user = users::upsert_from_telegram(&state.db, &profile(&query.from)).await?;
    if turned_away(&bot, chat, &state, &user).await? {
        return Ok(());
    }
    match callback {
        Callback::History { before } => send_history(&bot, chat, &state, &user, before).await?,
        Callback::Lang(lang) => {
            users::set_language(&state.db, user.id, lang).await?;
            bot.send_message(chat, Text::LanguageSet.render(lang)).counted().await?;
        }
        Callback::Spoken { code } => {
            let code = code.map(|[a, b]| format!("{}{}", char::from(a), char::from(b)));
            let chosen = match &code {
                Some(code) => shared::people::settings::TranscriptionLanguage::Chosen(code.clone()),
                None => shared::people::settings::TranscriptionLanguage::Auto,
            };
            shared::people::settings::set_transcription_language(&state.db, user.id, &chosen).await?;
            let language = spoken_name(code.as_deref(), user.language);
            bot.send_message(chat, Text::SpokenLanguageSet { language }.render(user.language))
                .counted()
                .await?;
        }
        Callback::Buy => payments::show_packages(&bot, chat, &state, &user).await?,
        Callback::Transcript { job, file } => {
            send_transcript_file(&bot, chat, &state, &user, job, file).await?
        }
        Callback::FullQuality { job } => images::send_original(&bot, chat, &state, &user, job).await?,
        Callback::IdeaPick { job, index } => {
            // The picture replies to the list of ideas it was picked from.
            let message = query.message.as_ref().map(MaybeInaccessibleMessage::id);
            images::on_idea_pick(&bot, images::Origin { chat, message }, &state, &user, job, index).await?
        }
        Callback::Summary { job } => {
            let tapped = query.message.as_ref().map(MaybeInaccessibleMessage::id);
            summary::on_summary_button(&bot, chat, &state, &user, job, tapped).await?
        }
        Callback::Erase { confirmed } => {
            let question = query.message.as_ref().map(MaybeInaccessibleMessage::id);
            privacy::on_erase_answer(&bot, chat, &state, &user, confirmed, question).await?
        }
        Callback::Pay { credits, method } => {
            payments::start_payment(&bot, chat, &state, &user, credits, method).await?;
        }
        Callback::Subscribe { index, method } => {
            plans::subscribe(&bot, chat, &state, &user, index, method).await?
        }
        Callback::PlanCancel => plans::set_renewal(&bot, chat, &state, &user, false).await?,
        Callback::PlanResume => plans::set_renewal(&bot, chat, &state, &user, true).await?,
        Callback::AdminUser { .. }
        | Callback::AdminConfirm { .. }
        | Callback::AdminCancel { .. }
        | Callback::AdminRetry { .. }
        | Callback::AdminBroadcast { .. } => admin::on_callback(&bot, chat, &state, &user, callback).await?,
    }
    Ok(())
}

/// Sends a stored transcript file, only to its owner.
async fn send_transcript_file(
    bot: &Telegram,
    chat: teloxide::types::ChatId,
    state: &AppState,
    user: &User,
    job: JobId,
    file: TranscriptFile,
) -> anyhow::Result<()> {
    let Some(transcript) = shared::media::transcripts::owned_by(&state.db, job, user.id).await? else {
        tracing::warn!(%job, user_id = user.id.0, "a transcript button of a transcript this user does not have");
        return Ok(());
    };
    let (key, name) = match file {
        TranscriptFile::Txt => (transcript.txt_key, "transcript.txt"),
        TranscriptFile::Srt => (transcript.srt_key, "transcript.srt"),
    };
    let bytes = state.store.get(&storage::ObjectKey::parse(&key)?).await?;
    bot.send_document(chat, teloxide::types::InputFile::memory(bytes.to_vec()).file_name(name))
        .counted()
        .await?;
    Ok(())
}

/// An admin's text reply to one of the bot's messages: an answer to a payment
/// question, or else whatever such a message is for anyone.
async fn on_admin_reply(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    if support::on_admin_reply(bot.clone(), msg.clone(), state.clone()).await? {
        return Ok(());
    }
    if images::is_prompt_reply(&msg) {
        on_prompt_reply(bot, msg, state).await
    } else {
        on_other_message(bot, msg, state).await
    }
}

async fn on_other_message(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    let Some(user) = sender(&bot, &msg, &state).await? else { return Ok(()) };
    bot.send_message(msg.chat.id, Text::Unknown.render(user.language)).counted().await?;
    Ok(())
}
