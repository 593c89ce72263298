//! [`ActivityStore`]: each node's counts per minute, shared so that every
//! node's dashboard shows the whole cluster.

use async_trait::async_trait;

use super::StoreError;
use crate::activity::Minute;

#[async_trait]
pub trait ActivityStore: Send + Sync + 'static {
    /// Replaces what `node` counted of `kind` (`received`, `delivered`,
    /// `forwarded`) in each of `minutes`; its other minutes stay.
    async fn put_activity(
        &self,
        node: &str,
        kind: &str,
        minutes: &[Minute],
    ) -> Result<(), StoreError>;
    /// Every node's counts of `kind` from `since` (ms) on, summed per
    /// minute, oldest first, leaving out `except` (the asking node, which
    /// knows its own counts fresher); minutes nobody counted in are absent.
    async fn activity(
        &self,
        kind: &str,
        since: i64,
        except: Option<&str>,
    ) -> Result<Vec<Minute>, StoreError>;
}
