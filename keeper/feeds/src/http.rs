//! The one way this crate reads an HTTP source: a GET with a deadline over the whole exchange
//! (connect, headers and body), a bounded body, no redirects (a redirect could carry an API key
//! header to another host), and headers whose secret values come from the environment.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Url};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where a request header's value comes from.
///
/// In TOML: `headers = { "x-api-key" = { env = "COINGECKO_API_KEY" }, accept = { value =
/// "application/json" } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderSource {
    /// The value of the named environment variable, read when the client is built. Such values
    /// are marked sensitive and never appear in errors, logs or `Debug` output.
    Env(String),
    /// A literal value (not for secrets: it sits in the config file).
    Value(String),
}

/// A lookup of environment variables: [`process_env`] in production, a map in tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// An HTTP client for the feeds. With reqwest built on `rustls-no-provider`, building a client
/// panics unless a crypto provider is installed, so this installs ring's first.
pub fn client() -> Result<Client> {
    // Err means a provider is already installed, which is all this needs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tao20-keeper/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Client(e.to_string()))
}

/// Parses an http or https URL; `what` names the config entry for the error.
pub(crate) fn parse_url(url: &str, what: &str) -> Result<Url> {
    let parsed = Url::parse(url).map_err(|e| Error::config(what, format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(what, "not an http or https URL"));
    }
    Ok(parsed)
}

/// Builds the header map of a source, reading `Env` values from `env`.
pub(crate) fn headers(
    configured: &BTreeMap<String, HeaderSource>,
    what: &str,
    env: EnvLookup<'_>,
) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, source) in configured {
        insert_header(
            &mut map,
            name,
            source,
            &format!("{what}.headers.{name}"),
            env,
        )?;
    }
    Ok(map)
}

/// Adds one header to `map`.
pub(crate) fn insert_header(
    map: &mut HeaderMap,
    name: &str,
    source: &HeaderSource,
    what: &str,
    env: EnvLookup<'_>,
) -> Result<()> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::config(what, "not a valid header name"))?;
    let value = match source {
        HeaderSource::Env(var) => {
            let missing = || Error::MissingEnv {
                var: var.clone(),
                what: what.to_owned(),
            };
            let mut value = env(var)
                .and_then(|v| HeaderValue::from_str(&v).ok())
                .ok_or_else(missing)?;
            value.set_sensitive(true);
            value
        }
        HeaderSource::Value(v) => {
            HeaderValue::from_str(v).map_err(|_| Error::config(what, "not a valid header value"))?
        }
    };
    map.insert(header, value);
    Ok(())
}

/// A duration from a config entry in milliseconds, which must be positive.
pub(crate) fn millis(ms: u64, what: &str) -> Result<Duration> {
    if ms == 0 {
        return Err(Error::config(what, "must be positive"));
    }
    Ok(Duration::from_millis(ms))
}

/// GETs `url` and returns its body: 2xx only, within `timeout` for the whole exchange, at most
/// `limit` bytes (checked against `Content-Length` first, then while reading).
pub(crate) async fn get(
    client: &Client,
    url: Url,
    headers: &HeaderMap,
    timeout: Duration,
    limit: usize,
) -> Result<Vec<u8>> {
    let exchange = async {
        let response = client
            .get(url)
            .headers(headers.clone())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Status {
                status: status.as_u16(),
            });
        }
        read_bounded(response, limit).await
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(Error::Timeout {
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            })
        })
}

async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    let too_large = Error::TooLarge { limit };
    if response
        .content_length()
        .is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(e: reqwest::Error) -> Error {
    let e = e.without_url();
    let mut reason = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        reason.push_str(": ");
        reason.push_str(&c.to_string());
        cause = c.source();
    }
    Error::Transport { reason }
}
