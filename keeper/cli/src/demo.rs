//! `tao20 demo`: the whole system on a devnet with faults, and its report (see `tao20_demo`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tao20_demo::scenario::{self, DemoOptions};

use crate::output::{CliError, CliResult};

/// `tao20 demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where `report.json`, `report.html` and the devnet's directory go.
    #[arg(long, default_value = "target/demo")]
    out: PathBuf,
    /// The devnet's key seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The shortened run of the tests (one subnet epoch of auction windows, a shorter creation
    /// epoch).
    #[arg(long)]
    quick: bool,
    /// Milliseconds between the devnet's blocks (`make bench` looks for the fastest at which
    /// the keepers keep up).
    #[arg(long, default_value_t = scenario::DEFAULT_BLOCK_TIME_MS, value_parser = clap::value_parser!(u64).range(20..))]
    block_ms: u64,
    /// Only draw `report.html` again from the `report.json` already in `--out`.
    #[arg(long)]
    render_only: bool,
}

fn write(path: &std::path::Path, text: &str) -> CliResult {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Runs the demo; exits non-zero when any check fails.
pub fn run(a: DemoArgs) -> CliResult {
    let root = tao20_bevm::localnet::repo_root().map_err(|e| CliError::input(e.to_string()))?;
    let out = if a.out.is_absolute() {
        a.out.clone()
    } else {
        root.join(&a.out)
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    if a.render_only {
        let path = out.join("report.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let report: tao20_demo::report::Report = serde_json::from_str(&text)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        return write(&out.join("report.html"), &tao20_demo::html::render(&report));
    }
    let opts = DemoOptions {
        out: out.clone(),
        root,
        tao20_bin: std::env::current_exe().context("the tao20 binary's path")?,
        seed: a.seed,
        quick: a.quick,
        block_time_ms: a.block_ms,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let (_run, report) = rt
        .block_on(scenario::run(&opts))
        .map_err(|e| CliError::Internal(e.into()))?;
    let json = serde_json::to_string_pretty(&report).context("report.json")?;
    write(&out.join("report.json"), &json)?;
    write(&out.join("report.html"), &tao20_demo::html::render(&report))?;
    for c in &report.checks {
        println!(
            "{} {}: {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.name,
            c.detail
        );
    }
    println!(
        "{} of {} checks passed; report in {} and {}",
        report.checks.iter().filter(|c| c.ok).count(),
        report.checks.len(),
        out.join("report.json").display(),
        out.join("report.html").display()
    );
    if report.ok() {
        Ok(())
    } else {
        Err(CliError::Internal(anyhow::anyhow!(
            "the demo failed some checks"
        )))
    }
}
