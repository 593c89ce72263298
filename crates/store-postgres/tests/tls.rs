//! TLS to a real PostgreSQL, by the URL's `sslmode` and `sslrootcert` as
//! libpq: each store's connections are looked up in `pg_stat_ssl` through a
//! separate plain connection. The server's own certificate (Debian's, for
//! `localhost`) serves as the root for the verifying modes.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hookline_testkit::{Backend, FreshDb};
use tokio_postgres::{Client, NoTls};

/// A plain connection to the test database, and the server's certificate
/// file; `None` (a skip) when the server has TLS off, except under CI.
async fn server() -> Option<(Client, String)> {
    if !Backend::Postgres.available() {
        return None;
    }
    let base = std::env::var("HOOKLINE_TEST_POSTGRES_URL").unwrap();
    let (client, conn) = tokio_postgres::connect(&base, NoTls).await.unwrap();
    tokio::spawn(conn);
    let ssl: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl != "on" {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the test PostgreSQL has ssl=off: the TLS tests cannot run"
        );
        eprintln!("skipping: the test PostgreSQL has ssl=off");
        return None;
    }
    let cert: String = client
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);
    Some((client, cert))
}

/// A fresh schema's URL with `params` added, on `host` instead of the test
/// URL's; its connections are named after the schema, which is unique.
async fn url(host: &str, params: &str) -> (String, String) {
    let mut u = url::Url::parse(&FreshDb::on(Backend::Postgres).await.url).unwrap();
    u.set_host(Some(host)).unwrap();
    let (_, options) = u.query_pairs().find(|(k, _)| k == "options").unwrap();
    let name = options.rsplit('=').next().unwrap().to_string();
    (format!("{u}&application_name={name}{params}"), name)
}

/// Whether each of the store's connections (the listener and one pooled, which
/// the writer also draws from) is encrypted, once both are up.
async fn encrypted(plain: &Client, app: &str) -> Vec<bool> {
    for _ in 0..100 {
        let rows = plain
            .query(
                "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
                 WHERE a.application_name = $1",
                &[&app],
            )
            .await
            .unwrap();
        if rows.len() >= 2 {
            return rows.iter().map(|r| r.get(0)).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store's connections did not all come up");
}

async fn opens(url: &str) -> Result<hookline_store_postgres::PgStore, String> {
    hookline_store_postgres::PgStore::connect(url)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_by_default_and_plain_when_disabled() {
    let Some((plain, _)) = server().await else {
        return;
    };
    for (params, want) in [
        ("", true),
        ("&sslmode=require", true),
        ("&sslmode=disable", false),
    ] {
        let (url, app) = url("127.0.0.1", params).await;
        let store = opens(&url).await.unwrap();
        hookline_core::Maintenance::ping(&store).await.unwrap();
        let ssl = encrypted(&plain, &app).await;
        assert!(ssl.iter().all(|s| *s == want), "{params:?}: {ssl:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_checks_the_chain_and_the_name() {
    let Some((plain, cert)) = server().await else {
        return;
    };
    let root = format!("&sslmode=verify-full&sslrootcert={cert}");
    let (url_ok, app) = url("localhost", &root).await;
    let store = opens(&url_ok).await.unwrap();
    hookline_core::Maintenance::ping(&store).await.unwrap();
    assert!(encrypted(&plain, &app).await.iter().all(|s| *s));

    let (wrong_name, _) = url("127.0.0.1", &root).await;
    let e = opens(&wrong_name)
        .await
        .err()
        .expect("the name is localhost");
    assert!(e.contains("sslrootcert") && e.contains("host name"), "{e}");

    let (public_roots, _) = url("localhost", "&sslmode=verify-full").await;
    let e = opens(&public_roots).await.err().expect("not a public CA");
    assert!(e.contains("certificate"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_ca_and_require_with_a_root_check_the_chain_only() {
    let Some((plain, cert)) = server().await else {
        return;
    };
    for mode in ["verify-ca", "require"] {
        let (url, app) = url("127.0.0.1", &format!("&sslmode={mode}&sslrootcert={cert}")).await;
        let store = opens(&url).await.unwrap();
        hookline_core::Maintenance::ping(&store).await.unwrap();
        assert!(encrypted(&plain, &app).await.iter().all(|s| *s), "{mode}");
    }
    let (untrusted, _) = url("127.0.0.1", "&sslmode=verify-ca").await;
    let e = opens(&untrusted).await.err().expect("not a public CA");
    assert!(e.contains("certificate"), "{e}");
}
