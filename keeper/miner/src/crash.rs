//! The miners' crash points for the kill-and-restart tests ([`tao20_runtime::crash`] says how a
//! test arms them).
//!
//! The creation miner's points: `after-request` (the request exists, nothing bought),
//! `before-buy` (the purchase is announced, not submitted), `after-buy` (the basket is bought,
//! not recorded), `before-deliver` (the intent is recorded, nothing submitted), `after-deliver`
//! (the delivery is on chain, not recorded), `before-unstake` and `after-unstake` (a redemption's
//! alpha sale: announced, not submitted; sold, not recorded), `before-broadcast-<purpose>` (a
//! transaction is recorded signed, not broadcast).

pub use tao20_runtime::crash::point;
