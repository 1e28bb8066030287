//! The database as the [`HostLedger`] of the instances that share it.

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::fetch::shared::HostLedger;
use crate::store::StoreHandle;

impl HostLedger for StoreHandle {
    fn try_take(&self, host: String, slot: u32) -> BoxFuture<'static, Result<bool, String>> {
        let store = self.clone();
        let slot = i32::try_from(slot).unwrap_or(i32::MAX);
        async move {
            store
                .call(move |s| s.try_lock_host(&host, slot))
                .await
                .map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn give_back(&self, host: String, slot: u32) {
        let store = self.clone();
        let slot = i32::try_from(slot).unwrap_or(i32::MAX);
        let give_back = async move {
            let shown = host.clone();
            if let Err(e) = store.call(move |s| s.unlock_host(&host, slot)).await {
                tracing::warn!(
                    host = shown,
                    "could not give the host's request slot back (it is freed when \
                     this process's database connection ends): {e}"
                );
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(give_back);
            }
            Err(_) => {
                tracing::debug!("no runtime to give a host's slot back: the connection frees it")
            }
        }
    }

    fn reserve_start(
        &self,
        host: String,
        spacing: Duration,
    ) -> BoxFuture<'static, Result<Duration, String>> {
        let store = self.clone();
        async move {
            store
                .call(move |s| s.reserve_host_start(&host, spacing))
                .await
                .map_err(|e| e.to_string())
        }
        .boxed()
    }
}
