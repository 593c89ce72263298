//! The README's examples, run as written: every ```console block marked
//! `<!-- checked by crates/cli/tests/readme.rs … -->` is taken from README.md
//! itself (so they cannot drift), its `$ ` commands run by `sh` against one
//! server started as the tour starts it (`WEBHOOK_SECRET=s3cr3t hookline
//! serve`, an admin token generated), and every output line it shows must
//! appear, in order. In an expected line `…` stands for anything and each
//! number for any number (times and ids vary); `localhost:3000` is the
//! server's address and `hl_admin_Xq3…` its generated token.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use regex::Regex;
use support::*;

const MARK: &str = "<!-- checked by crates/cli/tests/readme.rs";

/// One example: a command and the output lines it shows.
struct Example {
    command: String,
    shown: Vec<String>,
}

/// The marked blocks' examples, in README order.
fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with(MARK) {
            continue;
        }
        assert_eq!(
            lines.next(),
            Some("```console"),
            "a mark stands right above a console block"
        );
        let mut pending = String::new();
        for l in lines.by_ref() {
            if l == "```" {
                break;
            }
            if let Some(rest) = l.strip_prefix("$ ").or((!pending.is_empty()).then_some(l)) {
                pending.push_str(rest.trim_end_matches('\\').trim());
                pending.push(' ');
                if !l.ends_with('\\') {
                    out.push(Example {
                        command: std::mem::take(&mut pending).trim().to_string(),
                        shown: Vec::new(),
                    });
                }
            } else if let Some(last) = out.last_mut() {
                if !l.trim().is_empty() && l.trim() != "…" {
                    last.shown.push(l.trim_end().to_string());
                }
            }
        }
    }
    out
}

/// An expected line as a pattern: `…` is anything, a number any number.
fn pattern(shown: &str) -> Regex {
    let mut re = String::from("^");
    let digits = Regex::new(r"[0-9]+").unwrap();
    for (i, part) in shown.split('…').enumerate() {
        if i > 0 {
            re.push_str(".*");
        }
        let mut last = 0;
        for m in digits.find_iter(part) {
            re.push_str(&regex::escape(&part[last..m.start()]));
            re.push_str("[0-9]+");
            last = m.end();
        }
        re.push_str(&regex::escape(&part[last..]));
    }
    re.push('$');
    Regex::new(&re).unwrap()
}

#[test]
fn the_pattern_of_a_shown_line() {
    assert!(pattern("Response: 200 OK (1.9 ms)").is_match("Response: 200 OK (0.41 ms)"));
    assert!(pattern(r#"{"id":"evt_…","x":1}"#).is_match(r#"{"id":"evt_abc","x":7}"#));
    assert!(!pattern("valid (secret #1 of 1)").is_match("invalid"));
}

#[tokio::test]
async fn the_readme_examples_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let all = examples(&readme);
    assert!(
        all.len() >= 5,
        "the marked examples were found: {}",
        all.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut server = None;
    let mut token = String::new();
    let bin = Path::new(env!("CARGO_BIN_EXE_hookline"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for ex in &all {
        if ex.command.ends_with("hookline serve") {
            let env = [("WEBHOOK_SECRET", "s3cr3t"), ("HOOKLINE_ADMIN_TOKEN", "")];
            let s = start(dir.path(), &sqlite_in(dir.path()), &[], &env).await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let log = s.log_text();
            token = log
                .split_whitespace()
                .find(|w| w.starts_with("hl_admin_"))
                .unwrap_or_else(|| panic!("the tour's token is generated: {log}"))
                .to_string();
            server = Some(s);
            continue;
        }
        let addr = server
            .as_ref()
            .map(|s| s.addr.to_string())
            .unwrap_or_default();
        let command = ex
            .command
            .replace("localhost:3000", &addr)
            .replace("hl_admin_Xq3…", &token);
        let out = tokio::process::Command::new("sh")
            .args(["-c", &command])
            .env("PATH", &path)
            .env_remove("HOOKLINE_SECRET")
            .current_dir(dir.path())
            .output()
            .await
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "`{command}` failed:\n{text}");
        let mut actual = text.lines().map(str::trim_end);
        for shown in &ex.shown {
            let want = pattern(&shown.replace("localhost:3000", &addr));
            assert!(
                actual.any(|l| want.is_match(l)),
                "`{command}` did not show `{shown}` (in order); it printed:\n{text}"
            );
        }
    }
    if let Some(mut s) = server {
        s.child.kill().await.unwrap();
    }
}
