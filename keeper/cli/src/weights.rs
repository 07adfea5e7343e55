//! `tao20 weights reveal | encrypt`: commit-reveal v4, offline.
//!
//! - `reveal --tempo T --last-epoch-block L --pending-epoch-at P --subnet-epoch-index I
//!   --blocks-since-last-step S --current-block H --reveal-period R --now UNIX [--block-time 12]`
//!   prints `{"reveal_block": b, "reveal_round": r}`: the first block at which the chain tries to
//!   reveal a commit made with the head at H (included at H + 1) from the subnet's schedule state
//!   at H, and the quicknet round to encrypt it to (`bittensor-drand` 2.0's rule, in integers).
//! - `encrypt --input FILE`, FILE `{"hotkey": "0x" + 64 hex, "uids": [u16], "values": [u16],
//!   "version_key": u64, "round": u64, "beacon_public_key"?: hex}` prints `{"commit": "0x…",
//!   "round": r}`: the SCALE-encoded payload timelock-encrypted to `round` under quicknet's public
//!   key (or the one given), in the chain's ciphertext layout.

use std::path::PathBuf;

use clap::Subcommand;
use serde::Deserialize;
use serde_json::json;
use tao20_chain::drand::{self, WeightsTlockPayload};
use tao20_chain::epochs::{self, RoundClock};
use tao20_chain::types::{Bytes32, EpochSchedule};

use crate::output::{print_json, read_json, CliError, CliResult};

/// Commit-reveal v4 weights.
#[derive(Debug, Subcommand)]
pub enum WeightsCmd {
    /// The reveal block and round of a commit made now, from the subnet's schedule state.
    Reveal {
        /// `Tempo` (at least 1).
        #[arg(long)]
        tempo: u16,
        /// `LastEpochBlock`.
        #[arg(long)]
        last_epoch_block: u64,
        /// `PendingEpochAt` (0: none).
        #[arg(long)]
        pending_epoch_at: u64,
        /// `SubnetEpochIndex`.
        #[arg(long)]
        subnet_epoch_index: u64,
        /// `BlocksSinceLastStep`.
        #[arg(long)]
        blocks_since_last_step: u64,
        /// The head the state was read at.
        #[arg(long)]
        current_block: u64,
        /// `RevealPeriodEpochs` (at least 1).
        #[arg(long)]
        reveal_period: u64,
        /// Unix time at the head (seconds).
        #[arg(long)]
        now: u64,
        /// Seconds per block.
        #[arg(long, default_value_t = drand::BLOCK_TIME_SECS)]
        block_time: u64,
    },
    /// Timelock-encrypt a weights payload to a beacon round.
    Encrypt {
        /// The JSON input file.
        #[arg(long)]
        input: PathBuf,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncryptInput {
    hotkey: Bytes32,
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
    round: u64,
    #[serde(default)]
    beacon_public_key: Option<String>,
}

/// Runs a `weights` subcommand.
pub fn run(cmd: WeightsCmd) -> CliResult {
    match cmd {
        WeightsCmd::Reveal {
            tempo,
            last_epoch_block,
            pending_epoch_at,
            subnet_epoch_index,
            blocks_since_last_step,
            current_block,
            reveal_period,
            now,
            block_time,
        } => {
            if tempo == 0 {
                return Err(CliError::input("--tempo: 0, the subnet runs no epochs"));
            }
            if reveal_period == 0 {
                return Err(CliError::input(
                    "--reveal-period: 0, the chain allows 1..=100",
                ));
            }
            let state = EpochSchedule {
                tempo,
                last_epoch_block,
                pending_epoch_at,
                subnet_epoch_index,
                blocks_since_last_step,
                reveal_period_epochs: reveal_period,
            };
            let clock = RoundClock {
                now_unix: now,
                block_time_secs: block_time,
                beacon_genesis: drand::QUICKNET_GENESIS,
                beacon_period: drand::QUICKNET_PERIOD,
            };
            let (reveal_block, reveal_round) =
                epochs::commit_reveal_target(&state, current_block, &clock).map_err(|e| {
                    CliError::Input(format!(
                        "--tempo/--last-epoch-block/--pending-epoch-at/--blocks-since-last-step/--current-block: {e}"
                    ))
                })?;
            print_json(&json!({"reveal_block": reveal_block, "reveal_round": reveal_round}))
        }
        WeightsCmd::Encrypt { input } => {
            let path = input.display().to_string();
            let input: EncryptInput = read_json(&input)?;
            if input.uids.len() != input.values.len() {
                return Err(CliError::Input(format!(
                    "{path}: at JSON path values: {} values for {} uids",
                    input.values.len(),
                    input.uids.len()
                )));
            }
            let public_key = match &input.beacon_public_key {
                Some(text) => {
                    hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| {
                        CliError::Input(format!("{path}: at JSON path beacon_public_key: {e}"))
                    })?
                }
                None => drand::quicknet().public_key,
            };
            let payload = WeightsTlockPayload {
                hotkey: input.hotkey.0.to_vec(),
                uids: input.uids,
                values: input.values,
                version_key: input.version_key,
            };
            let commit = drand::encrypt_payload(&public_key, input.round, &payload).map_err(
                |e| match input.beacon_public_key {
                    Some(_) => {
                        CliError::Input(format!("{path}: at JSON path beacon_public_key: {e}"))
                    }
                    None => CliError::Internal(anyhow::anyhow!(e)),
                },
            )?;
            print_json(
                &json!({"commit": format!("0x{}", hex::encode(commit)), "round": input.round}),
            )
        }
    }
}
