//! What a newcomer meets first: `hookline --help`, `hookline init`, and shell
//! completions.

#![allow(clippy::unwrap_used)]

mod support;

use support::{get_api, hookline, sqlite_in, start, stderr, stdout};

#[tokio::test]
async fn init_writes_a_config_serve_starts_with_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookline.toml");
    let out = hookline(&["init", "--path", path.to_str().unwrap()], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("wrote"), "{}", stdout(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    for key in [
        "database_url",
        "allowed_subnets",
        "webhook_secret",
        "admin_token",
        "reply.received",
        "auth =",
    ] {
        assert!(text.contains(key), "the template shows `{key}`");
    }
    let again = hookline(&["init", "--path", path.to_str().unwrap()], None).await;
    assert_eq!(again.status.code(), Some(2), "bad input: the file exists");
    assert!(
        stderr(&again).contains("never overwrites"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "untouched");

    let server = start(
        dir.path(),
        &sqlite_in(dir.path()),
        &["--config", path.to_str().unwrap()],
        &[],
    )
    .await;
    let source = get_api(&reqwest::Client::new(), server.addr, "/source/example").await;
    assert_eq!(source["scheme"], "hmac-sha256", "{source}");
    assert_eq!(source["verifies"], true);
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef hookline"),
        ("fish", "complete -c hookline"),
    ] {
        let out = hookline(&["completions", shell], None).await;
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(mark) && script.contains("serve"), "{shell}");
    }
    let out = hookline(&["completions", "tcsh"], None).await;
    assert_eq!(out.status.code(), Some(2), "an unknown shell is bad input");
}

#[tokio::test]
async fn the_top_level_help_says_what_hookline_does_and_where_the_ui_is() {
    let out = hookline(&["--help"], None).await;
    let help = stdout(&out);
    for said in [
        "/ui",
        "delivery engine",
        "Svix-compatible",
        "Examples:",
        "init",
        "completions",
    ] {
        assert!(help.contains(said), "`{said}` in:\n{help}");
    }
}

#[tokio::test]
async fn every_subcommand_help_has_examples_and_only_its_own_options() {
    for command in [
        "serve",
        "send",
        "verify",
        "migrate",
        "init",
        "completions",
        "listen",
        "events list",
        "events show",
        "events replay",
        "events tail",
        "token admin",
        "token app",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let out = hookline(&args, None).await;
        let help = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{command}");
        assert!(
            help.contains("Examples:\n  hookline "),
            "{command} --help:\n{help}"
        );
    }
    let migrate = stdout(&hookline(&["migrate", "--help"], None).await);
    for ignored in ["--port", "--host", "--role", "--log-format"] {
        assert!(
            !migrate.contains(ignored),
            "migrate offers {ignored}:\n{migrate}"
        );
    }
    let serve = stdout(&hookline(&["serve", "--help"], None).await);
    for said in [
        "WEBHOOK_SECRET",
        "allowed_subnets",
        "/ui",
        "delivery engine",
    ] {
        assert!(serve.contains(said), "`{said}` in serve --help:\n{serve}");
    }
}
