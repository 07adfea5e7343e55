//! Mechanism 1 (the hashrate auction): pure logic, no I/O.
