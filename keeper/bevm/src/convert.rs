//! The creation core's plain EIP-712 types to the binding structs the contract takes, and back.

use tao20_creation::eip712::{Asset, CreationFile, CreationReport, Position, RefundReport, Sweep};

use crate::bindings::TAO20;

impl From<&Position> for TAO20::Position {
    fn from(p: &Position) -> Self {
        Self {
            netuid: p.netuid,
            hotkey: p.hotkey,
            amount: p.amount,
        }
    }
}

impl From<&TAO20::Position> for Position {
    fn from(p: &TAO20::Position) -> Self {
        Self {
            netuid: p.netuid,
            hotkey: p.hotkey,
            amount: p.amount,
        }
    }
}

impl From<&Asset> for TAO20::Asset {
    fn from(a: &Asset) -> Self {
        Self {
            netuid: a.netuid,
            qtyPerUnit: a.qty_per_unit,
            weightBps: a.weight_bps,
        }
    }
}

impl From<&TAO20::Asset> for Asset {
    fn from(a: &TAO20::Asset) -> Self {
        Self {
            netuid: a.netuid,
            qty_per_unit: a.qtyPerUnit,
            weight_bps: a.weightBps,
        }
    }
}

fn positions(ps: &[Position]) -> Vec<TAO20::Position> {
    ps.iter().map(TAO20::Position::from).collect()
}

impl From<&CreationFile> for TAO20::CreationFile {
    fn from(f: &CreationFile) -> Self {
        Self {
            epochId: f.epoch_id,
            validFromBlock: f.valid_from_block,
            validUntilBlock: f.valid_until_block,
            sharesPerUnit: f.shares_per_unit,
            toleranceBps: f.tolerance_bps,
            minUnits: f.min_units,
            assets: f.assets.iter().map(TAO20::Asset::from).collect(),
            signerSetVersion: f.signer_set_version,
        }
    }
}

impl From<&CreationReport> for TAO20::CreationReport {
    fn from(r: &CreationReport) -> Self {
        Self {
            requestId: r.request_id,
            epochId: r.epoch_id,
            creationFileHash: r.creation_file_hash,
            receiver: r.receiver,
            units: r.units,
            positions: positions(&r.positions),
            deliveryBlock: r.delivery_block,
            deliveryIndex: r.delivery_index,
            valueRao: r.value_rao,
            navPerShare: r.nav_per_share,
            signerSetVersion: r.signer_set_version,
        }
    }
}

impl From<&RefundReport> for TAO20::RefundReport {
    fn from(r: &RefundReport) -> Self {
        Self {
            requestId: r.request_id,
            coldkey: r.coldkey,
            positions: positions(&r.positions),
            deliveryBlock: r.delivery_block,
            deliveryIndex: r.delivery_index,
            signerSetVersion: r.signer_set_version,
        }
    }
}

impl From<&Sweep> for TAO20::Sweep {
    fn from(s: &Sweep) -> Self {
        Self {
            positions: positions(&s.positions),
            nonce: s.nonce,
            signerSetVersion: s.signer_set_version,
        }
    }
}

fn plain_positions(ps: &[TAO20::Position]) -> Vec<Position> {
    ps.iter().map(Position::from).collect()
}

impl From<&TAO20::CreationFile> for CreationFile {
    fn from(f: &TAO20::CreationFile) -> Self {
        Self {
            epoch_id: f.epochId,
            valid_from_block: f.validFromBlock,
            valid_until_block: f.validUntilBlock,
            shares_per_unit: f.sharesPerUnit,
            tolerance_bps: f.toleranceBps,
            min_units: f.minUnits,
            assets: f.assets.iter().map(Asset::from).collect(),
            signer_set_version: f.signerSetVersion,
        }
    }
}

impl From<&TAO20::CreationReport> for CreationReport {
    fn from(r: &TAO20::CreationReport) -> Self {
        Self {
            request_id: r.requestId,
            epoch_id: r.epochId,
            creation_file_hash: r.creationFileHash,
            receiver: r.receiver,
            units: r.units,
            positions: plain_positions(&r.positions),
            delivery_block: r.deliveryBlock,
            delivery_index: r.deliveryIndex,
            value_rao: r.valueRao,
            nav_per_share: r.navPerShare,
            signer_set_version: r.signerSetVersion,
        }
    }
}

impl From<&TAO20::RefundReport> for RefundReport {
    fn from(r: &TAO20::RefundReport) -> Self {
        Self {
            request_id: r.requestId,
            coldkey: r.coldkey,
            positions: plain_positions(&r.positions),
            delivery_block: r.deliveryBlock,
            delivery_index: r.deliveryIndex,
            signer_set_version: r.signerSetVersion,
        }
    }
}

