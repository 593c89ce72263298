//! A full disk, for real: the database on a small tmpfs (mounting needs root;
//! without it the test is skipped, but fails under CI). Writes answer 503 with
//! a JSON reason, `/ready` answers 503, the fault is logged once, and when
//! space returns everything recovers by itself; nothing acknowledged is lost.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

/// A tmpfs of `size` mounted at `at`, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(at.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_and_recovers_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("disk"), "8m") else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "mounting a tmpfs needs root, which CI has"
        );
        return eprintln!("skipping: cannot mount a tmpfs (not root)");
    };
    // Ballast to free later: the disk is "full" with it, has room without it.
    let ballast = disk.0.join("ballast");
    std::fs::write(&ballast, vec![7u8; 4 * 1024 * 1024]).unwrap();
    let db = format!("sqlite://{}", disk.0.join("hookline.db").display());
    let mut server = start(dir.path(), &db, &[], &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let hook = format!("http://{}/webhook/disk.test", server.addr);
    let ready = format!("http://{}/ready", server.addr);
    let body = serde_json::json!({ "pad": "x".repeat(32 * 1024) });

    let mut acknowledged = 0;
    let refused = loop {
        assert!(acknowledged < 1000, "the disk never filled up");
        let r = client.post(&hook).json(&body).send().await.unwrap();
        if r.status().is_success() {
            acknowledged += 1;
            continue;
        }
        break r;
    };
    eprintln!("{acknowledged} webhooks stored before the disk filled");
    assert_eq!(refused.status(), 503);
    let answer: serde_json::Value = refused.json().await.unwrap();
    let said = answer["error"].as_str().unwrap_or_default().to_string();
    assert!(said.contains("Nothing can be stored right now"), "{answer}");

    let r = client.get(&ready).send().await.unwrap();
    assert_eq!(r.status(), 503, "/ready while writes fail");
    let answer: serde_json::Value = r.json().await.unwrap();
    assert!(
        answer["error"].as_str().unwrap().contains("cannot write"),
        "{answer}"
    );
    for _ in 0..20 {
        let r = client.post(&hook).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 503);
    }

    std::fs::remove_file(&ballast).unwrap();
    let started = Instant::now();
    while client.get(&ready).send().await.unwrap().status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "/ready recovers by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = client.post(&hook).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    acknowledged += 1;

    let events = get_api(
        &client,
        server.addr,
        "/source/default/event?limit=250&verdict=unverified",
    )
    .await;
    assert_eq!(events["done"], true, "one page holds them all");
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        acknowledged,
        "every acknowledged webhook is stored, and no refused one"
    );

    let log = server.log_text();
    assert_eq!(
        log.matches("the store cannot write;").count(),
        1,
        "the fault is logged once: {log}"
    );
    assert!(log.matches("WAL checkpoint failed").count() <= 1, "{log}");
    assert!(log.contains("the store writes again"), "{log}");
    server.child.kill().await.unwrap();
    drop(disk);
}
