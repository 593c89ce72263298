//! The core store contract against a real PostgreSQL (a fresh schema per test).

use std::sync::Arc;

use hookline_core::Store;
use hookline_testkit::{Backend, FreshDb};

async fn open() -> Option<Arc<dyn Store>> {
    if !Backend::Postgres.available() {
        return None;
    }
    Some(FreshDb::on(Backend::Postgres).await.open().await)
}

hookline_core::store_contract!(open());
