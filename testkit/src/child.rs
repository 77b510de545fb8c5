//! Our own binaries as child processes that listen on a port they chose.
//!
//! A test that picks a "free" port and hands it to a child races every other
//! test running at the same time: another process can take the port first,
//! the child fails to bind, and the test then talks to a stranger that
//! answers on that port. So the child binds port 0 and the test reads the
//! address it got from the child's own log line.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Spawns `command` with JSON logs on stdout, waits for the first log line
/// whose message starts with `listening`, and returns the child with the
/// `addr` field of that line. The rest of stdout is drained and dropped.
///
/// `command` must already ask the child to bind port 0 (e.g.
/// `WORKER_HTTP_ADDR=127.0.0.1:0`) and log `addr` at a level `RUST_LOG` lets
/// through.
///
/// # Panics
/// When the child exits or stays silent for 30 seconds before it listens.
pub fn spawn_listening(command: &mut Command, listening: &str) -> (Child, SocketAddr) {
    let mut child =
        command.env("LOG_FORMAT", "json").stdout(Stdio::piped()).spawn().expect("the child starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (found, addr) = mpsc::channel();
    let wanted = listening.to_owned();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Some(tx) = found.as_ref() else { continue };
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            let message = event["message"].as_str().unwrap_or_default();
            if let (true, Some(addr)) = (message.starts_with(&wanted), event["addr"].as_str()) {
                let _ = tx.send(addr.parse::<SocketAddr>().expect("a socket address in the log"));
                found = None;
            }
        }
    });
    match addr.recv_timeout(Duration::from_secs(30)) {
        Ok(addr) => (child, addr),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait().ok();
            panic!("the child never logged `{listening}` with its address (exit: {status:?})");
        }
    }
}
