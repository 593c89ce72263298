//! Search benchmark: COUNT stored events (default 1,000,000) on SQLite, and
//! a fifth as many on PostgreSQL, written through the store as the receive
//! path writes them (64 at once, group-committed, the search index kept up),
//! then inbox searches timed: a text that one event holds, one that a tenth
//! hold, one that every event holds (a header value), a two-letter text (a
//! scan), and a structured filter, each newest page of 50 asked REPEAT times.
//! Printed beside the store's write rate while indexing; the receive rate
//! with and without the index is the receive bench's, before and after.
//!
//! `cargo run --release -p hookline-bench --bin search [-- COUNT [sqlite|postgres]]`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_bench::db::{self, Postgres};
use hookline_core::{EventFilter, EventId, InboundEvent, PageRequest, Store, TextQuery, Verdict};
use serde_json::json;

const WRITERS: usize = 64;
const REPEAT: usize = 50;
const TYPES: [&str; 10] = [
    "invoice.paid",
    "invoice.created",
    "customer.updated",
    "charge.succeeded",
    "charge.refunded",
    "payout.paid",
    "order.placed",
    "order.shipped",
    "push",
    "issues",
];

/// The `i`th event: ~600 bytes of JSON, a type in ten, a unique customer.
fn event(i: u64, t0: i64) -> InboundEvent {
    let kind = TYPES[(i % 10) as usize];
    let body = json!({
        "id": format!("evt_{i:08}"), "type": kind,
        "data": {"customer": format!("cus_{i:08}"), "amount": i * 7 % 100_000, "currency": "eur",
                 "description": format!("Order {i} for Zoë, {} items, shipped to Köln", i % 9),
                 "lines": [{"sku": format!("sku-{}", i % 977), "qty": i % 5 + 1}],
                 "note": "Thank you for your purchase; the receipt follows by e-mail within a day."},
    });
    let at = t0 + (i as i64) / 50;
    InboundEvent {
        id: EventId::at(at),
        source: "bench".into(),
        event_type: Some(kind.into()),
        method: "POST".into(),
        path: "/in/bench".into(),
        query: None,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "GitHub-Hookshot/abc".into()),
            ("x-request-id".into(), format!("req-{i:08}")),
        ],
        body: body.to_string().into_bytes(),
        remote_addr: Some("127.0.0.1:5555".into()),
        received_at: at,
        verdict: Verdict::Verified,
        verdict_reason: None,
        dedup_key: None,
    }
}

/// Writes `count` events with WRITERS in flight; events per second.
async fn fill(store: &Arc<dyn Store>, count: u64, label: &str) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicU64::new(0));
    let t0 = hookline_core::clock::now_ms() - (count as i64) / 50 - 60_000;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let (store, next, label) = (store.clone(), next.clone(), label.to_string());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(());
                }
                store
                    .insert_event(event(i, t0), Duration::ZERO, 100, vec![])
                    .await?;
                if (i + 1) % 100_000 == 0 {
                    eprintln!("{label}: {} events written", i + 1);
                }
            }
        });
    }
    while let Some(t) = tasks.join_next().await {
        t??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Waits (bounded) until SQLite's indexer holds every event; how long that
/// took (s).
async fn caught_up(store: &hookline_store_sqlite::SqliteStore) -> anyhow::Result<f64> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(600) && store.search_backlog().await? > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// [`caught_up`] for PostgreSQL's indexer (events with `search` still NULL).
async fn pg_caught_up(url: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    while started.elapsed() < Duration::from_secs(600) {
        let row = client
            .query_one(
                "SELECT count(*) FROM inbound_event WHERE search IS NULL",
                &[],
            )
            .await?;
        if row.get::<_, i64>(0) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// p50 and p99 (ms) of `repeat` searches for the newest page.
async fn timed(
    store: &Arc<dyn Store>,
    filter: &EventFilter,
    repeat: usize,
) -> anyhow::Result<(f64, f64, usize)> {
    let mut ms = Vec::with_capacity(repeat);
    let mut found = 0;
    for _ in 0..repeat {
        let begun = Instant::now();
        let page = store
            .list_events(Some("bench"), filter, &PageRequest::new(Some(50), None))
            .await?;
        ms.push(begun.elapsed().as_secs_f64() * 1e3);
        found = page.data.len();
    }
    ms.sort_by(f64::total_cmp);
    let pct = |q: f64| ms[((q * ms.len() as f64).ceil() as usize).saturating_sub(1)];
    Ok((pct(0.5), pct(0.99), found))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: u64 = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    // Both stores, or the one named.
    let only = args.get(1).cloned();
    let dir = tempfile::tempdir()?;
    let mut results = Vec::new();
    println!(
        "\n{:<22} {:>10} {:>12} {:<30} {:>7} {:>9} {:>9}",
        "store", "events", "written/s", "search", "found", "p50 ms", "p99 ms"
    );
    for backend in ["sqlite", "postgres"] {
        if only.as_deref().is_some_and(|o| o != backend) {
            continue;
        }
        let mut sqlite = None;
        let (n, store, pg): (u64, Arc<dyn Store>, _) = match backend {
            "sqlite" => {
                let store = Arc::new(hookline_store_sqlite::SqliteStore::open_url(&db::sqlite(
                    dir.path(),
                ))?);
                sqlite = Some(store.clone());
                (count, store, None)
            }
            _ => match Postgres::fresh().await? {
                Some(pg) => {
                    let store = hookline_store_postgres::PgStore::connect(&pg.url).await?;
                    (count / 5, Arc::new(store), Some(pg))
                }
                None => continue,
            },
        };
        let rate = fill(&store, n, backend).await?;
        let behind = match (&sqlite, &pg) {
            (Some(store), _) => caught_up(store).await?,
            (None, Some(pg)) => pg_caught_up(&pg.url).await?,
            (None, None) => 0.0,
        };
        eprintln!("{backend}: the search index caught up {behind:.1} s after the last write");
        let rare = format!("cus_{:08}", n / 2);
        let text = |q: &str| EventFilter {
            text: TextQuery::new(q),
            ..EventFilter::default()
        };
        let cases: Vec<(String, EventFilter)> = vec![
            (format!("q={rare} (one event)"), text(&rare)),
            ("q=invoice.paid (a tenth)".into(), text("invoice.paid")),
            ("q=hookshot (every event)".into(), text("hookshot")),
            ("q=zq (two letters: a scan)".into(), text("zq")),
            (
                "q=köln + type=push".into(),
                EventFilter {
                    event_type: Some("push".into()),
                    ..text("köln")
                },
            ),
        ];
        for (name, filter) in cases {
            // A scan is timed fewer times (it reads every event).
            let repeat = if name.contains("scan") { 5 } else { REPEAT };
            let (p50, p99, found) = timed(&store, &filter, repeat).await?;
            println!(
                "{:<22} {:>10} {:>12.0} {:<30} {:>7} {:>9.2} {:>9.2}",
                backend, n, rate, name, found, p50, p99
            );
            results.push(json!({
                "store": backend, "events": n, "writtenPerSec": rate, "search": name,
                "found": found, "p50Ms": p50, "p99Ms": p99,
            }));
        }
        drop(store);
        if let Some(pg) = pg {
            pg.drop_schema().await;
        }
    }
    let dir = hookline_bench::procs::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("search.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(
            &json!({"bench": "search", "count": count, "results": results}),
        )?,
    )?;
    println!("\nwritten {}", path.display());
    Ok(())
}
