//! What every browser test needs: chromedriver and a headless Chromium, and
//! a few WebDriver steps (wait for an element, fill, click and wait for the
//! next page, log in, screenshots into `target/ui-screenshots/`). Without
//! chromedriver a test says so and skips (under `CI=true` it fails).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hookline_server::testkit::TestApp;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const DRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free loopback port; killed when dropped.
pub struct Driver {
    pub child: tokio::process::Child,
    url: String,
    _profile: tempfile::TempDir,
    /// One browser at a time: two cores, and chromedrivers started together
    /// sometimes exit before they listen.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn driver() -> Option<Driver> {
    if !std::path::Path::new(DRIVER).exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but {DRIVER} is missing: install Debian's chromium and chromium-driver"
        );
        eprintln!("skipping: {DRIVER} not found (apt-get install chromium chromium-driver)");
        return None;
    }
    let turn = ONE_BROWSER.lock().await;
    // chromedriver picks its own port and says which: a port chosen here and
    // handed over could be taken by another test's listener in between.
    let mut child = tokio::process::Command::new(DRIVER)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                return rest.trim_end_matches('.').parse::<u16>().ok();
            }
        }
        None
    };
    let port = tokio::time::timeout(Duration::from_secs(20), started)
        .await
        .expect("chromedriver did not start within 20 s")
        .expect("chromedriver exited without saying its port");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().unwrap(),
        _turn: turn,
    })
}

pub async fn browser(d: &Driver) -> Client {
    session(d, &[], d._profile.path()).await
}

/// A second browser beside the first (its own profile) whose system is in
/// dark mode, as `prefers-color-scheme: dark` sees it.
pub async fn dark_browser(d: &Driver) -> Client {
    let profile = d._profile.path().join("dark");
    let dark = [
        "--force-dark-mode",
        "--blink-settings=preferredColorScheme=0",
    ];
    session(d, &dark, &profile).await
}

async fn session(d: &Driver, extra: &[&str], profile: &std::path::Path) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1280,1000".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a WebDriver session")
}

pub fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

pub async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("no `{sel}` on the page: {e}"))
}

pub async fn text(c: &Client, sel: &str) -> String {
    css(c, sel).await.text().await.unwrap()
}

pub async fn fill(c: &Client, sel: &str, value: &str) {
    let e = css(c, sel).await;
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Clicks `sel`, which submits a form or follows a link, and waits for the
/// next page (a marker set on this one is gone).
pub async fn click_and_load(c: &Client, sel: &str) {
    c.execute("window.__old_page = true", vec![]).await.unwrap();
    css(c, sel).await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let gone = c
            .execute(
                "return window.__old_page === undefined && document.readyState === 'complete'",
                vec![],
            )
            .await
            .unwrap_or(json!(false));
        if gone == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "clicking `{sel}` loaded no page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reloads until `sel`'s text contains `want` (bounded).
pub async fn reload_until(c: &Client, sel: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let t = text(c, sel).await;
        if t.contains(want) || Instant::now() > deadline {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.refresh().await.unwrap();
    }
}

/// Logs in as the admin through the login page.
pub async fn login(c: &Client, app: &TestApp) {
    c.goto(&app.url("/ui/dashboard")).await.unwrap();
    fill(c, "#token", &app.admin_token).await;
    click_and_load(c, "#login").await;
    assert_eq!(text(c, "#health").await, "healthy");
}
