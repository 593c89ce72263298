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
        present(false, "a tmpfs mount", "run as root (CI does)");
        return;
    };
    // Ballast to free later: the disk is "full" with it, has room without it.
    let ballast = disk.0.join("ballast");
    std::fs::write(&ballast, vec![7u8; 4 * 1024 * 1024]).unwrap();
    let db = format!("sqlite://{}", disk.0.join("hookline.db").display());
    let mut server = start(dir.path(), &db, &[], &[]).await;
    fill_refuse_recover(&server, &ballast).await;
    server.child.kill().await.unwrap();
    drop(disk);
}

/// Posts 32 KiB webhooks until one is refused, checks the refusal, `/ready`
/// and the log, frees `ballast`, and checks the recovery and that exactly the
/// acknowledged webhooks are stored. Returns the log.
async fn fill_refuse_recover(server: &Server, ballast: &Path) -> String {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let hook = format!("http://{}/webhook/disk.test", server.addr);
    let ready = format!("http://{}/ready", server.addr);
    // Incompressible (PostgreSQL compresses large values), different each time.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut body = move || {
        let pad: String = (0..32 * 1024)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect();
        serde_json::json!({ "pad": pad })
    };

    let mut acknowledged = 0;
    let refused = loop {
        assert!(acknowledged < 1000, "the disk never filled up");
        let r = client.post(&hook).json(&body()).send().await.unwrap();
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
        let r = client.post(&hook).json(&body()).send().await.unwrap();
        assert_eq!(r.status(), 503);
    }

    std::fs::remove_file(ballast).unwrap();
    let started = Instant::now();
    while client.get(&ready).send().await.unwrap().status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "/ready recovers by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = client.post(&hook).json(&body()).send().await.unwrap();
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
    log
}

/// The same on PostgreSQL: the database lives in a tablespace on a small
/// tmpfs, so its tables run out of room (SQLSTATE 53100) while the server
/// itself lives on.
#[tokio::test]
async fn a_full_postgres_tablespace_answers_503_and_recovers() {
    let Some(admin_url) = std::env::var("HOOKLINE_TEST_POSTGRES_URL").ok() else {
        present(false, "HOOKLINE_TEST_POSTGRES_URL", "CI sets it");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("pgdisk"), "16m") else {
        present(false, "a tmpfs mount", "run as root (CI does)");
        return;
    };
    let owned = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(&disk.0)
        .status();
    assert!(
        owned.is_ok_and(|s| s.success()),
        "the tablespace belongs to postgres"
    );
    let name = format!("hl_full_{}", std::process::id());
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args([admin_url.as_str(), "-v", "ON_ERROR_STOP=1", "-qc", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    psql(&format!(
        "CREATE TABLESPACE {name} LOCATION '{}'",
        disk.0.display()
    ));
    psql(&format!("CREATE DATABASE {name} TABLESPACE {name}"));
    let ballast = disk.0.join("ballast");
    std::fs::write(&ballast, vec![7u8; 10 * 1024 * 1024]).unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let db = format!("{base}/{name}");
    let mut server = start(dir.path(), &db, &[], &[]).await;
    let log = fill_refuse_recover(&server, &ballast).await;
    assert!(log.contains("53100"), "PostgreSQL's disk-full code: {log}");
    server.child.kill().await.unwrap();
    let _ = server.child.wait().await;
    psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
    psql(&format!("DROP TABLESPACE {name}"));
    drop(disk);
}
