//! What every TAO20 process (the keeper, the miners, the devnet) shares at run time, once: the
//! stop signal ([`signal`]), the crash points and fault switches its kill-and-restart and
//! supervision tests drive from outside ([`crash`]), and paths as its configuration names them
//! ([`paths`]).

pub mod crash;
pub mod paths;
pub mod signal;
