//! The commitment codec: the `v;t;d` envelope, price commitments with the ban bitmap, and bid
//! commitments v1 and v2.
//!
//! # Wire format
//! A payload is UTF-8 text `v;t;d`, optionally followed by the byte `0xFF` and a binary suffix;
//! the whole payload (text, separator and suffix) is at most [`MAX_PAYLOAD_BYTES`].
//! - Price, `1;p;K=V;K=V`: FP18 decimals per key. Keys are `[A-Za-z0-9_]+`; the known ones are
//!   `ALPHA_TAO`, `HASHP_USDC`, `TAO_USDC` and `cap`, unknown keys are kept. Any key order is
//!   accepted, a repeated key is rejected. A suffix of exactly 32 bytes is the ban bitmap over uids
//!   0..255 (bit `uid % 8` of byte `uid / 8`); a suffix of any other length is ignored.
//! - Bid v1, `1;b;PRICE=HR,HR;PRICE=HR`: worker sizes at most [`MAX_V1_WORKER_HASHRATE`] (a
//!   limit the original does not have: the bid rule), no count limit beyond the payload's;
//!   `1;b;` is an empty list.
//! - Bid v2, `2;b;BTC,PRICE=HR:COUNT,HR:COUNT;...`: only `BTC`, worker size in
//!   [[`MIN_WORKER_HASHRATE`], [`MAX_WORKER_HASHRATE`]], counts positive, total count at most
//!   [`MAX_WORKERS`]; one malformed group rejects the whole commitment. A bid's suffix is ignored.
//! - The bid rule ([`BidRule`], not in the original): every worker size of v1 and v2 is a whole
//!   multiple of [`HASHRATE_GRAIN`] (0.01 PH). A size that breaks it rejects the whole
//!   commitment with [`Error::BidRule`], which names the group, the byte, the value and the
//!   rule; the window goes on with the other miners' bids.
//!
//! Decimals follow FP18's grammar (`1.5`, `2`, `.5`; at most 18 fractional digits; prices keep
//! all 18). Stricter than the original, nothing is trimmed: a blank anywhere is an error, and so
//! is an empty `;` entry.
//!
//! # Canonical form
//! [`Commitment::encode`] writes the canonical form, and `encode(decode(x))` is the canonical form
//! of `x`: shortest decimals; price keys in byte order; bid groups by ascending price with equal
//! prices merged; v1 hashrates within a group in byte order of their text (duplicates kept); v2
//! hashrates ascending with equal sizes merged (within the v2 size range, text order and numeric
//! order agree).

use std::collections::BTreeMap;

use tao20_core::Fp18;

use crate::{Error, Result};

/// The largest payload the Commitments pallet takes, binary suffix included.
pub const MAX_PAYLOAD_BYTES: usize = 128;
/// The byte that separates the text from the binary suffix (never valid in UTF-8).
pub const BINARY_SEPARATOR: u8 = 0xFF;
/// Length of the ban bitmap suffix.
pub const BAN_BITMAP_BYTES: usize = 32;
/// Smallest v2 worker, 0.05 PH.
pub const MIN_WORKER_HASHRATE: Fp18 = Fp18::from_raw(50_000_000_000_000_000);
/// Largest v2 worker, 0.45 PH.
pub const MAX_WORKER_HASHRATE: Fp18 = Fp18::from_raw(450_000_000_000_000_000);
/// Largest total worker count of a v2 bid commitment.
pub const MAX_WORKERS: u32 = 1000;
/// Largest v1 worker, 0.45 PH like v2's: the bid rule. The original protocol sets no v1 limit.
pub const MAX_V1_WORKER_HASHRATE: Fp18 = MAX_WORKER_HASHRATE;
/// The grain of every worker's hashrate, 0.01 PH (10 TH/s): the bid rule. The original allows
/// 18 decimals.
pub const HASHRATE_GRAIN: Fp18 = Fp18::from_raw(10_000_000_000_000_000);
/// The only algorithm v2 bids may name.
pub const ALGO_BTC: &str = "BTC";

/// The bid rule a worker's hashrate breaks. The rule (`docs/protocol-deviations.md`) is the
/// protocol's, not the original's: with every hashrate a multiple of [`HASHRATE_GRAIN`] and at
/// most 0.45 PH, no item is worth more than 45 grains, which bounds winner selection's work
/// ([`crate::proximity`]) whatever the bids. Prices keep their 18 decimals: the work does not
/// depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BidRule {
    /// A worker's hashrate is a whole multiple of [`HASHRATE_GRAIN`]: at most 2 decimals.
    HashrateGrain,
    /// A v1 worker is at most [`MAX_V1_WORKER_HASHRATE`].
    V1WorkerSize,
}

