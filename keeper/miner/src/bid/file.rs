//! `bids.toml`, the bidder's configuration and bids in one file (every key in `examples/bids.toml`
//! and `docs/miners.md`). The bids:
//!
//! ```toml
//! [bids.BTC]
//! # price multiplier (of the hashprice) = { worker size in PH = number of workers }
//! "1.0" = { "0.1" = 3, "0.25" = 1 }
//! "0.95" = { "0.2" = 2 }
//! ```
//!
//! become the v2 bid commitment `2;b;BTC,0.95=0.2:2;BTC,1=0.1:3,0.25:1`, encoded and then decoded
//! again by the auction crate's codec (the one the keepers parse with), so a file the bidder accepts
//! commits a payload every keeper accepts. Every error names its line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use tao20_auction::commitment::{BidCommitment, BidLine, Commitment};
use tao20_core::Fp18;
use toml::Spanned;

use crate::config::{SubtensorConfig, WalletConfig};

/// A refused `bids.toml`: the line (1-based) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FileError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The line (1-based) of byte `offset` of `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

/// Subtensor access of the bidder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidSubtensor {
    /// The network.
    pub network: crate::config::Network,
    /// The endpoint; defaults to the network's public entry point.
    #[serde(default)]
    pub chain_endpoint: Option<String>,
    /// The auction's subnet (the TAO20 subnet).
    pub netuid: u16,
}

impl BidSubtensor {
    /// Network and endpoint.
    pub fn access(&self) -> SubtensorConfig {
        SubtensorConfig {
            network: self.network,
            chain_endpoint: self.chain_endpoint.clone(),
        }
    }
}

/// When to commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitConfig {
    /// Commit the same bids again once the on-chain commitment is this many blocks old (bids go
    /// stale at 150 minutes: 750 blocks of 12 s).
    #[serde(default = "default_refresh")]
    pub refresh_blocks: u64,
    /// Never two commitments closer than this many blocks (an edit storm waits).
    #[serde(default = "default_min_interval")]
    pub min_interval_blocks: u64,
}

fn default_refresh() -> u64 {
    600
}
fn default_min_interval() -> u64 {
    5
}

impl Default for CommitConfig {
    fn default() -> Self {
        Self {
            refresh_blocks: default_refresh(),
            min_interval_blocks: default_min_interval(),
        }
    }
}

/// The hook.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// The program and its arguments; it gets one JSON document on stdin per event. Empty: none.
    #[serde(default)]
    pub command: Vec<String>,
    /// Seconds a hook may run before it is killed (with its process group).
    #[serde(default = "default_hook_timeout")]
    pub timeout_secs: u64,
}

fn default_hook_timeout() -> u64 {
    10
}

/// The auction's parameters, as the keepers use them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuctionConfig {
    /// gamma-MSI coverage.
    #[serde(default = "default_gamma")]
    pub gamma: String,
    /// Highest price multiplier a winner may bid.
    #[serde(default = "default_max_price")]
    pub max_price: String,
    /// Window start from which v1 bids are ignored.
    #[serde(default)]
    pub v2_only_from_block: Option<u64>,
    /// Seconds per block for staleness (12).
    #[serde(default = "default_block_time")]
    pub block_time_secs: u64,
    /// A bid is stale at this age (9000 s = 150 minutes).
    #[serde(default = "default_max_age")]
    pub max_age_secs: u64,
    /// The mechanism of the auction.
    #[serde(default = "default_mechanism")]
    pub mechanism: u8,
}

fn default_gamma() -> String {
    "0.67".into()
}
fn default_max_price() -> String {
    "1.05".into()
}
fn default_block_time() -> u64 {
    12
}
fn default_max_age() -> u64 {
    150 * 60
}
fn default_mechanism() -> u8 {
    1
}

impl Default for AuctionConfig {
    fn default() -> Self {
        Self {
            gamma: default_gamma(),
            max_price: default_max_price(),
            v2_only_from_block: None,
            block_time_secs: default_block_time(),
            max_age_secs: default_max_age(),
            mechanism: default_mechanism(),
        }
    }
}

/// The loop and logging.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidEngine {
    /// Milliseconds between polls of the chain and the file.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    /// Log filter.
    #[serde(default = "default_level")]
    pub log_level: String,
}

