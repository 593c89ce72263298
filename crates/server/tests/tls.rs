//! HTTPS with rustls, and mutual TLS on the ingress routes, with certificates
//! generated in the test.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use hookline_server::testkit::TestApp;
use hookline_server::{Config, TlsConfig};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::Value;

struct Pki {
    ca_pem: String,
    server_cert: String,
    server_key: String,
    client_identity: String,
    stranger_identity: String,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn client_identity(issuer: &CertifiedIssuer<'static, KeyPair>) -> String {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["webhook-sender".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, issuer).unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let root = ca("hookline test CA");
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&server_key, &root)
        .unwrap();
    Pki {
        ca_pem: root.pem(),
        server_cert: server.pem(),
        server_key: server_key.serialize_pem(),
        client_identity: client_identity(&root),
        stranger_identity: client_identity(&ca("someone else")),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn client(pki: &Pki, identity: Option<&str>, app: &TestApp) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .resolve("localhost", app.addr)
        .tls_built_in_root_certs(false);
    if let Some(id) = identity {
        b = b.identity(reqwest::Identity::from_pem(id.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

async fn spawn(pki: &Pki, dir: &Path, mutual: bool) -> TestApp {
    let tls = TlsConfig {
        cert: write(dir, "server.pem", &pki.server_cert),
        key: write(dir, "server.key", &pki.server_key),
        client_ca: mutual.then(|| write(dir, "ca.pem", &pki.ca_pem)),
    };
    TestApp::spawn(Config {
        tls: Some(tls),
        ..Config::default()
    })
    .await
}

async fn https_serves_every_route() {
    let (pki, dir) = (pki(), tempfile::tempdir().unwrap());
    let app = spawn(&pki, dir.path(), false).await;
    let c = client(&pki, None, &app);
    let r = c.get(app.https_url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(app.https_url("/webhook/secure"))
        .header("content-type", "application/json")
        .body(r#"{"over":"tls"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["receivedData"]["over"], "tls");
    // Plain HTTP on the TLS port is not served.
    assert!(app.client.get(app.url("/health")).send().await.is_err());
    app.stop().await;
}

async fn mutual_tls_guards_the_ingress_routes() {
    let (pki, dir) = (pki(), tempfile::tempdir().unwrap());
    let app = spawn(&pki, dir.path(), true).await;

    let with_cert = client(&pki, Some(&pki.client_identity), &app);
    let r = with_cert
        .post(app.https_url("/webhook/m"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a client certificate from our CA is accepted"
    );

    let without = client(&pki, None, &app);
    let r = without
        .post(app.https_url("/webhook/m"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("client certificate is required"));
    let r = without.get(app.https_url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200, "health checks need no client certificate");
    let r = without
        .get(app.https_url("/api/v1/source"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the API authenticates by token");

    let stranger = client(&pki, Some(&pki.stranger_identity), &app);
    assert!(
        stranger
            .post(app.https_url("/webhook/m"))
            .body("{}")
            .send()
            .await
            .is_err(),
        "a certificate from another CA fails the handshake"
    );
    app.stop().await;
}

async fn bad_tls_files_are_reported_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsConfig {
        cert: write(dir.path(), "empty.pem", ""),
        key: write(dir.path(), "k.pem", ""),
        client_ca: None,
    };
    let store = hookline_store_sqlite::SqliteStore::open(&dir.path().join("db")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = hookline_server::run(
        Config {
            tls: Some(tls),
            ..Config::default()
        },
        std::sync::Arc::new(store),
        listener,
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("empty.pem"), "{err}");
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    https_serves_every_route,
    mutual_tls_guards_the_ingress_routes,
    bad_tls_files_are_reported_at_start,
);
