//! The devnet's keepers: for validator `i`, its report key in a keystore, its hotkey's secret URI,
//! its database, and a `keeper.toml` pointing at the devnet, under `DIR/keepers/<i>/`; then
//! `tao20 validator run` as a process of its own, logging to `DIR/logs/validator-<i>.log`.

use std::path::{Path, PathBuf};
use std::process::Child;

use tao20_bevm::keys::PasswordSource;

use crate::process::{self, Started};
use crate::up::DevnetFile;
use crate::{Error, Result};

/// Keeper `i`'s exchange port.
pub fn exchange_port(file: &DevnetFile, i: usize) -> Result<u16> {
    file.keeper_ports
        .get(i)
        .copied()
        .ok_or_else(|| Error::Setup(format!("no exchange port for keeper {i}")))
}

/// Keeper `i`'s operator port (`/metrics`, `/v1/status`, `/healthz`, `/readyz`).
pub fn ops_port(file: &DevnetFile, i: usize) -> Result<u16> {
    file.ops_ports
        .get(i)
        .copied()
        .ok_or_else(|| Error::Setup(format!("no ops port for keeper {i}")))
}

/// The directory of keeper `i`.
pub fn keeper_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join("keepers").join(i.to_string())
}

fn restrict(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Writes keeper `i`'s keys and configuration; returns the configuration's path.
pub fn write_keeper(file: &DevnetFile, i: usize, faulty: bool) -> Result<PathBuf> {
    let dir = &file.options.dir;
    let kdir = keeper_dir(dir, i);
    std::fs::create_dir_all(&kdir).map_err(|e| Error::io(&kdir, e))?;
    let signer = file
        .keys
        .signers
        .get(i)
        .ok_or_else(|| Error::Setup(format!("no signer key {i}")))?;
    let password = kdir.join("password");
    std::fs::write(&password, "devnet\n").map_err(|e| Error::io(&password, e))?;
    restrict(&password)?;
    let keystore = kdir.join("report-key");
    if !keystore.exists() {
        tao20_bevm::keys::import(
            &kdir,
            "report-key",
            &signer.evm.secret,
            &PasswordSource::File(password.clone()),
        )?;
    }
    let suri = kdir.join("hotkey.suri");
    std::fs::write(&suri, format!("{}\n", signer.hotkey.suri)).map_err(|e| Error::io(&suri, e))?;
    restrict(&suri)?;
    let port = exchange_port(file, i)?;
    let peers = (0..file.keeper_ports.len())
        .filter(|j| *j != i)
        .map(|j| exchange_port(file, j).map(|p| format!("\"http://127.0.0.1:{p}\"")))
        .collect::<Result<Vec<_>>>()?;
    let params = file.options.index_params();
    let mechanisms = if file.options.mechanisms {
        format!(
            r#"
[mechanisms]
enabled = true
price_poll_ms = 1000
max_gap_blocks = {gap}

[mechanisms.prices.tao_usdc]
sources = [{{ name = "devnet", url = "{fixture}/prices", pointer = "/TAO_USDC" }}]

[mechanisms.prices.hashp_usdc]
sources = [{{ name = "devnet", url = "{fixture}/prices", pointer = "/HASHP_USDC" }}]

[mechanisms.pool]
interval_ms = {interval}

[mechanisms.pool.luxor]
url = "{fixture}/luxor"
subaccount = "{sub}"
api_key_env = "{env}"
"#,
            fixture = file.fixture_url,
            interval = file.options.block_time_ms.max(100),
            // Three seconds without a pool sample skips a window's delivery check: a loaded
            // machine stalls a keeper for longer than a few 100 ms blocks.
            gap = 3000u64.div_ceil(file.options.block_time_ms.max(1)).max(10),
            sub = crate::fixture::SUBACCOUNT,
            env = POOL_KEY_ENV,
        )
    } else {
        String::new()
    };
    let fault = if faulty {
        "\n[testing]\nfault = \"wrong-nav\"\n"
    } else {
        ""
    };
    let toml = format!(
        r#"# Keeper {i} of the devnet in {dir}. Every key is documented in keeper.example.toml.
[subtensor]
network = "local"
chain_endpoint = "{substrate}"
netuid = {netuid}
# A devnet block is a quarter second: a request this late is an outage, not a slow node.
request_timeout_ms = 5000

[bevm]
rpc = "{rpc}"
deployment = "{deployment}"
confirmations = 0
tx_timeout_secs = 60

[wallet]
suri_file = "{suri}"

[signer]
keystore = "{keystore}"
password_file = "{password}"

[store]
path = "{db}"

[exchange]
listen = "127.0.0.1:{port}"
external = "127.0.0.1:{port}"
peers = [{peers}]

[ops]
listen = "127.0.0.1:{ops}"
# A keeper whose engine completes no round for this long is unhealthy: a devnet block is a
# fraction of a second.
stall_secs = 20

[creation]
price_window = {window}

[creation.index]
sharesPerUnit = "{spu}"

[transmit]
stage_blocks = {stage}

[engine]
poll_ms = 100
# A devnet run is short: keep every block's record, so a replay covers the whole run.
record_blocks = 200000

[log]
level = "info,keeper=info"
{mechanisms}{fault}"#,
        dir = dir.display(),
        substrate = file.substrate,
        netuid = file.tao20_netuid,
        rpc = file.bevm_rpc,
        deployment = file.deployment.display(),
        suri = suri.display(),
        keystore = keystore.display(),
        password = password.display(),
        db = kdir.join("keeper.sqlite").display(),
        peers = peers.join(", "),
        ops = ops_port(file, i)?,
        window = file.options.price_window,
        spu = params.shares_per_unit,
        stage = stage_blocks(file.options.block_time_ms),
    );
    let config = kdir.join("keeper.toml");
    std::fs::write(&config, toml).map_err(|e| Error::io(&config, e))?;
    Ok(config)
}

/// Keeper `i`'s answer to `GET path` on its operator port: the status code and the body (a bare
/// HTTP/1.0 request, answered within `timeout`).
pub async fn ops_get(
    file: &DevnetFile,
    i: usize,
    path: &str,
    timeout: std::time::Duration,
) -> Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = ops_port(file, i)?;
    let fail = |e: &dyn std::fmt::Display| Error::Setup(format!("keeper {i} {path}: {e}"));
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| fail(&e))?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: keeper\r\n\r\n").as_bytes())
            .await
            .map_err(|e| fail(&e))?;
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.map_err(|e| fail(&e))?;
        Ok::<_, Error>(raw)
    };
    let raw = tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| fail(&format!("no answer in {timeout:?}")))??;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| fail(&"no HTTP header"))?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| fail(&head.lines().next().unwrap_or_default()))?;
    Ok((code, body.to_string()))
}

