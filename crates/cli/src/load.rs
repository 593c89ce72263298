//! `hookline send --count N --concurrency C [--rate R]`: many signed webhooks
//! over reused connections, each sent as soon as one of C is free (closed
//! loop) or at R per second (open loop), a progress bar, then a summary with
//! latency percentiles.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::exit::Outcome;
use crate::send::{new_id, unix_now, Prepared};
use crate::transport::{self, FailureKind};

/// Open loop: how far past its time a request must start to count as late
/// (tokio's timers wake to the millisecond).
const LATE: Duration = Duration::from_millis(1);

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    by_class: BTreeMap<String, u64>,
    errors: BTreeMap<FailureKind, u64>,
    first_error: Option<String>,
    /// Open loop: requests that started after they were due (C in flight).
    late: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (k, v) in other.by_class {
            *self.by_class.entry(k).or_default() += v;
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.first_error = self.first_error.take().or(other.first_error);
        self.late += other.late;
    }
}

pub async fn run(
    p: Prepared,
    count: u64,
    concurrency: usize,
    rate: Option<f64>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let workers = concurrency.min(usize::try_from(count).unwrap_or(usize::MAX));
    let client = transport::client(p.timeout, workers)?;
    let p = Arc::new(p);
    let next = Arc::new(AtomicU64::new(0));
    let bar = if json {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(count);
        bar.set_style(
            ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} {per_sec} eta {eta}")?
                .progress_chars("=> "),
        );
        bar
    };
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (client, p, next, bar) = (client.clone(), p.clone(), next.clone(), bar.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            loop {
                let ticket = next.fetch_add(1, Ordering::Relaxed);
                if ticket >= count {
                    break;
                }
                // Open loop: wait for this request's turn; if it is overdue
                // already (beyond the timer's own granularity), its latency
                // runs from when it was due.
                let begun = match rate {
                    Some(r) => {
                        let due = started + Duration::from_secs_f64(ticket as f64 / r);
                        if Instant::now() > due + LATE {
                            t.late += 1;
                            due
                        } else {
                            tokio::time::sleep_until(due.into()).await;
                            Instant::now()
                        }
                    }
                    None => Instant::now(),
                };
                let headers = p.headers(&new_id(), unix_now())?;
                let res = client
                    .post(p.url.clone())
                    .headers(headers)
                    .body(p.body.clone())
                    .send()
                    .await;
                let res = match res {
                    Ok(resp) => {
                        let status = resp.status();
                        resp.bytes().await.map(|_| status)
                    }
                    Err(e) => Err(e),
                };
                t.latencies_us.push(begun.elapsed().as_micros() as u64);
                match res {
                    Ok(status) => {
                        *t.by_class
                            .entry(format!("{}xx", status.as_u16() / 100))
                            .or_default() += 1;
                    }
                    Err(e) => {
                        let err = transport::classify(&e, &p.url, p.timeout);
                        *t.errors.entry(err.kind).or_default() += 1;
                        t.first_error.get_or_insert(err.message);
                    }
                }
                bar.inc(1);
            }
            anyhow::Ok(t)
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await??);
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let ok = total.by_class.get("2xx").copied().unwrap_or(0);
    summarise(&p, count, rate, elapsed, &mut total, json)?;
    Ok(if ok == count {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn summarise(
    p: &Prepared,
    count: u64,
    offered: Option<f64>,
    elapsed: Duration,
    t: &mut Tally,
    json: bool,
) -> anyhow::Result<()> {
    t.latencies_us.sort_unstable();
    let pct = |q: f64| percentile_ms(&t.latencies_us, q);
    let rate = count as f64 / elapsed.as_secs_f64().max(1e-9);
    if json {
        let summary = json!({
            "url": p.url.as_str(),
            "sent": count,
            "elapsedSecs": elapsed.as_secs_f64(),
            "requestsPerSec": rate,
            "offeredPerSec": offered,
            "late": offered.map(|_| t.late),
            "byStatusClass": t.by_class,
            "errors": t.errors.iter().map(|(k, v)| (serde_json::to_value(k).unwrap_or_default().as_str().unwrap_or("other").to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "latencyMs": { "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0) },
        });
        say!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    say!(
        "Sent {count} webhooks to {} in {:.2} s: {rate:.0} requests/s",
        p.url,
        elapsed.as_secs_f64()
    );
    if let Some(r) = offered {
        say!(
            "  offered {r:.0}/s; {} started late (all in flight), timed from when they were due",
            t.late
        );
    }
    for (class, n) in &t.by_class {
        say!("  {class}: {n}");
    }
    for (kind, n) in &t.errors {
        say!(
            "  error {}: {n}",
            serde_json::to_value(kind)?.as_str().unwrap_or("other")
        );
    }
    if let Some(first) = &t.first_error {
        say!("  first error: {first}");
    }
    say!(
        "Latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

/// The q-quantile (nearest rank) of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1e3
}

#[cfg(test)]
mod tests {
    use super::percentile_ms;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&v, 0.5), 50.0);
        assert_eq!(percentile_ms(&v, 0.99), 99.0);
        assert_eq!(percentile_ms(&v, 1.0), 100.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
