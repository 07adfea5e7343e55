//! Asserts the creation core against every case of the shared vectors file whose kind it owns
//! (the forge suite asserts the same file against the contracts).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::{keccak256, Address, B256, U256};
use serde_json::{json, Value};
use tao20_core::vectors::load;
use tao20_core::Fp18;
use tao20_creation::eip712::{encode_type, Eip712Message};
use tao20_creation::ids::{delivery_remark, request_id};
use tao20_creation::index::{compute, IndexInput};
use tao20_creation::lifecycle::{expireable_at, PauseClock};
use tao20_creation::nav::{
    fund_value, is_dust, management_fee, mint_shares, native_redemption, nav_per_share,
    position_value, redemption, FundState, Holding, Price, WEI_PER_RAO,
};
use tao20_creation::signing::{recover, ReportSigner};
use tao20_creation::vectors::VECTOR_KINDS;

/// A uint field: a decimal string or a JSON integer.
fn uint(v: &Value, field: &str, case: &str) -> U256 {
    match &v[field] {
        Value::String(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("{case}: {field} = {s}: {e}")),
        Value::Number(n) => U256::from(n.as_u64().unwrap_or_else(|| panic!("{case}: {field}"))),
        other => panic!("{case}: {field} is not an integer: {other}"),
    }
}

fn small<T: TryFrom<U256>>(v: &Value, field: &str, case: &str) -> T {
    T::try_from(uint(v, field, case)).unwrap_or_else(|_| panic!("{case}: {field} out of range"))
}

fn hex<T: std::str::FromStr>(v: &Value, field: &str, case: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: missing {field}"));
    s.parse()
        .unwrap_or_else(|e| panic!("{case}: {field} = {s}: {e:?}"))
}

fn same_hex(got: impl std::fmt::Display, want: &Value, what: &str, case: &str) {
    let want = want
        .as_str()
        .unwrap_or_else(|| panic!("{case}: expected {what} missing"));
    assert_eq!(
        got.to_string().to_lowercase(),
        want.to_lowercase(),
        "{case}: {what}"
    );
}

fn same_uint(got: U256, e: &Value, field: &str, case: &str) {
    assert_eq!(got, uint(e, field, case), "{case}: {field}");
}

fn message(i: &Value, case: &str) -> Eip712Message {
    serde_json::from_value(json!({"type": i["type"], "value": i["value"]}))
        .unwrap_or_else(|e| panic!("{case}: value does not parse as {}: {e}", i["type"]))
}

/// The domain of a case: its `chainId` and `verifyingContract` (or the shared contract).
fn domain(i: &Value, constants: &Value, case: &str) -> (u64, Address) {
    let chain: u64 = small(i, "chainId", case);
    let contract = match i.get("verifyingContract") {
        Some(_) => hex(i, "verifyingContract", case),
        None => hex(constants, "contract", case),
    };
    (chain, contract)
}

fn expects_error(e: &Value) -> bool {
    e.get("error").is_some() || e.get("reverts").is_some()
}