impl std::fmt::Display for BidRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HashrateGrain => write!(
                f,
                "a worker's hashrate is a whole multiple of {HASHRATE_GRAIN} PH (at most 2 decimals)"
            ),
            Self::V1WorkerSize => {
                write!(f, "a v1 worker is at most {MAX_V1_WORKER_HASHRATE} PH")
            }
        }
    }
}

/// Checks one worker size of a bid of `version` against the bid rule.
pub fn check_bid_rule(hashrate: Fp18, version: u8) -> std::result::Result<(), BidRule> {
    if !hashrate.raw().is_multiple_of(HASHRATE_GRAIN.raw()) {
        return Err(BidRule::HashrateGrain);
    }
    if version == 1 && hashrate > MAX_V1_WORKER_HASHRATE {
        return Err(BidRule::V1WorkerSize);
    }
    Ok(())
}

/// A decoded commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commitment {
    /// A validator's price commitment (`t = p`).
    Price(PriceCommitment),
    /// A miner's bid commitment (`t = b`).
    Bid(BidCommitment),
}

/// A price commitment: prices per key and, optionally, the ban bitmap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PriceCommitment {
    /// FP18 price per key, in key byte order.
    pub prices: BTreeMap<String, Fp18>,
    /// The ban bitmap, present only when the suffix was exactly 32 bytes.
    pub bans: Option<BanBitmap>,
}

/// A 256-bit ban bitmap over uids 0..255: bit `uid % 8` of byte `uid / 8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BanBitmap(pub [u8; BAN_BITMAP_BYTES]);

impl BanBitmap {
    /// The bitmap with exactly the given uids set.
    pub fn from_uids(uids: impl IntoIterator<Item = u8>) -> Self {
        let mut bytes = [0u8; BAN_BITMAP_BYTES];
        for uid in uids {
            if let Some(b) = bytes.get_mut(usize::from(uid / 8)) {
                *b |= 1 << (uid % 8);
            }
        }
        Self(bytes)
    }

    /// Whether `uid` is set.
    pub fn is_banned(&self, uid: u8) -> bool {
        self.0
            .get(usize::from(uid / 8))
            .is_some_and(|b| (b >> (uid % 8)) & 1 == 1)
    }

    /// The set uids, ascending.
    pub fn uids(&self) -> Vec<u8> {
        (0..=u8::MAX).filter(|&u| self.is_banned(u)).collect()
    }
}

/// A bid commitment, v1 or v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BidCommitment {
    /// v1: price -> worker hashrates (each one worker), hashrates in text byte order.
    V1(BTreeMap<Fp18, Vec<Fp18>>),
    /// v2 (`BTC` only): price -> worker hashrate -> count.
    V2(BTreeMap<Fp18, BTreeMap<Fp18, u32>>),
}

/// One bid line: `count` workers of `hashrate` PH each, at `price` (a hashprice multiplier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BidLine {
    /// PH per worker.
    pub hashrate: Fp18,
    /// Multiplier on the hashprice.
    pub price: Fp18,
    /// Number of workers.
    pub count: u32,
}

impl BidCommitment {
    /// The commitment's version (1 or 2).
    pub fn version(&self) -> u8 {
        match self {
            Self::V1(_) => 1,
            Self::V2(_) => 2,
        }
    }

    /// The bid lines, v1 duplicates merged into counts, ordered by (price, hashrate).
    pub fn lines(&self) -> Vec<BidLine> {
        let mut merged: BTreeMap<(Fp18, Fp18), u32> = BTreeMap::new();
        match self {
            Self::V1(groups) => {
                for (&price, hashrates) in groups {
                    for &hashrate in hashrates {
                        let c = merged.entry((price, hashrate)).or_insert(0);
                        *c = c.saturating_add(1);
                    }
                }
            }
            Self::V2(groups) => {
                for (&price, sizes) in groups {
                    for (&hashrate, &count) in sizes {
                        merged.insert((price, hashrate), count);
                    }
                }
            }
        }
        merged
            .into_iter()
            .map(|((price, hashrate), count)| BidLine {
                hashrate,
                price,
                count,
            })
            .collect()
    }
}

