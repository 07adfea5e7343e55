//! The client's RPC transport: subxt's reconnecting WebSocket client, with every request and
//! subscription bounded by a timeout and counted.
//!
//! A node that goes away is reconnected to in the background (backoff from 50 ms up to 2 s, for
//! ever); a request that meets the outage fails after the timeout with an error the caller waits
//! out, instead of hanging the block loop, and the first one after the node returns goes through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use subxt::rpcs::client::reconnecting_rpc_client::{ExponentialBackoff, RpcClient as Reconnecting};
use subxt::rpcs::client::{RawRpcFuture, RawRpcSubscription, RawValue, RpcClientT};

use crate::{Error, Result};

/// How long a request may take unless the caller says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A reconnecting client whose requests time out.
pub(crate) struct Bounded {
    inner: Reconnecting,
    timeout: Duration,
    requests: Arc<AtomicU64>,
}

impl Bounded {
    /// Connects to `endpoint` (the first connection within `timeout` too).
    pub async fn connect(endpoint: &str, timeout: Duration) -> Result<Self> {
        let backoff = ExponentialBackoff::from_millis(50).max_delay(Duration::from_secs(2));
        let connecting = Reconnecting::builder()
            .retry_policy(backoff)
            .request_timeout(timeout)
            .connection_timeout(timeout)
            .build(endpoint);
        let inner = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| Error::Connection {
                endpoint: endpoint.into(),
                reason: format!("no connection in {} ms", timeout.as_millis()),
            })?
            .map_err(|e| Error::Connection {
                endpoint: endpoint.into(),
                reason: e.to_string(),
            })?;
        Ok(Bounded {
            inner,
            timeout,
            requests: Arc::default(),
        })
    }

    /// The counter of requests sent (subscriptions included).
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.requests.clone()
    }

    fn timed_out(&self, method: &str) -> subxt::rpcs::Error {
        subxt::rpcs::Error::Client(
            format!("{method}: no answer in {} ms", self.timeout.as_millis()).into(),
        )
    }
}

impl RpcClientT for Bounded {
    fn request_raw<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> RawRpcFuture<'a, Box<RawValue>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            tokio::time::timeout(self.timeout, self.inner.request_raw(method, params))
                .await
                .unwrap_or_else(|_| Err(self.timed_out(method)))
        })
    }

    fn subscribe_raw<'a>(
        &'a self,
        sub: &'a str,
        params: Option<Box<RawValue>>,
        unsub: &'a str,
    ) -> RawRpcFuture<'a, RawRpcSubscription> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            tokio::time::timeout(self.timeout, self.inner.subscribe_raw(sub, params, unsub))
                .await
                .unwrap_or_else(|_| Err(self.timed_out(sub)))
        })
    }
}
