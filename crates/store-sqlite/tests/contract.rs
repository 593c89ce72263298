//! The core store contract against a real SQLite file.

use std::sync::Arc;

use hookline_core::Store;
use hookline_store_sqlite::SqliteStore;

async fn open() -> Option<Arc<dyn Store>> {
    // Leak the directory: the test process ends soon and cleans nothing up mid-run.
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Some(Arc::new(
        SqliteStore::open(&dir.join("hookline.db")).expect("open store"),
    ))
}

hookline_core::store_contract!(open());