/// Which bid commitments a window accepts, and when they are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidPolicy {
    /// From this block on (window start), v1 bids are ignored; `None` keeps accepting them.
    pub v2_only_from_block: Option<u64>,
    /// Seconds per block (12 on subtensor).
    pub block_time_secs: u64,
    /// A bid is stale when `(window_start - commit_block) x block_time >= max_age_secs`.
    pub max_age_secs: u64,
}

impl Default for BidPolicy {
    fn default() -> Self {
        Self {
            v2_only_from_block: None,
            block_time_secs: 12,
            max_age_secs: 150 * 60,
        }
    }
}

impl BidPolicy {
    /// Whether a commitment made at `commit_block` is stale for the window starting at
    /// `window_start`. A commitment from after the window start is not stale.
    pub fn is_stale(&self, window_start: u64, commit_block: u64) -> bool {
        let age_blocks = u128::from(window_start.saturating_sub(commit_block));
        age_blocks * u128::from(self.block_time_secs) >= u128::from(self.max_age_secs)
    }

    /// Whether `bid`, committed at `commit_block`, counts in the window starting at
    /// `window_start`: not stale, and not v1 once v1 is switched off.
    pub fn accepts(&self, bid: &BidCommitment, window_start: u64, commit_block: u64) -> bool {
        let v1_off = self
            .v2_only_from_block
            .is_some_and(|switch| window_start >= switch);
        !(self.is_stale(window_start, commit_block) || (v1_off && bid.version() == 1))
    }
}

fn err(offset: usize, reason: impl Into<String>) -> Error {
    Error::Commitment {
        offset,
        reason: reason.into(),
    }
}

fn group_err(group: usize, offset: usize, reason: impl Into<String>) -> Error {
    Error::BidGroup {
        group,
        offset,
        reason: reason.into(),
    }
}

/// Splits `text` (which starts at byte `base` of the payload) on `sep`, with each piece's offset.
fn split_with_offsets(text: &str, base: usize, sep: char) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = base;
    text.split(sep).map(move |piece| {
        let at = offset;
        offset += piece.len() + sep.len_utf8();
        (at, piece)
    })
}

/// Parses an FP18 decimal at payload offset `at`, mapping its error to that offset.
fn decimal(text: &str, at: usize, what: &str) -> Result<Fp18> {
    Fp18::parse(text).map_err(|e| match e {
        tao20_core::Error::Parse { offset, reason, .. } => {
            err(at + offset, format!("invalid {what} {text:?}: {reason}"))
        }
        other => err(at, format!("invalid {what} {text:?}: {other}")),
    })
}

