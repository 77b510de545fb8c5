//! Wiring: connects to every service, then runs the dispatcher and the HTTP
//! server until a shutdown signal arrives.

use shared::telegram::Counted as _;
use shared::telegram::{Telegram, UpdateMode};
use std::sync::Arc;

use anyhow::Context;
use shared::{
    Settings,
    billing::ledger::Ledger,
    jobs::queue::JobQueue,
    payments::yookassa::YooKassa,
    platform::services::Services,
    texts::{
        admin::admin_command_menu,
        i18n::{Lang, Text, command_menu, group_command_menu},
    },
};
use teloxide::{
    dispatching::Dispatcher,
    error_handlers::LoggingErrorHandler,
    prelude::Requester,
    types::{AllowedUpdate, BotCommand, BotCommandScope},
    update_listeners,
};
use tokio_util::sync::CancellationToken;

use crate::{handlers, http};

/// What handlers and HTTP routes share.
#[derive(Clone)]
pub struct AppState {
    /// Settings read at startup.
    pub settings: Arc<Settings>,
    /// Database pool.
    pub db: sea_orm::DatabaseConnection,
    /// Redis (queues).
    pub redis: redis::aio::ConnectionManager,
    /// Object storage.
    pub store: storage::ObjectStore,
    /// The credit ledger with the configured prices.
    pub ledger: Ledger,
    /// Producer side of the job queues.
    pub queue: JobQueue,
    /// YooKassa, when configured.
    pub yookassa: Option<YooKassa>,
    /// The Telegram client, for messages that do not answer an update.
    pub bot: Telegram,
    /// Per-user message limit (Redis, or local while Redis is away).
    pub limiter: shared::people::limits::RateLimiter,
    /// Per-chat limit of requests in groups (`GROUP_REQUESTS_PER_MINUTE`).
    pub group_limiter: shared::people::limits::RateLimiter,
    /// One "slow down" notice per group a minute, however many requests pass the limit.
    pub group_notice_limiter: shared::people::limits::RateLimiter,
    /// `/paysupport` questions per user a minute: every one is a message to every admin.
    pub support_limiter: shared::people::limits::RateLimiter,
    /// The Mini App's sign-in and sessions, when configured.
    pub miniapp: Option<Arc<crate::miniapp::MiniApp>>,
    /// The bot's @username, known once Telegram answered `getMe`.
    pub bot_username: Arc<std::sync::OnceLock<String>>,
    /// Wakes the broadcast sender when an admin confirms a broadcast.
    pub broadcasts: Arc<tokio::sync::Notify>,
}

/// Connects to PostgreSQL, Redis and S3 and builds the Telegram client.
pub async fn connect(settings: Settings) -> anyhow::Result<(AppState, Telegram)> {
    let Services { db, redis, store } = Services::connect(&settings).await?;
    let bot = shared::telegram::connect(
        settings.telegram.bot_token.expose(),
        settings.telegram.api_url.clone(),
        settings.telegram.messages_per_second,
    );
    let ledger = Ledger::new(settings.pricing.clone());
    let queue = JobQueue::new(redis.clone(), &settings.queue_namespace);
    let yookassa = settings
        .yookassa
        .as_ref()
        .map(YooKassa::new)
        .transpose()
        .context("cannot build the YooKassa client")?;
    let limiter = shared::people::limits::RateLimiter::new(
        redis.clone(),
        &settings.queue_namespace,
        "rate",
        settings.max_messages_per_minute,
    );
    let group_limiter = shared::people::limits::RateLimiter::new(
        redis.clone(),
        &settings.queue_namespace,
        "group-rate",
        settings.groups.requests_per_minute,
    );
    let group_notice_limiter = shared::people::limits::RateLimiter::new(
        redis.clone(),
        &settings.queue_namespace,
        "group-rate-notice",
        1,
    );
    let support_limiter =
        shared::people::limits::RateLimiter::new(redis.clone(), &settings.queue_namespace, "pay-support", 2);
    let miniapp = settings
        .miniapp
        .as_ref()
        .map(|app| {
            let sign_ins = shared::people::limits::RateLimiter::new(
                redis.clone(),
                &settings.queue_namespace,
                "miniapp-sign-in",
                crate::miniapp::SIGN_INS_PER_MINUTE,
            );
            let uploads = shared::people::limits::RateLimiter::new(
                redis.clone(),
                &settings.queue_namespace,
                "miniapp-uploads",
                crate::miniapp::UPLOADS_PER_MINUTE,
            );
            crate::miniapp::MiniApp::new(app, settings.telegram.bot_token.expose(), sign_ins, uploads)
                .map(Arc::new)
        })
        .transpose()
        .context("cannot set up the Mini App (MINIAPP_*)")?;
    let state = AppState {
        settings: Arc::new(settings),
        miniapp,
        bot_username: Arc::default(),
        broadcasts: Arc::default(),
        db,
        limiter,
        group_limiter,
        group_notice_limiter,
        support_limiter,
        redis,
        store,
        ledger,
        queue,
        yookassa,
        bot: bot.clone(),
    };
    Ok((state, bot))
}

