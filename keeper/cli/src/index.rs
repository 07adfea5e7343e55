//! `tao20 index ...`: the index methodology and the creation file (mechanism 0).

use std::path::PathBuf;

use clap::Subcommand;

use crate::output::{print_json, read_json, CliError, CliResult};

/// Index subcommands.
#[derive(Debug, Subcommand)]
pub enum IndexCmd {
    /// Compute the index and the creation file from the subnets' state at a boundary block.
    ///
    /// Input schema: `tao20_creation::index::IndexInput` (example:
    /// keeper/creation/examples/index-input.json). Output: `{index, creationFile,
    /// creationFileHash}`.
    Compute {
        /// The input JSON file.
        #[arg(long)]
        input: PathBuf,
    },
}

/// Runs an index subcommand.
pub fn run(cmd: IndexCmd) -> CliResult {
    match cmd {
        IndexCmd::Compute { input } => {
            let parsed: tao20_creation::index::IndexInput = read_json(&input)?;
            let out = tao20_creation::index::compute(&parsed)
                .map_err(|e| CliError::input(format!("{}: {e}", input.display())))?;
            print_json(&out)
        }
    }
}