impl Commitment {
    /// Decodes a whole payload (text and optional binary suffix).
    pub fn decode(payload: &[u8]) -> Result<Self> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(err(
                MAX_PAYLOAD_BYTES,
                format!(
                    "payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
                    payload.len()
                ),
            ));
        }
        let (text, suffix) = match payload.iter().position(|&b| b == BINARY_SEPARATOR) {
            Some(i) => (&payload[..i], payload.get(i + 1..)),
            None => (payload, None),
        };
        let text = std::str::from_utf8(text)
            .map_err(|e| err(e.valid_up_to(), "text part is not valid UTF-8"))?;
        let mut parts = text.splitn(3, ';');
        let version = parts.next().unwrap_or_default();
        let (Some(kind), Some(data)) = (parts.next(), parts.next()) else {
            return Err(err(text.len(), "expected `v;t;d`"));
        };
        let kind_at = version.len() + 1;
        let data_at = kind_at + kind.len() + 1;
        let version = match version {
            "1" => 1u8,
            "2" => 2u8,
            _ => return Err(err(0, format!("unsupported version {version:?}"))),
        };
        match (kind, version) {
            ("p", 1) => {
                let mut price = decode_prices(data, data_at)?;
                if let Some(bytes) = suffix {
                    if let Ok(bitmap) = <[u8; BAN_BITMAP_BYTES]>::try_from(bytes) {
                        price.bans = Some(BanBitmap(bitmap));
                    }
                }
                Ok(Self::Price(price))
            }
            ("p", _) => Err(err(0, "price commitments exist only in version 1")),
            ("b", 1) => Ok(Self::Bid(BidCommitment::V1(decode_bids_v1(data, data_at)?))),
            ("b", _) => Ok(Self::Bid(BidCommitment::V2(decode_bids_v2(data, data_at)?))),
            _ => Err(err(kind_at, format!("unknown commitment type {kind:?}"))),
        }
    }

    /// Encodes the canonical payload; errors if it would exceed [`MAX_PAYLOAD_BYTES`] or a v2
    /// bid breaks a v2 rule.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = match self {
            Self::Price(p) => {
                let entries: Vec<String> =
                    p.prices.iter().map(|(k, v)| format!("{k}={v}")).collect();
                for k in p.prices.keys() {
                    if !valid_key(k) {
                        return Err(Error::Encode(format!("invalid price key {k:?}")));
                    }
                }
                let mut out = format!("1;p;{}", entries.join(";")).into_bytes();
                if let Some(bans) = &p.bans {
                    out.push(BINARY_SEPARATOR);
                    out.extend_from_slice(&bans.0);
                }
                out
            }
            Self::Bid(BidCommitment::V1(groups)) => {
                let mut parts = Vec::new();
                for (price, hashrates) in groups {
                    if hashrates.is_empty() {
                        continue;
                    }
                    for &hashrate in hashrates {
                        check_bid_rule(hashrate, 1).map_err(|rule| rule_encode(hashrate, rule))?;
                    }
                    let mut texts: Vec<String> = hashrates.iter().map(Fp18::to_string).collect();
                    texts.sort();
                    parts.push(format!("{price}={}", texts.join(",")));
                }
                format!("1;b;{}", parts.join(";")).into_bytes()
            }
            Self::Bid(BidCommitment::V2(groups)) => {
                let mut parts = Vec::new();
                let mut total: u32 = 0;
                for (price, sizes) in groups {
                    if sizes.is_empty() {
                        continue;
                    }
                    let mut items = Vec::new();
                    for (&hashrate, &count) in sizes {
                        check_worker(hashrate, count).map_err(Error::Encode)?;
                        check_bid_rule(hashrate, 2).map_err(|rule| rule_encode(hashrate, rule))?;
                        total = total.saturating_add(count);
                        items.push(format!("{hashrate}:{count}"));
                    }
                    parts.push(format!("{ALGO_BTC},{price}={}", items.join(",")));
                }
                if total > MAX_WORKERS {
                    return Err(Error::Encode(format!(
                        "total worker count {total} exceeds {MAX_WORKERS}"
                    )));
                }
                format!("2;b;{}", parts.join(";")).into_bytes()
            }
        };
        if out.len() > MAX_PAYLOAD_BYTES {
            let len = out.len();
            out.clear();
            return Err(Error::Encode(format!(
                "payload would be {len} bytes, the limit is {MAX_PAYLOAD_BYTES}"
            )));
        }
        Ok(out)
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn decode_prices(data: &str, base: usize) -> Result<PriceCommitment> {
    let mut prices = BTreeMap::new();
    if data.is_empty() {
        return Ok(PriceCommitment { prices, bans: None });
    }
    for (at, entry) in split_with_offsets(data, base, ';') {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(err(at, format!("price entry {entry:?} has no '='")));
        };
        if !valid_key(key) {
            return Err(err(at, format!("invalid price key {key:?}")));
        }
        let value = decimal(value, at + key.len() + 1, "price")?;
        if prices.insert(key.to_owned(), value).is_some() {
            return Err(err(at, format!("repeated price key {key:?}")));
        }
    }
    Ok(PriceCommitment { prices, bans: None })
}

fn decode_bids_v1(data: &str, base: usize) -> Result<BTreeMap<Fp18, Vec<Fp18>>> {
    let mut groups: BTreeMap<Fp18, Vec<Fp18>> = BTreeMap::new();
    if data.is_empty() {
        return Ok(groups);
    }
    for (g, (at, group)) in split_with_offsets(data, base, ';').enumerate() {
        let Some((price, hashrates)) = group.split_once('=') else {
            return Err(group_err(g, at, format!("{group:?} has no '='")));
        };
        let price = decimal(price, at, "price").map_err(|e| regroup(e, g))?;
        let list = groups.entry(price).or_default();
        for (hat, hr) in split_with_offsets(hashrates, at + group.len() - hashrates.len(), ',') {
            let hashrate = decimal(hr, hat, "hashrate").map_err(|e| regroup(e, g))?;
            check_bid_rule(hashrate, 1).map_err(|rule| rule_err(g, hat, hashrate, rule))?;
            list.push(hashrate);
        }
    }
    for list in groups.values_mut() {
        list.sort_by_cached_key(Fp18::to_string);
    }
    Ok(groups)
}

