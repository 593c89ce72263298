//! The store contract: every backend runs these against a real database.
//!
//! A backend's tests call [`store_contract!`] with an async expression that
//! opens a fresh, empty store (`None` to skip where the backend is missing);
//! it expands to one `#[tokio::test]` per check. The checks are split by the
//! role they hold to, one file each (`activity`, `source`, `inbox`, `setting`, `catalog`,
//! `outbox`, `queue`, `route`, `search`, `maintenance`), one behaviour per check, named as the
//! rule it proves; this file holds the fixtures they share.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

mod activity;
mod catalog;
mod inbox;
mod maintenance;
mod outbox;
mod queue;
mod route;
mod search;
mod setting;
mod source;

pub use activity::*;
pub use catalog::*;
pub use inbox::*;
pub use maintenance::*;
pub use outbox::*;
pub use queue::*;
pub use route::*;
pub use search::*;
pub use setting::*;
pub use source::*;

use std::time::Duration;

use hookline_signature::Secret;

use crate::clock::now_ms;
use crate::id::{AppId, AttemptId, EndpointId, EventId, MessageId};
use crate::inbound::{InboundEvent, Verdict};
use crate::outbound::{
    App, Attempt, Delivery, DeliveryStatus, Endpoint, EndpointSecret, Message, Trigger,
};
use crate::store::Store;

pub(crate) const WINDOW: Duration = Duration::from_secs(72 * 3600);

/// An event for `source`, received at `at` ms.
pub fn event(
    source: &str,
    at: i64,
    body: &[u8],
    verdict: Verdict,
    key: Option<&str>,
) -> InboundEvent {
    InboundEvent {
        id: EventId::at(at),
        source: source.into(),
        event_type: Some("user.created".into()),
        method: "POST".into(),
        path: format!("/in/{source}"),
        query: Some("a=1&b=%20".into()),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-dup".into(), "1".into()),
            ("x-dup".into(), "2".into()),
        ],
        body: body.to_vec(),
        remote_addr: Some("127.0.0.1:5555".into()),
        received_at: at,
        verdict,
        verdict_reason: (verdict == Verdict::Rejected).then(|| "no_matching_signature".into()),
        dedup_key: key.map(Into::into),
    }
}

// --- sending -----------------------------------------------------------------

pub fn app(name: &str, uid: Option<&str>) -> App {
    let now = now_ms();
    App {
        id: AppId::at(now),
        uid: uid.map(Into::into),
        name: name.into(),
        metadata: serde_json::Map::new(),
        throttle_rate: None,
        created_at: now,
        updated_at: now,
    }
}

pub fn endpoint(
    app: &AppId,
    url: &str,
    types: Option<&[&str]>,
    channels: Option<&[&str]>,
) -> Endpoint {
    let now = now_ms();
    let list = |v: Option<&[&str]>| v.map(|v| v.iter().map(|s| s.to_string()).collect());
    Endpoint {
        id: EndpointId::new(),
        app_id: app.clone(),
        uid: None,
        url: url.into(),
        description: String::new(),
        secrets: vec![EndpointSecret {
            key: Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            expires_at: None,
        }],
        event_types: list(types),
        channels: list(channels),
        headers: Default::default(),
        disabled: false,
        throttle_rate: None,
        policy: Default::default(),
        filter: None,
        metadata: serde_json::Map::new(),
        created_at: now,
        updated_at: now,
    }
}

pub fn message(
    app: &AppId,
    event_type: &str,
    event_id: Option<&str>,
    channels: Option<&[&str]>,
) -> Message {
    let now = now_ms();
    Message {
        id: MessageId::at(now),
        app_id: app.clone(),
        event_type: event_type.into(),
        event_id: event_id.map(Into::into),
        payload: r#"{"z":1,"a":"\u00e9"}"#.into(),
        channels: channels.map(|c| c.iter().map(|s| s.to_string()).collect()),
        created_at: now,
    }
}

/// A try of `m` at `e`, now: a 200 when `ok`, else a 500.
pub fn attempt(m: &Message, e: &EndpointId, ok: bool, trigger: Trigger) -> Attempt {
    let t = now_ms();
    Attempt {
        id: AttemptId::at(t),
        message_id: m.id.clone(),
        endpoint_id: e.clone(),
        app_id: m.app_id.clone(),
        url: "http://s".into(),
        status: if ok {
            DeliveryStatus::Success
        } else {
            DeliveryStatus::Failed
        },
        response_status_code: if ok { 200 } else { 500 },
        response: "r".into(),
        duration_ms: 3,
        trigger,
        created_at: t,
    }
}

/// `m`'s delivery to `e` as stored now (its `version` is what a claim would
/// record an attempt with).
pub async fn delivery(store: &dyn Store, m: &Message, e: &EndpointId) -> Delivery {
    store
        .list_deliveries(&m.app_id, &m.id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| &d.endpoint_id == e)
        .expect("a delivery to this endpoint")
}

/// Expands to one `#[tokio::test]` per contract check; `$open` is an async
/// expression giving a fresh `Arc<dyn Store>`.
#[macro_export]
macro_rules! store_contract {
    ($open:expr) => {
        $crate::store_contract!(@each $open;
            source_crud, source_paths_and_options_round_trip, the_sources_fingerprint_follows_every_change, events_are_byte_exact, duplicates_within_the_window, rejected_events_are_capped, listing_filters_and_pages, events_after_a_cursor_come_oldest_first, concurrent_inserts_all_commit, settings, apps_are_found_by_id_or_uid_and_paged, endpoints_are_scoped_by_app_and_updated_whole, endpoint_policy_round_trips, event_types, publish_fans_out_by_filters, publish_skips_endpoints_whose_filter_does_not_match, recover_requeues_only_failed_deliveries_since_a_time, resend_requeues_one_delivery_or_makes_one_to_a_new_endpoint, a_resend_during_a_try_is_not_overwritten_by_its_outcome, publish_to_makes_one_delivery_to_that_endpoint_only, stats_and_failing_endpoints_follow_the_attempts, a_resend_marks_the_next_attempt_manual_until_it_is_recorded, a_claim_leases_the_delivery_until_the_lease_runs_out, a_stale_attempt_is_recorded_but_moves_nothing, postpone_moves_only_its_own_claim_and_counts_no_attempt, a_success_finishes_the_delivery_and_lists_every_attempt, a_failure_streak_disables_the_endpoint_once, disabling_on_410_keeps_a_rotation_made_meanwhile, concurrent_claims_are_exclusive, retention_drops_old_payloads_and_keeps_statuses, retention_drops_old_events_and_frees_expired_dedup_keys, routes_are_found_by_name_or_id_and_listed_by_source, a_stored_event_gets_one_pending_forward_per_route, a_claimed_forward_carries_its_route_and_event_until_recorded, a_paused_route_holds_its_forwards_until_resumed, an_ordered_route_gives_out_only_its_head, resend_and_recover_requeue_forwards, a_handed_off_forward_is_stored_in_flight_until_its_lease_ends, a_handed_off_delivery_is_stored_in_flight_until_its_lease_ends, text_search_matches_body_and_header_values_case_insensitively, text_search_spans_sources_and_combines_with_filters, text_search_takes_wildcards_and_short_queries_literally, activity_sums_every_nodes_minutes_and_a_put_replaces_its_own, retention_forgets_activity_older_than_two_hours);
    };
    (@each $open:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                // `None`: this backend is not available here (the opener said why).
                let store: Option<std::sync::Arc<dyn $crate::Store>> = $open.await;
                if let Some(store) = store {
                    $crate::testkit::$name(store).await;
                }
            }
        )*
    };
}