fn default_poll() -> u64 {
    1_000
}
fn default_level() -> String {
    "info".into()
}

impl Default for BidEngine {
    fn default() -> Self {
        Self {
            poll_ms: default_poll(),
            log_level: default_level(),
        }
    }
}

type RawGroups = BTreeMap<Spanned<String>, Spanned<BTreeMap<Spanned<String>, Spanned<i64>>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBids {
    #[serde(rename = "BTC", default)]
    btc: RawGroups,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    subtensor: BidSubtensor,
    #[serde(default)]
    wallet: WalletConfig,
    bids: RawBids,
    #[serde(default)]
    commit: CommitConfig,
    #[serde(default)]
    hooks: HookConfig,
    #[serde(default)]
    auction: AuctionConfig,
    #[serde(default)]
    engine: BidEngine,
}

/// A parsed `bids.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidFile {
    /// Subtensor access and the subnet.
    pub subtensor: BidSubtensor,
    /// The hotkey that commits.
    pub wallet: WalletConfig,
    /// The bids.
    pub bids: BidCommitment,
    /// Their canonical payload.
    pub payload: Vec<u8>,
    /// When to commit.
    pub commit: CommitConfig,
    /// The hook.
    pub hooks: HookConfig,
    /// The auction's parameters.
    pub auction: AuctionConfig,
    /// The loop.
    pub engine: BidEngine,
}

impl BidFile {
    /// The bid lines, by (price, hashrate).
    pub fn lines(&self) -> Vec<BidLine> {
        self.bids.lines()
    }
}

fn fail(text: &str, offset: usize, message: impl Into<String>) -> FileError {
    FileError {
        line: line_of(text, offset),
        message: message.into(),
    }
}

fn decimal(text: &str, s: &Spanned<String>, what: &str) -> Result<Fp18, FileError> {
    Fp18::parse(s.get_ref()).map_err(|e| {
        fail(
            text,
            s.span().start,
            format!("{what} {:?}: {e}", s.get_ref()),
        )
    })
}

/// Parses and validates `bids.toml` text; relative paths are resolved against `base`.
pub fn parse(text: &str, base: &std::path::Path) -> Result<BidFile, FileError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| FileError {
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().to_string(),
    })?;
    let bids_at = text.find("[bids").unwrap_or(0);
    let mut groups: BTreeMap<Fp18, BTreeMap<Fp18, u32>> = BTreeMap::new();
    let mut total: u64 = 0;
    for (price_text, sizes) in &raw.bids.btc {
        let price = decimal(text, price_text, "price multiplier")?;
        if price.is_zero() {
            return Err(fail(
                text,
                price_text.span().start,
                "a price multiplier must be above 0",
            ));
        }
        if groups.contains_key(&price) {
            return Err(fail(
                text,
                price_text.span().start,
                format!("price {price} is given twice"),
            ));
        }
        let mut group = BTreeMap::new();
        for (size_text, count) in sizes.get_ref() {
            let size = decimal(text, size_text, "worker size")?;
            let n = *count.get_ref();
            let c = u32::try_from(n).ok().filter(|c| *c > 0).ok_or_else(|| {
                fail(
                    text,
                    count.span().start,
                    format!("worker count {n} is not a positive integer"),
                )
            })?;
            if group.insert(size, c).is_some() {
                return Err(fail(
                    text,
                    size_text.span().start,
                    format!("worker size {size} is given twice at price {price}"),
                ));
            }
            // The same codec rule as the keepers' (size range, positive counts).
            let one = BidCommitment::V2(BTreeMap::from([(price, BTreeMap::from([(size, c)]))]));
            if let Err(e) = Commitment::Bid(one).encode() {
                return Err(fail(text, size_text.span().start, e.to_string()));
            }
            total += u64::from(c);
        }
        if group.is_empty() {
            return Err(fail(
                text,
                sizes.span().start,
                format!("price {price} has no workers"),
            ));
        }
        groups.insert(price, group);
    }
    let bids = BidCommitment::V2(groups);
    let payload = Commitment::Bid(bids.clone()).encode().map_err(|e| {
        fail(
            text,
            bids_at,
            format!("the bids ({total} workers) do not make a valid commitment: {e}"),
        )
    })?;
    // What the keepers will read: the same bids back.
    match Commitment::decode(&payload) {
        Ok(Commitment::Bid(back)) if back == bids => {}
        other => {
            return Err(fail(
                text,
                bids_at,
                format!("the encoded bids do not decode to themselves: {other:?}"),
            ))
        }
    }
    if raw.commit.refresh_blocks == 0 {
        return Err(fail(text, 1, "commit.refresh_blocks must be at least 1"));
    }
    let mut wallet = raw.wallet;
    wallet.suri_file = wallet.suri_file.map(|p| resolve(base, p));
    wallet.path = wallet.path.map(|p| resolve(base, p));
    let mut hooks = raw.hooks;
    if let Some(first) = hooks.command.first_mut() {
        let p = PathBuf::from(&*first);
        if p.components().count() > 1 && p.is_relative() {
            *first = base.join(p).display().to_string();
        }
    }
    Fp18::parse(&raw.auction.gamma).map_err(|e| fail(text, 1, format!("auction.gamma: {e}")))?;
    Fp18::parse(&raw.auction.max_price)
        .map_err(|e| fail(text, 1, format!("auction.max_price: {e}")))?;
    Ok(BidFile {
        subtensor: raw.subtensor,
        wallet,
        bids,
        payload,
        commit: raw.commit,
        hooks,
        auction: raw.auction,
        engine: raw.engine,
    })
}

