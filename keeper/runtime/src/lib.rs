//! What every TAO20 process (the keeper, the miners, the devnet) shares at run time, once: the
//! stop signal ([`signal`]), and the crash points and fault switches its kill-and-restart and
//! supervision tests drive from outside ([`crash`]).

pub mod crash;
pub mod signal;
