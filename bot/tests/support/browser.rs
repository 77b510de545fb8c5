//! Debian's Chromium, headless, driven through ChromeDriver (`scripts/test`
//! installs both; `CHROMEDRIVER` and `CHROMIUM` point elsewhere).

use std::{
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// A browser session and the ChromeDriver serving it, stopped when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing ChromeDriver alone would leave its Chromium running: the whole process
        // group goes (ChromeDriver leads its own, see `launch`).
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts ChromeDriver on a free port and a headless Chromium in Russian with
/// the common flags and `args` (window size, fake devices, host rules).
pub async fn launch(args: &[String]) -> Browser {
    let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
    assert!(
        Path::new(&driver_path).exists(),
        "{driver_path} is missing: install chromium and chromium-driver (scripts/test does)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new(&driver_path)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let mut all: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        // No crash handler: it would run in a session of its own, outside the group killed on drop.
        "--disable-breakpad",
        "--disable-crash-reporter",
        "--hide-scrollbars",
        "--lang=ru-RU",
    ]
    .map(str::to_owned)
    .to_vec();
    all.extend(args.iter().cloned());
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": all },
    });
    let capabilities = capabilities.as_object().unwrap().clone();
    for _ in 0..100 {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Browser { client, driver },
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("ChromeDriver does not answer");
}
