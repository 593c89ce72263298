//! Interop with other people's libraries, run as they ship:
//! - the providers' reference libraries (standardwebhooks, svix, stripe,
//!   slack_sdk from PyPI; @octokit/webhooks-methods from npm) accept what
//!   `hookline send` signs, and `hookline verify` accepts what they sign;
//! - Svix's own API client drives `hookline serve` unchanged.
//!
//! `.ci/run` installs them; elsewhere a test says how and skips, except under
//! `CI=true`, where a missing library is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// Whether the libraries are installed; skipping is refused under CI.
fn ready(needs_node: bool) -> bool {
    let python = Command::new("python3")
        .args(["-c", "import standardwebhooks, svix, stripe, slack_sdk"])
        .status()
        .is_ok_and(|s| s.success());
    let node = !needs_node
        || interop_dir()
            .join("node_modules/@octokit/webhooks-methods")
            .exists();
    if python && node {
        return true;
    }
    let how = "pip install -r interop/requirements.txt && (cd interop && npm install)";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "interop libraries missing under CI: {how}"
    );
    eprintln!("skipping interop: reference libraries not installed; run: {how}");
    false
}

/// Runs `interop/{script}` with the hookline binary and expects every check to pass.
fn run(script: &str) {
    let out = Command::new("python3")
        .arg(interop_dir().join(script))
        .arg(env!("CARGO_BIN_EXE_hookline"))
        .output()
        .unwrap_or_else(|e| panic!("run interop/{script}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        out.status.success(),
        "interop/{script} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" passed, 0 failed"), "{text}");
}

#[test]
fn provider_libraries_agree_both_ways() {
    if ready(true) {
        run("providers.py");
    }
}

#[test]
fn svix_api_client_works_unchanged() {
    if ready(false) {
        run("svix_client.py");
    }
}
