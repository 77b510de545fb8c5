//! Process shutdown on SIGTERM (what Docker sends) or Ctrl-C.

/// Signal handlers, installed when this is created: a signal that arrives
/// before [`Shutdown::wait`] is polled is still caught, not fatal.
pub struct Shutdown {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Shutdown {
    /// Installs the handlers now.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let terminate = signal(SignalKind::terminate())
                .inspect_err(|err| tracing::error!(error = %err, "cannot listen for SIGTERM"))
                .ok();
            let interrupt = signal(SignalKind::interrupt())
                .inspect_err(|err| tracing::error!(error = %err, "cannot listen for Ctrl-C"))
                .ok();
            Self { terminate, interrupt }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Resolves when the process is asked to stop.
    pub async fn wait(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = next(self.terminate) => tracing::info!("SIGTERM received, shutting down"),
                () = next(self.interrupt) => tracing::info!("Ctrl-C received, shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received, shutting down");
        }
    }
}

/// Installs the handlers and waits for a stop signal.
pub async fn signal() {
    Shutdown::install().wait().await;
}
