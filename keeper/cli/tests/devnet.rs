//! `tao20 devnet up --detach`, `tao20 fund status`, the integrator example (web3.py and the
//! deployment file alone), `tao20 fund request`, and `tao20 devnet down` leaving no process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tao20() -> Command {
    let mut c = Command::cargo_bin("tao20").unwrap();
    c.current_dir(root());
    c
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap()
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn devnet_up_fund_status_integrator_request_and_down() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("net");
    let up = json(
        &tao20()
            .args(["devnet", "up", "--detach", "--dir"])
            .arg(&d)
            .args(["--block-time-ms", "100", "--subnets", "3"])
            // An empty fund: no genesis creation, no market.
            .args(["--genesis-units", "0"])
            .output()
            .unwrap(),
    );
    let pids: Vec<u64> = up["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "anvil and the chain");
    let result = std::panic::catch_unwind(|| {
        // A second `up` on a live directory refuses, naming the way out.
        let again = tao20()
            .args(["devnet", "up", "--detach", "--dir"])
            .arg(&d)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("devnet down"));

        let status = json(
            &tao20()
                .args(["fund", "status", "--json", "--devnet"])
                .arg(&d)
                .output()
                .unwrap(),
        );
        assert_eq!(status["totalSupply"], "0");
        assert_eq!(
            status["navPerShare"], "1000000000",
            "an empty fund's NAV is 1 TAO"
        );
        assert_eq!(status["positions"].as_array().unwrap().len(), 3);
        assert_eq!(status["signerSet"]["threshold"], 4);
        assert_eq!(status["signerSet"]["signers"].as_array().unwrap().len(), 5);
        let file = &status["creationFile"];
        assert_eq!(file["epochId"], "0");
        let weights: u64 = file["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["weightBps"].as_str().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(weights, 10_000);

        let out = Command::new("python3")
            .arg(root().join("examples/integrator.py"))
            .arg(d.join("deployment.json"))
            .arg(up["anvil"].as_str().unwrap())
            .output()
            .unwrap();
        let created = json(&out);
        let id = created["requestId"].as_str().unwrap().to_string();
        let request = json(
            &tao20()
                .args(["fund", "request", &id, "--devnet"])
                .arg(&d)
                .output()
                .unwrap(),
        );
        assert_eq!(request["request"]["status"], "pending");
        assert_eq!(request["deliveryRemark"], created["deliveryRemark"]);
        assert_eq!(
            request["request"]["requestBlock"], created["requestBlock"],
            "web3.py and the keeper's reader decode the same event"
        );
        let status = json(
            &tao20()
                .args(["fund", "status", "--json", "--devnet"])
                .arg(&d)
                .output()
                .unwrap(),
        );
        assert_eq!(status["openRequests"][0]["requestId"], id);
    });
    let down = json(
        &tao20()
            .args(["devnet", "down", "--dir"])
            .arg(&d)
            .output()
            .unwrap(),
    );
    assert_eq!(down["stopped"].as_array().unwrap().len(), 2);
    for pid in pids {
        assert!(!alive(pid), "pid {pid} outlived `devnet down`");
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
