//! `tao20 report ...`: EIP-712 hashes and digests of the protocol's signed messages.

use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;
use tao20_creation::alloy_primitives::{Address, B256};
use tao20_creation::eip712::{encode_type, Eip712Message};

use crate::output::{print_json, read_json, CliError, CliResult};

/// Report subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// The EIP-712 digest of a creation file, creation report, refund report or sweep.
    ///
    /// Input: `{"type": "CreationFile" | "CreationReport" | "RefundReport" | "Sweep" | "Asset" |
    /// "Position", "value": {...}}` with the EIP-712 field names, uints as decimal strings
    /// (examples under keeper/creation/examples/). Lists must be sorted as the contract requires.
    Digest {
        /// The input JSON file.
        #[arg(long)]
        input: PathBuf,
        /// BEVM chain id of the domain (964 finney, 945 testnet, 31337 anvil).
        #[arg(long)]
        chain_id: u64,
        /// The verifying contract (the TAO20 core contract).
        #[arg(long)]
        contract: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DigestOut {
    r#type: &'static str,
    encode_type: String,
    type_hash: B256,
    struct_hash: B256,
    domain_separator: B256,
    digest: B256,
}

/// Runs a report subcommand.
pub fn run(cmd: ReportCmd) -> CliResult {
    match cmd {
        ReportCmd::Digest {
            input,
            chain_id,
            contract,
        } => {
            let contract: Address = contract
                .parse()
                .map_err(|e| CliError::input(format!("--contract {contract:?}: {e}")))?;
            let message: Eip712Message = read_json(&input)?;
            message
                .validate()
                .map_err(|e| CliError::input(format!("{}: value: {e}", input.display())))?;
            let h = message.hashes(chain_id, contract);
            let encode_type = encode_type(message.type_name()).unwrap_or_default();
            print_json(&DigestOut {
                r#type: message.type_name(),
                encode_type,
                type_hash: h.type_hash,
                struct_hash: h.struct_hash,
                domain_separator: tao20_core::domain::domain_separator(chain_id, contract),
                digest: h.digest,
            })
        }
    }
}
