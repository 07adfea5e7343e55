//! The shared test vectors (`test/vectors/protocol.json`): the contract between the Solidity
//! contracts and the keeper. Each crate's test suite asserts the cases of the kinds it owns and
//! exports those kinds (`VECTOR_KINDS`), so a case that no suite asserts fails the workspace test
//! `every_rust_vector_has_an_owner`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

/// The kinds of vector case this crate (`tao20-core`) asserts.
pub const VECTOR_KINDS: &[&str] = &[
    "eip712_domain",
    "fp18_parse",
    "fp18_parse_error",
    "fp18_mul",
    "fp18_div",
];

/// The whole vectors file.
#[derive(Debug, Deserialize)]
pub struct VectorFile {
    /// Schema version of the file.
    pub schema: u32,
    /// Named cases, in file order.
    pub cases: BTreeMap<String, Case>,
    /// Fixed test keys and other shared constants, if any.
    #[serde(default)]
    pub constants: Value,
}

/// One named case.
#[derive(Debug, Deserialize)]
pub struct Case {
    /// What is computed; decides which suite's handler asserts it.
    pub kind: String,
    /// The suites that must assert it: `"forge"`, `"rust"`.
    pub asserted_by: Vec<String>,
    /// The inputs, shape per kind.
    pub input: Value,
    /// The expected outputs, shape per kind.
    pub expected: Value,
}

impl VectorFile {
    /// The cases of `kind` that the Rust suites must assert, by name.
    pub fn rust_cases<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Case)> + 'a {
        self.cases
            .iter()
            .filter(move |(_, c)| c.kind == kind && c.asserted_by.iter().any(|s| s == "rust"))
            .map(|(n, c)| (n.as_str(), c))
    }
}

/// Where the file lives: `test/vectors/protocol.json` at the repository root.
pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/protocol.json")
}

/// Reads and parses the vectors file.
pub fn load() -> Result<VectorFile, String> {
    let p = path();
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// A string field of a case's `input` or `expected` object.
pub fn str_field<'a>(v: &'a Value, field: &str, case: &str) -> Result<&'a str, String> {
    v.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("case {case}: missing string field {field}"))
}