/// Runs the bot until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let signals = shared::platform::shutdown::Shutdown::install();
    let (state, bot) = connect(settings).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            signals.wait().await;
            shutdown.cancel();
        }
    });
    let listener = tokio::net::TcpListener::bind(state.settings.http_addr)
        .await
        .with_context(|| format!("cannot listen on HTTP_ADDR {}", state.settings.http_addr))?;
    serve(state, bot, listener, shutdown).await
}

/// Serves Telegram updates, and HTTP on `listener`, until `shutdown` is cancelled.
pub async fn serve(
    state: AppState,
    bot: Telegram,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let me =
        bot.get_me().counted().await.context(
            "the Telegram Bot API did not accept TELEGRAM_BOT_TOKEN (check it and TELEGRAM_API_URL)",
        )?;
    tracing::info!(username = %me.username(), "authorised with Telegram");
    let _ = state.bot_username.set(me.username().to_owned());
    publish_command_menu(&bot, &state.settings.admin_telegram_ids).await;
    if let Some(url) = state.settings.miniapp.as_ref().and_then(|app| app.url.clone()) {
        publish_menu_button(&bot, url).await;
    }

    // Stopped with the process, or when this function returns early.
    let sender_stop = shutdown.child_token();
    let _stop_sender_on_return = sender_stop.clone().drop_guard();
    let sender = tokio::spawn(crate::broadcasts::run(state.clone(), sender_stop));

    let router = http::router(state.clone());
    tracing::info!(addr = %listener.local_addr()?, "HTTP server listening");
    match &state.settings.telegram.mode {
        UpdateMode::Polling => {
            let mut dispatcher = Dispatcher::builder(bot.clone(), handlers::schema())
                .dependencies(teloxide::dptree::deps![state.clone()])
                .default_handler(|update| async move {
                    tracing::debug!(update_id = update.id.0, "update ignored");
                })
                .error_handler(LoggingErrorHandler::with_custom_text("an update handler failed"))
                .build();
            let token = dispatcher.shutdown_token();
            tokio::spawn({
                let shutdown = shutdown.clone();
                async move {
                    shutdown.cancelled().await;
                    // Finishes the updates in flight, then stops the dispatcher.
                    if let Ok(done) = token.shutdown() {
                        done.await;
                    }
                }
            });
            let http = serve_http(listener, router, shutdown.clone());
            tracing::info!("receiving updates by long polling");
            let updates = update_listeners::Polling::builder(bot.clone())
                .timeout(std::time::Duration::from_secs(10))
                .allowed_updates(allowed_updates())
                .delete_webhook()
                .await
                .build();
            let dispatch = dispatcher.try_dispatch_with_listener(
                updates,
                LoggingErrorHandler::with_custom_text("long polling failed"),
            );
            let (http, dispatch) = tokio::join!(http, dispatch);
            http?;
            dispatch.context("the dispatcher could not start")?;
        }
        UpdateMode::Webhook { url, secret_token } => {
            // Each update is handled inside its webhook request, answered once taken and
            // handled; the graceful shutdown of the HTTP server lets those in flight finish.
            let hook = crate::webhook::register(
                state.clone(),
                bot.clone(),
                me,
                url,
                secret_token,
                handlers::schema(),
            )
            .await
            .context("cannot register the webhook with Telegram")?;
            tracing::info!(url = %url, "receiving updates by webhook");
            serve_http(listener, router.merge(hook), shutdown.clone()).await?;
        }
    }
    // A copy in flight finishes (or is given up) before the process ends.
    if let Err(err) = sender.await {
        tracing::error!(error = %err, "the broadcast sender panicked");
    }
    tracing::info!("bot stopped");
    Ok(())
}