/// Turns a positional error inside bid group `group` into a group error.
fn regroup(e: Error, group: usize) -> Error {
    match e {
        Error::Commitment { offset, reason } => group_err(group, offset, reason),
        other => other,
    }
}

fn rule_err(group: usize, offset: usize, value: Fp18, rule: BidRule) -> Error {
    Error::BidRule {
        group,
        offset,
        field: "hashrate",
        value,
        rule,
    }
}

fn rule_encode(value: Fp18, rule: BidRule) -> Error {
    Error::Encode(format!("hashrate {value} breaks the bid rule: {rule}"))
}

fn check_worker(hashrate: Fp18, count: u32) -> std::result::Result<(), String> {
    if hashrate < MIN_WORKER_HASHRATE || hashrate > MAX_WORKER_HASHRATE {
        return Err(format!(
            "worker size {hashrate} outside [{MIN_WORKER_HASHRATE}, {MAX_WORKER_HASHRATE}] PH"
        ));
    }
    if count == 0 {
        return Err("worker count must be positive".to_owned());
    }
    Ok(())
}

fn decode_bids_v2(data: &str, base: usize) -> Result<BTreeMap<Fp18, BTreeMap<Fp18, u32>>> {
    let mut groups: BTreeMap<Fp18, BTreeMap<Fp18, u32>> = BTreeMap::new();
    if data.is_empty() {
        return Ok(groups);
    }
    let mut total: u32 = 0;
    for (g, (at, group)) in split_with_offsets(data, base, ';').enumerate() {
        let Some((head, items)) = group.split_once('=') else {
            return Err(group_err(g, at, format!("{group:?} has no '='")));
        };
        let Some((algo, price)) = head.rsplit_once(',') else {
            return Err(group_err(g, at, "expected `ALGO,PRICE=`"));
        };
        if algo != ALGO_BTC {
            return Err(group_err(g, at, format!("algorithm {algo:?} is not BTC")));
        }
        let price = decimal(price, at + algo.len() + 1, "price").map_err(|e| regroup(e, g))?;
        let sizes = groups.entry(price).or_default();
        for (iat, item) in split_with_offsets(items, at + head.len() + 1, ',') {
            let Some((hr, count)) = item.split_once(':') else {
                return Err(group_err(g, iat, format!("{item:?} is not `HR:COUNT`")));
            };
            let hashrate = decimal(hr, iat, "hashrate").map_err(|e| regroup(e, g))?;
            let count_at = iat + hr.len() + 1;
            let count: u32 = if !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) {
                count
                    .parse()
                    .map_err(|_| group_err(g, count_at, format!("count {count:?} too large")))?
            } else {
                return Err(group_err(g, count_at, format!("invalid count {count:?}")));
            };
            check_worker(hashrate, count).map_err(|r| group_err(g, iat, r))?;
            check_bid_rule(hashrate, 2).map_err(|rule| rule_err(g, iat, hashrate, rule))?;
            total = total.saturating_add(count);
            if total > MAX_WORKERS {
                return Err(group_err(
                    g,
                    count_at,
                    format!("total worker count exceeds {MAX_WORKERS}"),
                ));
            }
            let c = sizes.entry(hashrate).or_insert(0);
            *c = c.saturating_add(count);
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn roundtrip(text: &str) -> String {
        let c = Commitment::decode(text.as_bytes()).unwrap();
        String::from_utf8(c.encode().unwrap()).unwrap()
    }

    fn offset_of(payload: &[u8]) -> usize {
        match Commitment::decode(payload) {
            Err(Error::Commitment { offset, .. }) | Err(Error::BidGroup { offset, .. }) => offset,
            other => panic!(
                "{:?} decoded as {other:?}",
                String::from_utf8_lossy(payload)
            ),
        }
    }

    #[test]
    fn price_commitment_decodes_any_order_and_encodes_in_byte_order() {
        let c =
            Commitment::decode(b"1;p;cap=0.40;TAO_USDC=400;ALPHA_TAO=.01;HASHP_USDC=50").unwrap();
        let Commitment::Price(p) = &c else { panic!() };
        assert_eq!(p.prices["ALPHA_TAO"], fp("0.01"));
        assert_eq!(p.prices["cap"], fp("0.4"));
        assert_eq!(p.bans, None);
        assert_eq!(
            String::from_utf8(c.encode().unwrap()).unwrap(),
            "1;p;ALPHA_TAO=0.01;HASHP_USDC=50;TAO_USDC=400;cap=0.4"
        );
    }

    #[test]
    fn price_rejects_repeated_key_and_bad_values_with_offsets() {
        assert_eq!(offset_of(b"1;p;cap=1;cap=2"), 10);
        assert_eq!(offset_of(b"1;p;cap=1.x"), 10);
        assert_eq!(offset_of(b"1;p;cap"), 4);
        assert_eq!(offset_of(b"1;p;cap=1;"), 10);
        assert_eq!(offset_of(b"1;p;a b=1"), 4);
        assert_eq!(offset_of(b"2;p;cap=1"), 0);
    }

    #[test]
    fn ban_bitmap_only_when_exactly_32_bytes() {
        let bans = BanBitmap::from_uids([0, 9, 255]);
        let mut payload = b"1;p;cap=0.4".to_vec();
        payload.push(0xFF);
        payload.extend_from_slice(&bans.0);
        let Commitment::Price(p) = Commitment::decode(&payload).unwrap() else {
            panic!()
        };
        assert_eq!(p.bans.unwrap().uids(), vec![0, 9, 255]);
        assert_eq!(bans.0[1], 0b10);
        assert_eq!(
            Commitment::Price(p).encode().unwrap(),
            payload,
            "the canonical form keeps the bitmap"
        );
        let mut short = b"1;p;cap=0.4".to_vec();
        short.push(0xFF);
        short.extend_from_slice(&[0xFF; 31]);
        let Commitment::Price(p) = Commitment::decode(&short).unwrap() else {
            panic!()
        };
        assert_eq!(p.bans, None);
    }

    #[test]
    fn the_limit_covers_the_suffix() {
        let mut payload = b"1;p;cap=0.4".to_vec();
        payload.push(0xFF);
        payload.extend_from_slice(&[0u8; 116]);
        assert_eq!(payload.len(), 128);
        assert!(Commitment::decode(&payload).is_ok());
        payload.push(0);
        assert_eq!(offset_of(&payload), 128);
        let long = format!("1;b;1={}", vec!["0.5"; 40].join(","));
        assert_eq!(offset_of(long.as_bytes()), 128);
    }

    #[test]
    fn envelope_errors_name_the_offset() {
        assert_eq!(offset_of(b"1;p"), 3);
        assert_eq!(offset_of(b"3;b;"), 0);
        assert_eq!(offset_of(b"01;b;"), 0);
        assert_eq!(offset_of(b"1;x;"), 2);
        assert_eq!(offset_of(b"1;b;1=0.5\xC3"), 9);
    }

    #[test]
    fn bid_v1_decodes_and_canonicalises() {
        assert_eq!(roundtrip("1;b;1=0.05,0.25;2=0.2"), "1;b;1=0.05,0.25;2=0.2");
        assert_eq!(roundtrip("1;b;"), "1;b;");
        assert_eq!(
            roundtrip("1;b;2=0.4,0.2,0.15;1.0=.05;1=0.050"),
            "1;b;1=0.05,0.05;2=0.15,0.2,0.4"
        );
        let Commitment::Bid(b) = Commitment::decode(b"1;b;1=0.05,0.05;2=0.3").unwrap() else {
            panic!()
        };
        assert_eq!(
            b.lines(),
            vec![
                BidLine {
                    hashrate: fp("0.05"),
                    price: fp("1"),
                    count: 2
                },
                BidLine {
                    hashrate: fp("0.3"),
                    price: fp("2"),
                    count: 1
                },
            ]
        );
    }

    #[test]
    fn bid_v1_errors_name_group_and_offset() {
        for (text, group, offset) in [
            ("1;b;1=0.4;2=0.3x", 1, 15),
            ("1;b;1=0.4,-1", 0, 10),
            ("1;b;1=0.4;2", 1, 10),
            ("1;b;1=0.4;x=1", 1, 10),
            ("1;b;1=0.4,,1", 0, 10),
            ("1;b;1=", 0, 6),
            ("1;b;1=0.4;", 1, 10),
        ] {
            match Commitment::decode(text.as_bytes()) {
                Err(Error::BidGroup {
                    group: g,
                    offset: o,
                    ..
                }) => {
                    assert_eq!((g, o), (group, offset), "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn bid_v2_rules() {
        assert_eq!(
            roundtrip("2;b;BTC,1.1=0.2:2,0.1:1;BTC,1=0.45:3;BTC,1.1=0.2:1"),
            "2;b;BTC,1=0.45:3;BTC,1.1=0.1:1,0.2:3"
        );
        assert_eq!(roundtrip("2;b;"), "2;b;");
        for (text, group) in [
            ("2;b;ETH,1=0.1:1", 0),
            ("2;b;BTC,1=0.1:1;BTC,1=0.46:1", 1),
            ("2;b;BTC,1=0.04:1", 0),
            ("2;b;BTC,1=0.1:0", 0),
            ("2;b;BTC,1=0.1:-1", 0),
            ("2;b;BTC,1=0.1", 0),
            ("2;b;BTC,1=", 0),
            ("2;b;BTC=0.1:1", 0),
            ("2;b;BTC,1=0.1:600;BTC,2=0.1:401", 1),
        ] {
            match Commitment::decode(text.as_bytes()) {
                Err(Error::BidGroup { group: g, .. }) => assert_eq!(g, group, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(Commitment::decode(b"2;b;BTC,1=0.1:1000").is_ok());
        assert!(Commitment::decode(b"2;b;BTC,1=0.05:1,0.45:1").is_ok());
    }

    /// The bid rule: a size off the 0.01 PH grain, or a v1 worker above 0.45 PH, rejects the
    /// whole commitment with an error that names the group, the byte, the field, the value and
    /// the rule; prices keep 18 decimals. The encoder refuses the same sizes.
    #[test]
    fn the_bid_rule_refuses_sizes_off_the_grain_and_large_v1_workers() {
        for (text, group, offset, value, rule) in [
            (
                "2;b;BTC,1=0.2:1,0.125:3",
                0,
                16,
                "0.125",
                BidRule::HashrateGrain,
            ),
            (
                "2;b;BTC,1=0.2:1;BTC,0.9=0.449999999999999999:1",
                1,
                24,
                "0.449999999999999999",
                BidRule::HashrateGrain,
            ),
            ("1;b;1=0.45,0.011", 0, 11, "0.011", BidRule::HashrateGrain),
            ("1;b;1=0.45;2=0.46", 1, 13, "0.46", BidRule::V1WorkerSize),
            ("1;b;1=1000000", 0, 6, "1000000", BidRule::V1WorkerSize),
        ] {
            let e = Commitment::decode(text.as_bytes()).unwrap_err();
            assert_eq!(
                e,
                Error::BidRule {
                    group,
                    offset,
                    field: "hashrate",
                    value: fp(value),
                    rule
                },
                "{text}"
            );
            let message = e.to_string();
            assert!(message.contains(&format!("hashrate {value}")), "{message}");
            assert!(message.contains(&rule.to_string()), "{message}");
        }
        assert!(BidRule::HashrateGrain.to_string().contains("0.01 PH"));
        assert!(BidRule::V1WorkerSize.to_string().contains("0.45 PH"));
        assert!(Commitment::decode(b"2;b;BTC,1.049999999999999999=0.05:1,0.45:999").is_ok());
        assert!(Commitment::decode(b"1;b;0.900000000000000001=0.01,0.45").is_ok());
        let mut g = BTreeMap::new();
        g.insert(fp("1"), vec![fp("0.46")]);
        let e = Commitment::Bid(BidCommitment::V1(g)).encode().unwrap_err();
        assert!(
            e.to_string().contains("a v1 worker is at most 0.45 PH"),
            "{e}"
        );
        let mut g = BTreeMap::new();
        g.insert(fp("1"), BTreeMap::from([(fp("0.125"), 1u32)]));
        let e = Commitment::Bid(BidCommitment::V2(g)).encode().unwrap_err();
        assert!(e.to_string().contains("hashrate 0.125"), "{e}");
    }

    #[test]
    fn encode_enforces_v2_rules_and_size() {
        let mut g = BTreeMap::new();
        g.insert(fp("1"), BTreeMap::from([(fp("0.5"), 1u32)]));
        assert!(matches!(
            Commitment::Bid(BidCommitment::V2(g)).encode(),
            Err(Error::Encode(_))
        ));
        let mut g = BTreeMap::new();
        g.insert(fp("1"), vec![fp("0.12"); 40]);
        assert!(matches!(
            Commitment::Bid(BidCommitment::V1(g)).encode(),
            Err(Error::Encode(m)) if m.contains("128")
        ));
    }

    #[test]
    fn staleness_and_version_switch() {
        let policy = BidPolicy {
            v2_only_from_block: Some(1000),
            ..BidPolicy::default()
        };
        // 750 blocks x 12 s = 150 min: stale; 749 blocks: fresh.
        assert!(policy.is_stale(2000, 1250));
        assert!(!policy.is_stale(2000, 1251));
        assert!(!policy.is_stale(2000, 2500));
        let v1 = BidCommitment::V1(BTreeMap::new());
        let v2 = BidCommitment::V2(BTreeMap::new());
        assert!(policy.accepts(&v1, 999, 900));
        assert!(!policy.accepts(&v1, 1000, 900));
        assert!(policy.accepts(&v2, 1000, 900));
        assert!(!policy.accepts(&v2, 2000, 1250));
    }

    /// v1 worker sizes within the bid rule (multiples of 0.01 up to 0.45), in several spellings.
    fn size_text() -> impl Strategy<Value = String> {
        (0u64..=45, 0usize..3).prop_map(|(n, style)| match style {
            0 => format!("0.{n:02}"),
            1 => format!("{}", Fp18::from_raw(u128::from(n) * HASHRATE_GRAIN.raw())),
            _ => format!(".{n:02}0"),
        })
    }

    fn decimal_text() -> impl Strategy<Value = String> {
        (0u64..5000, 0u32..4).prop_map(|(n, d)| {
            let s = format!("{n:0>5}");
            let (i, f) = s.split_at(5 - d as usize);
            if f.is_empty() {
                i.to_owned()
            } else {
                format!("{i}.{f}")
            }
        })
    }

    proptest! {
        #[test]
        fn v1_canonical_is_a_fixed_point(groups in prop::collection::vec(
            (decimal_text(), prop::collection::vec(size_text(), 1..4)), 0..4)) {
            let d: Vec<String> = groups.iter().map(|(p, hs)| format!("{p}={}", hs.join(","))).collect();
            let text = format!("1;b;{}", d.join(";"));
            prop_assume!(text.len() <= MAX_PAYLOAD_BYTES);
            let c = Commitment::decode(text.as_bytes()).unwrap();
            let canonical = c.encode().unwrap();
            let again = Commitment::decode(&canonical).unwrap();
            prop_assert_eq!(&again, &c);
            prop_assert_eq!(again.encode().unwrap(), canonical);
        }

        #[test]
        fn v2_round_trip(groups in prop::collection::btree_map(0u64..3000,
            prop::collection::btree_map(5u64..=45, 1u32..50, 1..4), 0..4)) {
            let groups: BTreeMap<Fp18, BTreeMap<Fp18, u32>> = groups.into_iter().map(|(p, m)| (
                Fp18::from_raw(u128::from(p) * 1_000_000_000_000_000),
                m.into_iter().map(|(h, c)| (Fp18::from_raw(u128::from(h) * 10_000_000_000_000_000), c)).collect(),
            )).collect();
            let c = Commitment::Bid(BidCommitment::V2(groups));
            match c.encode() {
                Ok(bytes) => prop_assert_eq!(Commitment::decode(&bytes).unwrap(), c),
                Err(Error::Encode(_)) => {}
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn price_round_trip(prices in prop::collection::btree_map("[A-Za-z_]{1,6}", any::<u64>(), 0..4),
                            bans in prop::option::of(prop::collection::vec(any::<u8>(), 0..8))) {
            let c = Commitment::Price(PriceCommitment {
                prices: prices.into_iter().map(|(k, v)| (k, Fp18::from_raw(u128::from(v)))).collect(),
                bans: bans.map(BanBitmap::from_uids),
            });
            match c.encode() {
                Ok(bytes) => prop_assert_eq!(Commitment::decode(&bytes).unwrap(), c),
                Err(Error::Encode(_)) => {}
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..140)) {
            let _ = Commitment::decode(&bytes);
        }

        #[test]
        fn decode_never_panics_on_near_valid_text(s in "[12];[bpx];[BTC0-9.,=:;]{0,60}") {
            let _ = Commitment::decode(s.as_bytes());
        }
    }
}
