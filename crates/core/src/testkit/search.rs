//! Contract checks of inbox search (`EventFilter::text`): a case-insensitive
//! substring of the body or a header value, through each backend's index.

use std::sync::Arc;

use super::*;
use crate::clock::now_ms;
use crate::inbound::{EventFilter, InboundEvent, Verdict};
use crate::page::PageRequest;
use crate::search::TextQuery;
use crate::store::Store;

/// Stores `body` in `source` (with one extra header), `n` ms after `t0`.
async fn stored(store: &dyn Store, source: &str, t0: i64, n: i64, body: &str) -> InboundEvent {
    let mut e = event(source, t0 + n, body.as_bytes(), Verdict::Verified, None);
    e.headers.push(("x-trace".into(), format!("Trace-{n}-ÄBC")));
    store
        .insert_event(e.clone(), WINDOW, 100, vec![])
        .await
        .unwrap();
    e
}

/// The bodies of the events of `source` (every source with `None`) that contain `q`.
pub async fn found(
    store: &dyn Store,
    source: Option<&str>,
    q: &str,
    verdict: Option<Verdict>,
) -> Vec<String> {
    let filter = EventFilter {
        text: TextQuery::new(q),
        verdict,
        ..EventFilter::default()
    };
    let page = store
        .list_events(source, &filter, &PageRequest::default())
        .await
        .unwrap();
    page.data
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.body).into_owned())
        .collect()
}

pub async fn text_search_matches_body_and_header_values_case_insensitively(store: Arc<dyn Store>) {
    let t0 = now_ms();
    stored(&*store, "s", t0, 1, r#"{"customer":"Zoë Café"}"#).await;
    stored(
        &*store,
        "s",
        t0,
        2,
        r#"{"city":"K\u00f6ln","note":"Order SHIPPED"}"#,
    )
    .await;
    stored(&*store, "s", t0, 3, "plain text, nothing else").await;
    let cafe = vec![r#"{"customer":"Zoë Café"}"#.to_string()];
    assert_eq!(found(&*store, Some("s"), "zoë café", None).await, cafe);
    assert_eq!(
        found(&*store, Some("s"), "ZOË CAFÉ", None).await,
        cafe,
        "non-ASCII folds too"
    );
    // A JSON escape matches its character once the event is indexed (an
    // index may trail the inbox by a moment; until then it is scanned).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let koln = loop {
        let got = found(&*store, Some("s"), "köln", None).await;
        if got.len() == 1 || std::time::Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(koln.len(), 1, "a JSON escape matches its character");
    assert_eq!(found(&*store, Some("s"), "shipped", None).await, koln);
    // Header values: every event has one of these.
    assert_eq!(found(&*store, Some("s"), "trace-2-äbc", None).await, koln);
    assert_eq!(
        found(&*store, Some("s"), "application/json", None)
            .await
            .len(),
        3
    );
    assert!(found(&*store, Some("s"), "no such text", None)
        .await
        .is_empty());
}

pub async fn text_search_spans_sources_and_combines_with_filters(store: Arc<dyn Store>) {
    let t0 = now_ms();
    stored(&*store, "a", t0, 1, "invoice paid").await;
    stored(&*store, "b", t0, 2, "invoice overdue").await;
    let mut rejected = event("b", t0 + 3, b"invoice forged", Verdict::Rejected, None);
    rejected.verdict_reason = Some("no_matching_signature".into());
    store
        .insert_event(rejected, WINDOW, 100, vec![])
        .await
        .unwrap();
    assert_eq!(
        found(&*store, None, "invoice", None).await,
        ["invoice forged", "invoice overdue", "invoice paid"],
        "every source's, newest first"
    );
    assert_eq!(
        found(&*store, Some("a"), "invoice", None).await,
        ["invoice paid"]
    );
    assert_eq!(
        found(&*store, Some("a"), "overdue", None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&*store, None, "invoice", Some(Verdict::Rejected)).await,
        ["invoice forged"]
    );
    // Pages of one, through the iterator.
    let filter = EventFilter {
        text: TextQuery::new("invoice"),
        ..EventFilter::default()
    };
    let mut page = PageRequest::new(Some(1), None);
    let mut seen = 0;
    loop {
        let got = store.list_events(None, &filter, &page).await.unwrap();
        seen += got.data.len();
        if got.done {
            break;
        }
        page.iterator = got.iterator;
    }
    assert_eq!(seen, 3);
}

pub async fn text_search_takes_wildcards_and_short_queries_literally(store: Arc<dyn Store>) {
    let t0 = now_ms();
    stored(&*store, "w", t0, 1, "50% off, code A_B").await;
    stored(&*store, "w", t0, 2, "500 off, code AxB").await;
    stored(&*store, "w", t0, 3, r#"say "hi" twice"#).await;
    assert_eq!(
        found(&*store, Some("w"), "50%", None).await,
        ["50% off, code A_B"]
    );
    assert_eq!(
        found(&*store, Some("w"), "a_b", None).await,
        ["50% off, code A_B"]
    );
    assert_eq!(
        found(&*store, Some("w"), "\"hi\"", None).await,
        [r#"say "hi" twice"#]
    );
    // Shorter than a trigram: still exact, by a scan.
    assert_eq!(
        found(&*store, Some("w"), "%", None).await,
        ["50% off, code A_B"]
    );
    assert_eq!(
        found(&*store, Some("w"), "xb", None).await,
        ["500 off, code AxB"]
    );
}