async fn serve_http(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("HTTP server failed")
}

/// Makes the button beside the message field open the Mini App.
async fn publish_menu_button(bot: &Telegram, url: url::Url) {
    use teloxide::payloads::SetChatMenuButtonSetters;
    let button = teloxide::types::MenuButton::WebApp {
        text: Text::AppButton.render(Lang::Ru),
        web_app: teloxide::types::WebAppInfo { url },
    };
    // A convenience, like the command menu: a failure must not keep the bot down.
    if let Err(err) = bot.set_chat_menu_button().menu_button(button).counted().await {
        tracing::warn!(error = %err, "cannot set the Mini App menu button");
    }
}

/// The updates the handlers use, asked for by name: Telegram keeps a bot's
/// last list, so relying on its default could keep out `my_chat_member`
/// (the bot added to a group) after an older deployment narrowed it.
pub(crate) fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::PreCheckoutQuery,
        AllowedUpdate::MyChatMember,
    ]
}

/// [`allowed_updates`] as the Bot API names them, and `subscription` (a user's
/// Stars plan cancelled, re-enabled or failed in Telegram), which teloxide
/// cannot name; only the webhook reads it (teloxide's polling drops its body).
pub(crate) fn allowed_update_names() -> Vec<String> {
    let mut names: Vec<String> = allowed_updates()
        .iter()
        .filter_map(|kind| serde_json::to_value(kind).ok()?.as_str().map(str::to_owned))
        .collect();
    names.push("subscription".to_owned());
    names
}

/// Shows the command menu in Russian by default and in English to English
/// users; groups get their own menu (`/transcribe`, `/auto`, `/help`); each
/// admin's own chat also lists the admin commands.
async fn publish_command_menu(bot: &Telegram, admins: &[shared::ids::TelegramUserId]) {
    for (lang, code) in [(Lang::Ru, None), (Lang::En, Some("en"))] {
        for (menu, scope) in
            [(command_menu(lang), None), (group_command_menu(lang), Some(BotCommandScope::AllGroupChats))]
        {
            let commands =
                menu.into_iter().map(|(command, description)| BotCommand::new(command, description));
            let mut request = bot.set_my_commands(commands);
            request.language_code = code.map(str::to_owned);
            request.scope = scope;
            // The menu is a convenience: a failure must not keep the bot down.
            if let Err(err) = request.counted().await {
                tracing::warn!(error = %err, lang = %lang, "cannot set the command menu");
            }
        }
        // Admins see their commands in their own chat only, after the public ones.
        for admin in admins {
            let menu = command_menu(lang)
                .into_iter()
                .map(|(command, description)| BotCommand::new(command, description))
                .chain(
                    admin_command_menu(lang)
                        .into_iter()
                        .map(|(command, description)| BotCommand::new(command, description)),
                );
            let mut request = bot.set_my_commands(menu);
            request.language_code = code.map(str::to_owned);
            request.scope = Some(BotCommandScope::Chat { chat_id: admin.private_chat().into() });
            // An admin who never wrote to the bot has no chat yet: not a reason to stop.
            if let Err(err) = request.counted().await {
                tracing::warn!(error = %err, %admin, "cannot set an admin's command menu");
            }
        }
    }
}
