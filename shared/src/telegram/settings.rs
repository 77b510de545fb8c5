//! How this process reaches Telegram: the token, the Bot API, how updates
//! arrive, and the pace of sends.

use std::path::{Path, PathBuf};

use url::Url;

use crate::platform::secret::Secret;

/// How the bot receives updates and where it finds the Bot API.
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// The bot token from @BotFather.
    pub bot_token: Secret,
    /// Long polling or webhook.
    pub mode: UpdateMode,
    /// Bot API base URL: the public one, a local Bot API server, or a test fake.
    pub api_url: Url,
    /// Largest file the Bot API lets us download (20 MB on the public server, 2000 MB on a
    /// local one).
    pub max_download_bytes: u64,
    /// `Some` when the Bot API server runs with `--local` and shares its files with us:
    /// `getFile` then answers an absolute path on its disk, read from this directory.
    pub local_files: Option<LocalFiles>,
    /// Payment provider token from @BotFather (e.g. YooKassa's), for card
    /// payments inside Telegram; `None` offers Stars only there.
    pub payment_provider_token: Option<Secret>,
    /// Messages this process sends per second at most, all chats together
    /// (Telegram allows about 30 per bot: share them between processes).
    pub messages_per_second: std::num::NonZeroU32,
}

/// How Telegram delivers updates to the bot.
#[derive(Debug, Clone)]
pub enum UpdateMode {
    /// The bot asks Telegram for updates (`getUpdates`).
    Polling,
    /// Telegram POSTs updates to `url`, proving itself with `secret_token`.
    Webhook {
        /// Public HTTPS URL Telegram calls.
        url: Url,
        /// Value of the `X-Telegram-Bot-Api-Secret-Token` header.
        secret_token: Secret,
    },
}

/// The directory a local Bot API server (`telegram-bot-api --local`) keeps downloaded files in,
/// shared with this process; only paths inside it are ever read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFiles {
    dir: PathBuf,
}

/// Why a `file_path` from a local Bot API server is not read.
#[derive(Debug, thiserror::Error)]
pub enum LocalFileError {
    /// The server answered a relative path: it does not run with `--local`.
    #[error("the Bot API server answered a relative file path {0:?}: is it running with --local?")]
    NotAbsolute(String),
    /// The path leads outside the shared directory (after resolving `..` and links).
    #[error("the file path {path:?} is outside the shared directory {dir:?}")]
    Outside {
        /// The path as resolved.
        path: PathBuf,
        /// The shared directory as resolved.
        dir: PathBuf,
    },
    /// The file or the directory cannot be resolved (missing, no permission).
    #[error("the file {path:?} cannot be read: {source}")]
    Unreadable {
        /// The path asked for.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

impl LocalFiles {
    /// Files are read from inside `dir` only.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The shared directory as configured.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The real path of the server's `file_path`, if it is an absolute path to a regular file
    /// inside the shared directory once `..` and symbolic links are resolved.
    ///
    /// # Errors
    /// See [`LocalFileError`].
    pub async fn resolve(&self, file_path: &str) -> Result<PathBuf, LocalFileError> {
        let asked = Path::new(file_path);
        if !asked.is_absolute() {
            return Err(LocalFileError::NotAbsolute(file_path.to_owned()));
        }
        let unreadable = |path: &Path| {
            let path = path.to_owned();
            move |source| LocalFileError::Unreadable { path, source }
        };
        let dir = tokio::fs::canonicalize(&self.dir).await.map_err(unreadable(&self.dir))?;
        let path = tokio::fs::canonicalize(asked).await.map_err(unreadable(asked))?;
        if !path.starts_with(&dir) || path == dir {
            return Err(LocalFileError::Outside { path, dir });
        }
        let meta = tokio::fs::metadata(&path).await.map_err(unreadable(&path))?;
        if !meta.is_file() {
            return Err(LocalFileError::Unreadable {
                path,
                source: std::io::Error::other("not a regular file"),
            });
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn only_regular_files_inside_the_shared_directory_are_resolved() {
        let root = std::env::temp_dir().join(format!("tgbot-local-files-{}", std::process::id()));
        let shared = root.join("shared");
        tokio::fs::create_dir_all(shared.join("voice")).await.unwrap();
        tokio::fs::write(shared.join("voice/file_1.oga"), b"ogg").await.unwrap();
        tokio::fs::write(root.join("secret"), b"no").await.unwrap();
        let local = LocalFiles::new(&shared);
        let inside = shared.join("voice/file_1.oga");

        assert_eq!(local.resolve(inside.to_str().unwrap()).await.unwrap(), inside.canonicalize().unwrap());
        let escaped = format!("{}/voice/../../secret", shared.display());
        assert!(matches!(local.resolve(&escaped).await, Err(LocalFileError::Outside { .. })));
        assert!(matches!(local.resolve("/etc/passwd").await, Err(LocalFileError::Outside { .. })));
        assert!(matches!(local.resolve("voice/file_1.oga").await, Err(LocalFileError::NotAbsolute(_))));
        let dir = shared.join("voice");
        assert!(matches!(local.resolve(dir.to_str().unwrap()).await, Err(LocalFileError::Unreadable { .. })));
        let missing = shared.join("voice/none.oga");
        assert!(matches!(
            local.resolve(missing.to_str().unwrap()).await,
            Err(LocalFileError::Unreadable { .. })
        ));
        tokio::fs::remove_dir_all(&root).await.unwrap();
    }
}
