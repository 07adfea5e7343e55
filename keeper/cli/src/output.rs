//! The command line's output contract: JSON on stdout, messages on stderr, and exit codes that
//! tell bad input (2) from internal failure (1).

use std::path::Path;
use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a subcommand failed; decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// The caller's input is wrong (exit code 2). The message names the offending input.
    Input(String),
    /// Something failed that is not the caller's fault (exit code 1).
    Internal(anyhow::Error),
}

impl CliError {
    /// Bad input, with a message that names it.
    pub fn input(msg: impl Into<String>) -> Self {
        Self::Input(msg.into())
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

/// The result of a subcommand.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Reads `path` as JSON into `T`; a malformed file or value is an input error naming the JSON path
/// (e.g. `bids[3].price`) and what was wrong there.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> CliResult<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    parse_json(&text).map_err(|e| match e {
        CliError::Input(msg) => CliError::Input(format!("{}: {msg}", path.display())),
        other => other,
    })
}

/// Parses JSON text into `T`, naming the JSON path of the first error.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> CliResult<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." {
            "(root)".to_owned()
        } else {
            path
        };
        CliError::Input(format!("at JSON path {at}: {inner}"))
    })
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> CliResult {
    use std::io::Write;
    let text = serde_json::to_string(value).map_err(|e| CliError::Internal(e.into()))?;
    let mut out = std::io::stdout().lock();
    // `println!` would panic on a closed pipe (`tao20 ... | head`); a reader that went away is
    // not an error worth a backtrace, anything else is an internal failure.
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Internal(e.into())),
    }
}

/// Turns a subcommand's result into the process exit code, reporting errors on stderr.
pub fn exit(result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Internal(e)) => {
            eprintln!("internal error: {e:#}");
            ExitCode::from(1)
        }
    }
}
