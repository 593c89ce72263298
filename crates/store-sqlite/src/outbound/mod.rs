//! The sending side's queries: plain functions on a connection; `store` runs
//! them on the writer or a reader. One file per concept:
//! - `apps`, `endpoints`, `event_types`: CRUD.
//! - `messages`: publish (the message and its deliveries in one go), read, list.
//! - `deliveries`: claim under a lease, record attempts, requeue, postpone, count.
//! - `retention`: one bounded pass over old payloads, inbox events, dedup keys.
//!
//! The helpers below (JSON columns, ids, pages) are shared by all of them.

mod apps;
mod deliveries;
mod endpoints;
mod event_types;
mod messages;
mod retention;

pub(crate) use apps::*;
pub(crate) use deliveries::*;
pub(crate) use endpoints::*;
pub(crate) use event_types::*;
pub(crate) use messages::*;
pub(crate) use retention::*;

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::outbound::EndpointSecret;
use hookline_core::{
    App, AppId, Attempt, AttemptId, Claimed, Delivery, DeliveryStatus, Endpoint, EndpointId,
    EndpointPolicy, EndpointStats, EventId, EventType, Message, MessageId, Next, Page, PageRequest,
    QueueDepth, RetryPolicy, StoreError, Trigger,
};
use hookline_signature::Secret;
use rusqlite::types::Value as V;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use crate::backend;
use crate::rows::{corrupt, ms};

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(json_err)
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn id<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    r.get::<_, String>(i)?.parse().map_err(|e| corrupt("id", e))
}

fn page<T>(rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    Page::from_rows(rows, req.limit, key)
}
