//! Mechanism 0 (creation units): pure logic, no I/O.