#[test]
fn creation_vectors_hold() {
    let file = load().unwrap();
    let constants = &file.constants;
    let mut asserted = 0;
    let mut keeper_cases = 0;
    for kind in VECTOR_KINDS {
        for (name, case) in file.rust_cases(kind) {
            let (i, e) = (&case.input, &case.expected);
            match *kind {
                "eip712_typehash" => {
                    let t = i["type"].as_str().unwrap();
                    let enc = encode_type(t).unwrap_or_else(|| panic!("{name}: unknown type {t}"));
                    assert_eq!(Some(enc.as_str()), e["encodeType"].as_str(), "{name}");
                    same_hex(keccak256(&enc), &e["typeHash"], "typeHash", name);
                }
                "eip712_struct" => {
                    let m = message(i, name);
                    m.validate().unwrap();
                    let (chain, contract) = domain(i, constants, name);
                    let h = m.hashes(chain, contract);
                    same_hex(h.struct_hash, &e["structHash"], "structHash", name);
                    same_hex(h.digest, &e["digest"], "digest", name);
                }
                "eip712_signature" => {
                    let m = message(i, name);
                    let (chain, contract) = domain(i, constants, name);
                    let key_name = i["signer"].as_str().unwrap();
                    let key: B256 = hex(&constants["keys"][key_name], "privateKey", name);
                    let signer = ReportSigner::from_bytes(&key).unwrap();
                    let digest = m.digest(chain, contract);
                    same_hex(digest, &e["digest"], "digest", name);
                    same_hex(signer.address(), &e["address"], "address", name);
                    let sig = signer.sign(&m, chain, contract).unwrap();
                    same_hex(
                        alloy_primitives::hex::encode_prefixed(sig),
                        &e["signature"],
                        "signature",
                        name,
                    );
                    assert_eq!(recover(&digest, &sig).unwrap(), signer.address(), "{name}");
                }
                "request_id" => {
                    let id = request_id(
                        small(i, "chainId", name),
                        hex(i, "contract", name),
                        hex(i, "miner", name),
                        uint(i, "nonce", name),
                    );
                    same_hex(id, &e["requestId"], "requestId", name);
                }
                "delivery_remark" => {
                    let r = delivery_remark(
                        small(i, "chainId", name),
                        hex(i, "vault", name),
                        hex(i, "requestId", name),
                    );
                    same_hex(r, &e["remark"], "remark", name);
                }
                "position_value" => {
                    let price = Fp18::from_raw(small(i, "price", name));
                    let got = position_value(uint(i, "amount", name), price);
                    if expects_error(e) {
                        assert!(got.is_err(), "{name}: expected an error");
                    } else {
                        same_uint(got.unwrap(), e, "value", name);
                    }
                }
                "management_fee" => {
                    let got = management_fee(
                        uint(i, "supply", name),
                        small(i, "bps", name),
                        small(i, "blocks", name),
                    )
                    .unwrap();
                    same_uint(got, e, "fee", name);
                }
                "nav_per_share" => {
                    let got =
                        nav_per_share(uint(i, "valueRao", name), uint(i, "supply", name)).unwrap();
                    same_uint(got, e, "navPerShare", name);
                }
                "shares" => {
                    let got = mint_shares(
                        uint(i, "valueRao", name),
                        uint(i, "navPerShare", name),
                        small(i, "mintFeeBps", name),
                    );
                    if expects_error(e) {
                        assert!(got.is_err(), "{name}: expected a revert, got {got:?}");
                    } else {
                        let s = got.unwrap_or_else(|err| panic!("{name}: {err}"));
                        same_uint(s.gross, e, "gross", name);
                        same_uint(s.fee, e, "fee", name);
                        same_uint(s.shares_out, e, "sharesOut", name);
                    }
                }
                "redemption" => {
                    let stakes: Vec<U256> = i["stakes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| uint(&json!({ "s": s }), "s", name))
                        .collect();
                    let r = redemption(
                        uint(i, "shares", name),
                        small(i, "redeemFeeBps", name),
                        uint(i, "supply", name),
                        &stakes,
                    )
                    .unwrap_or_else(|err| panic!("{name}: {err}"));
                    same_uint(r.fee, e, "fee", name);
                    same_uint(r.burned, e, "burned", name);
                    let want: Vec<U256> = e["amounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| uint(&json!({ "s": s }), "s", name))
                        .collect();
                    assert_eq!(r.amounts, want, "{name}: amounts");
                }
                "index_weights" => {
                    let input: IndexInput = serde_json::from_value(i.clone())
                        .unwrap_or_else(|err| panic!("{name}: input: {err}"));
                    let out = compute(&input).unwrap_or_else(|err| panic!("{name}: {err}"));
                    let col = |f: fn(&tao20_creation::index::IndexAsset) -> String| -> Vec<String> {
                        out.index.assets.iter().map(f).collect()
                    };
                    let strings = |field: &str| -> Vec<String> {
                        e[field]
                            .as_array()
                            .unwrap_or_else(|| panic!("{name}: expected {field}"))
                            .iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .collect()
                    };
                    assert_eq!(col(|a| a.netuid.to_string()), strings("netuids"), "{name}");
                    assert_eq!(
                        col(|a| a.weight_bps.to_string()),
                        strings("weightsBps"),
                        "{name}"
                    );
                    assert_eq!(
                        col(|a| a.qty_per_unit.to_string()),
                        strings("qtyPerUnit"),
                        "{name}"
                    );
                    let excluded: Vec<String> = out
                        .index
                        .excluded
                        .iter()
                        .map(|x| x.netuid.to_string())
                        .collect();
                    assert_eq!(excluded, strings("excluded"), "{name}");
                    assert_eq!(
                        out.index.cap_bps.to_string(),
                        e["capBps"].as_str().unwrap(),
                        "{name}"
                    );
                    same_uint(out.index.unit_value_rao, e, "unitValueRao", name);
                    same_hex(
                        out.creation_file_hash,
                        &e["creationFileHash"],
                        "creationFileHash",
                        name,
                    );
                    let sum: u32 = out
                        .index
                        .assets
                        .iter()
                        .map(|a| u32::from(a.weight_bps))
                        .sum();
                    assert_eq!(sum, 10_000, "{name}");
                }
                "dust" => {
                    let price = Fp18::from_raw(small(i, "price", name));
                    let amount = uint(i, "amount", name);
                    let value = position_value(amount, price).unwrap();
                    same_uint(value, e, "valueRao", name);
                    let dust = is_dust(amount, price, uint(i, "minStakeRao", name)).unwrap();
                    assert_eq!(Some(dust), e["dust"].as_bool(), "{name}: dust");
                }
                "fund_value" => {
                    let list = |field: &str| i[field].as_array().unwrap().clone();
                    let holding = |v: &Value, field: &str| Holding {
                        netuid: small(v, "netuid", name),
                        amount: small(v, field, name),
                    };
                    let positions = list("positions");
                    let fund = FundState {
                        positions: positions.iter().map(|v| holding(v, "stake")).collect(),
                        reserved: positions.iter().map(|v| holding(v, "reserved")).collect(),
                        // The keeper reads fundNativeBalance() (wei, whole rao) and counts it in rao.
                        native_tao_rao: uint(i, "nativeWei", name) / U256::from(WEI_PER_RAO),
                        total_supply: U256::ZERO,
                        management_fee_bps: 0,
                        last_accrual_block: 0,
                    };
                    let prices: Vec<Price> = list("prices")
                        .iter()
                        .map(|v| Price {
                            netuid: small(v, "netuid", name),
                            price: small(v, "price", name),
                        })
                        .collect();
                    same_uint(fund_value(&fund, &prices).unwrap(), e, "valueRao", name);
                }
                "expiry" => {
                    let clock = PauseClock {
                        paused_since: small(i, "pausedSince", name),
                        paused_total: small(i, "pausedTotal", name),
                        last_unpause: small(i, "lastUnpause", name),
                    };
                    let at = expireable_at(
                        small(i, "requestBlock", name),
                        small(i, "deliveryWindow", name),
                        small(i, "expiryGrace", name),
                        small(i, "pausedAtRequest", name),
                        &clock,
                    )
                    .unwrap();
                    // The contract answers 2^256 - 1 ("never") while paused.
                    let got = at.map_or(U256::MAX, U256::from);
                    same_uint(got, e, "expireableAt", name);
                }
                "native_redemption" => {
                    let got = native_redemption(
                        uint(i, "nativeWei", name),
                        uint(i, "burned", name),
                        uint(i, "supply", name),
                    )
                    .unwrap();
                    same_uint(got, e, "amountWei", name);
                }
                other => panic!("VECTOR_KINDS lists {other} but this test has no handler"),
            }
            asserted += 1;
            if name.starts_with("keeper_") {
                keeper_cases += 1;
            }
        }
    }
    assert!(keeper_cases >= 4, "only {keeper_cases} keeper_ cases found");
    eprintln!("creation vectors asserted: {asserted}");
}
