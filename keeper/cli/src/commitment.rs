//! `tao20 commitment decode`: decode a commitment payload to JSON.
//!
//! Output schema (every decimal a canonical string):
//! - price: `{"version": 1, "type": "price", "prices": {KEY: "decimal", ...}, "bans": [uid, ...] |
//!   null, "canonical": TEXT, "canonical_hex": HEX}`; `bans` is null when the payload carried no
//!   32-byte bitmap.
//! - bid v1: `{"version": 1, "type": "bid", "bids": [{"price", "hashrates": [...]}], "lines",
//!   "canonical", "canonical_hex"}`, groups by price, hashrates in canonical order.
//! - bid v2: `{"version": 2, "type": "bid", "algo": "BTC", "bids": [{"price", "workers":
//!   [{"hashrate", "count"}]}], "lines", "canonical", "canonical_hex"}`.
//!
//! `lines` is the same for both bid versions: `[{"hashrate", "price", "count"}]` by (price,
//! hashrate), v1 duplicates merged into counts. `canonical` is the canonical text part and
//! `canonical_hex` the whole canonical payload (a price commitment's bitmap included).

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tao20_auction::commitment::{BidCommitment, Commitment, ALGO_BTC};

use crate::auction::lib_error;
use crate::output::{print_json, CliError, CliResult};

/// Commitment payloads.
#[derive(Debug, Subcommand)]
pub enum CommitmentCmd {
    /// Decode a commitment (text, or the whole payload as hex) and print it as JSON.
    Decode(DecodeArgs),
}

/// The payload to decode.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct DecodeArgs {
    /// The commitment text, e.g. `2;b;BTC,1=0.1:3`.
    text: Option<String>,
    /// The whole payload as hex (optionally `0x`-prefixed), binary suffix included.
    #[arg(long)]
    hex: Option<String>,
}

/// Runs a `commitment` subcommand.
pub fn run(cmd: CommitmentCmd) -> CliResult {
    match cmd {
        CommitmentCmd::Decode(args) => {
            let payload = match (args.text, args.hex) {
                (Some(text), _) => text.into_bytes(),
                (None, Some(hex)) => parse_hex(&hex)?,
                (None, None) => return Err(CliError::Input("give TEXT or --hex HEX".into())),
            };
            print_json(&decode_json(&payload)?)
        }
    }
}

fn parse_hex(text: &str) -> CliResult<Vec<u8>> {
    let (skip, digits) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(rest) => (2, rest),
        None => (0, text),
    };
    if digits.len() % 2 != 0 {
        return Err(CliError::Input(format!(
            "--hex: odd number of hex digits ({})",
            digits.len()
        )));
    }
    let nibble = |i: usize, b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
            .ok_or_else(|| {
                CliError::Input(format!("--hex: invalid hex digit at offset {}", skip + i))
            })
    };
    digits
        .as_bytes()
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| match pair {
            [hi, lo] => Ok(nibble(2 * i, *hi)? << 4 | nibble(2 * i + 1, *lo)?),
            _ => Err(CliError::Input("--hex: odd number of hex digits".into())),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The decoded commitment as JSON (see the module documentation for the schema).
pub fn decode_json(payload: &[u8]) -> CliResult<Value> {
    let commitment = Commitment::decode(payload).map_err(lib_error)?;
    let canonical = commitment
        .encode()
        .map_err(|e| CliError::Internal(e.into()))?;
    let text_end = canonical
        .iter()
        .position(|&b| b == tao20_auction::commitment::BINARY_SEPARATOR)
        .unwrap_or(canonical.len());
    let text = String::from_utf8_lossy(canonical.get(..text_end).unwrap_or_default()).into_owned();
    let mut out = match &commitment {
        Commitment::Price(p) => json!({
            "version": 1,
            "type": "price",
            "prices": p.prices.iter().map(|(k, v)| (k.clone(), json!(v.to_string()))).collect::<serde_json::Map<_, _>>(),
            "bans": p.bans.map(|b| b.uids()),
        }),
        Commitment::Bid(bid) => {
            let lines: Vec<Value> = bid
                .lines()
                .iter()
                .map(|l| json!({"hashrate": l.hashrate.to_string(), "price": l.price.to_string(), "count": l.count}))
                .collect();
            match bid {
                BidCommitment::V1(groups) => json!({
                    "version": 1,
                    "type": "bid",
                    "bids": groups.iter().map(|(price, hrs)| json!({
                        "price": price.to_string(),
                        "hashrates": hrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "lines": lines,
                }),
                BidCommitment::V2(groups) => json!({
                    "version": 2,
                    "type": "bid",
                    "algo": ALGO_BTC,
                    "bids": groups.iter().map(|(price, sizes)| json!({
                        "price": price.to_string(),
                        "workers": sizes.iter().map(|(h, c)| json!({"hashrate": h.to_string(), "count": c})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "lines": lines,
                }),
            }
        }
    };
    if let Some(map) = out.as_object_mut() {
        map.insert("canonical".into(), json!(text));
        map.insert("canonical_hex".into(), json!(hex(&canonical)));
    }
    Ok(out)
}
