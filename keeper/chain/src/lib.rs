//! Chain adapters: subtensor access (subxt client and simulator) and BEVM.