/// Keeper `i`'s integer samples, `name{labels}` -> value, from its `/metrics` (on its operator
/// port, answered within `timeout`).
pub async fn metrics(
    file: &DevnetFile,
    i: usize,
    timeout: std::time::Duration,
) -> Result<std::collections::BTreeMap<String, u64>> {
    let (code, body) = ops_get(file, i, "/metrics", timeout).await?;
    if code != 200 {
        return Err(Error::Setup(format!("keeper {i} /metrics: status {code}")));
    }
    Ok(body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse::<u64>().ok()?))
        })
        .collect())
}

/// Blocks of one keeper's turn to transmit: two seconds of devnet blocks. Turns are counted from
/// the block a report was decided at, which every keeper shares, so the skew between keepers'
/// views of the quorum no longer matters; a turn only has to outlast the skew between their views
/// of the head and a transaction's way into the pool.
fn stage_blocks(block_time_ms: u64) -> u64 {
    2000u64.div_ceil(block_time_ms.max(1)).max(2)
}

/// Starts keeper `i` with `config`.
pub fn spawn_keeper(file: &DevnetFile, i: usize, config: &Path) -> Result<(Child, Started)> {
    spawn_keeper_with_env(file, i, config, &[])
}

/// The environment variable holding the pool fixture's API key in keepers' environments.
pub const POOL_KEY_ENV: &str = "DEVNET_POOL_KEY";

/// Starts keeper `i` with `config` and extra environment (crash points in the restart tests).
pub fn spawn_keeper_with_env(
    file: &DevnetFile,
    i: usize,
    config: &Path,
    env: &[(String, String)],
) -> Result<(Child, Started)> {
    let mut env = env.to_vec();
    env.push((
        POOL_KEY_ENV.to_string(),
        crate::fixture::POOL_API_KEY.to_string(),
    ));
    let mut args = vec![
        "validator".to_string(),
        "run".to_string(),
        "--config".to_string(),
        config.display().to_string(),
    ];
    // A devnet key never signed before its devnet: its first start creates the database.
    if !keeper_dir(&file.options.dir, i)
        .join("keeper.sqlite")
        .exists()
    {
        args.push("--init-journal".to_string());
    }
    process::spawn(
        &format!("validator-{i}"),
        &file.options.tao20_bin,
        &args,
        &file.options.dir.join(format!("logs/validator-{i}.log")),
        &env,
    )
}