fn resolve(base: &std::path::Path, p: PathBuf) -> PathBuf {
    let p = crate::config::expand(&p);
    if p.is_relative() {
        base.join(p)
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"[subtensor]
network = "local"
chain_endpoint = "ws://127.0.0.1:1"
netuid = 1

[wallet]
suri_file = "hotkey.suri"

"#;

    fn parse_bids(bids: &str) -> Result<BidFile, FileError> {
        parse(&format!("{HEAD}{bids}"), std::path::Path::new("/base"))
    }

    #[test]
    fn bids_become_the_canonical_v2_commitment() {
        let f = parse_bids(
            "[bids.BTC]\n\"1.0\" = { \"0.1\" = 3, \"0.25\" = 1 }\n\"0.95\" = { \"0.2\" = 2 }\n",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(f.payload).unwrap(),
            "2;b;BTC,0.95=0.2:2;BTC,1=0.1:3,0.25:1"
        );
        assert_eq!(
            f.wallet.suri_file.unwrap(),
            PathBuf::from("/base/hotkey.suri")
        );
        assert_eq!(f.commit.refresh_blocks, 600);
        let empty = parse_bids("[bids.BTC]\n").unwrap();
        assert_eq!(empty.payload, b"2;b;");
    }

    #[test]
    fn bad_bids_name_their_line() {
        let cases = [
            ("[bids.BTC]\n\"1\" = { \"0.5\" = 1 }\n", 10, "outside"),
            (
                "[bids.BTC]\n\"1\" = { \"0.1\" = 1 }\n\"x\" = { \"0.1\" = 1 }\n",
                11,
                "price multiplier",
            ),
            ("[bids.BTC]\n\"1\" = { \"0.1\" = 0 }\n", 10, "positive"),
            (
                "[bids.BTC]\n\"1\" = { \"0.1\" = 1 }\n\"1.0\" = { \"0.2\" = 1 }\n",
                11,
                "twice",
            ),
            ("[bids.BTC]\n\"1\" = { \"0.1\" = 1001 }\n", 10, "1000"),
            // The bid rule: worker sizes on the 0.01 PH grain.
            (
                "[bids.BTC]\n\"1\" = { \"0.1\" = 1, \"0.125\" = 1 }\n",
                10,
                "hashrate 0.125 breaks the bid rule: a worker's hashrate is a whole multiple of \
                 0.01 PH",
            ),
            ("[bids.ETH]\n\"1\" = { \"0.1\" = 1 }\n", 9, "ETH"),
            ("[bids.BTC]\n\"1\" = { \"0.1\" = 1 \n", 10, ""),
        ];
        for (bids, line, needle) in cases {
            let e = parse_bids(bids).unwrap_err();
            assert_eq!(e.line, line, "{bids:?}: {e}");
            assert!(e.message.contains(needle), "{bids:?}: {e}");
        }
    }
}
