//! The local TAO20 network everything else runs on: the real contracts on anvil and the subtensor
//! simulator, sharing one stake ledger and one block number, as BEVM and subtensor do.
//!
//! - [`ledger`]: the simulator's stake in the staking mock on anvil, blocks in lock-step.
//! - [`chain`]: the simulator on that ledger, served over TCP, producing blocks.
//! - [`up`]: `tao20 devnet up|down` — the processes, the deployment, subnets, keys, the first
//!   epoch's creation file, and `DIR/devnet.json`.
//! - [`fixture`]: the pool API (Luxor's shape) and the price API keepers read, which miners
//!   and the demo steer.
//! - [`market`]: WTAO and Uniswap V2 from the npm artifacts, and the TAO20/WTAO pair seeded
//!   with a genesis creation's shares.
//! - [`keepers`]: the keepers it runs (`--validators N`), each a `tao20 validator run` process.
//! - [`process`], [`keys`]: the processes it starts and the development keys it derives.

pub mod chain;
pub mod error;
pub mod fixture;
pub mod frontier;
pub mod keepers;
pub mod keys;
pub mod ledger;
pub mod market;
pub mod process;
pub mod proxy;
pub mod up;

pub use error::{Error, Result};