impl From<&TAO20::Sweep> for Sweep {
    fn from(s: &TAO20::Sweep) -> Self {
        Self {
            positions: plain_positions(&s.positions),
            nonce: s.nonce,
            signer_set_version: s.signerSetVersion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256, U256};
    use alloy::sol_types::SolStruct;
    use tao20_creation::eip712::Eip712Message;

    fn position(netuid: u16, amount: u64) -> Position {
        Position {
            netuid,
            hotkey: b256!("00000000000000000000000000000000000000000000000000000000000000aa"),
            amount,
        }
    }

    // The binding structs come from the contract's ABI, the core's from PROTOCOL.md's type
    // strings: equal struct hashes prove the conversions keep every field where the contract
    // expects it.
    #[test]
    fn binding_structs_hash_like_the_core_types() {
        let report = CreationReport {
            request_id: b256!("1111111111111111111111111111111111111111111111111111111111111111"),
            epoch_id: 4,
            creation_file_hash: b256!(
                "2222222222222222222222222222222222222222222222222222222222222222"
            ),
            receiver: address!("00000000000000000000000000000000000000bb"),
            units: 5,
            positions: vec![position(1, 7), position(3, 77)],
            delivery_block: 10,
            delivery_index: 2,
            value_rao: U256::from(123u64),
            nav_per_share: U256::from(1_000_000_007u64),
            signer_set_version: 9,
        };
        assert_eq!(
            TAO20::CreationReport::from(&report).eip712_hash_struct(),
            Eip712Message::CreationReport(report.clone()).struct_hash()
        );
        let refund = RefundReport {
            request_id: report.request_id,
            coldkey: report.creation_file_hash,
            positions: report.positions.clone(),
            delivery_block: 11,
            delivery_index: 3,
            signer_set_version: 9,
        };
        assert_eq!(
            TAO20::RefundReport::from(&refund).eip712_hash_struct(),
            Eip712Message::RefundReport(refund.clone()).struct_hash()
        );
        let sweep = Sweep {
            positions: report.positions.clone(),
            nonce: 6,
            signer_set_version: 9,
        };
        assert_eq!(
            TAO20::Sweep::from(&sweep).eip712_hash_struct(),
            Eip712Message::Sweep(sweep.clone()).struct_hash()
        );
        let file = CreationFile {
            epoch_id: 2,
            valid_from_block: 200,
            valid_until_block: 299,
            shares_per_unit: U256::from(10u64).pow(U256::from(21u64)),
            tolerance_bps: 50,
            min_units: 1,
            assets: vec![Asset {
                netuid: 1,
                qty_per_unit: 5,
                weight_bps: 10_000,
            }],
            signer_set_version: 9,
        };
        let sol = TAO20::CreationFile::from(&file);
        assert_eq!(
            sol.eip712_hash_struct(),
            Eip712Message::CreationFile(file.clone()).struct_hash()
        );
        let back: Vec<Asset> = sol.assets.iter().map(Asset::from).collect();
        assert_eq!(back, file.assets);

        // A landed transaction's calldata gives back exactly the message and signatures sent:
        // what the on-chain doppelganger check recovers signers from.
        use crate::writer::Call;
        let sigs = vec![
            alloy::primitives::Bytes::from(vec![1u8; 65]),
            alloy::primitives::Bytes::from(vec![2u8; 65]),
        ];
        let calls = [
            Call::PublishEpoch {
                file,
                signatures: sigs.clone(),
            },
            Call::Mint {
                report: report.clone(),
                signatures: sigs.clone(),
            },
            Call::Refund {
                report: refund,
                signatures: sigs.clone(),
            },
            Call::Sweep {
                order: sweep,
                signatures: sigs.clone(),
            },
        ];
        for call in calls {
            let input = call.calldata();
            assert_eq!(Call::from_calldata(&input), Some(call.clone()));
            let (message, signatures) = call.signed().unwrap();
            assert_eq!(signatures, &sigs[..]);
            let expected = match call.name() {
                "publishEpoch" => "CreationFile",
                "mint" => "CreationReport",
                "refund" => "RefundReport",
                _ => "Sweep",
            };
            assert_eq!(message.type_name(), expected);
            // Cut short, or of another function, it is not a report call.
            assert_eq!(Call::from_calldata(&input[..input.len() / 2]), None);
        }
        let expire = Call::Expire {
            request_id: report.request_id,
        };
        assert_eq!(Call::from_calldata(&expire.calldata()), None);
        assert!(expire.signed().is_none());
        assert_eq!(Call::from_calldata(&[0xde, 0xad]), None);
    }
}
