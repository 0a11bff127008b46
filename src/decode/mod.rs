//! decode: pure, table-driven conversions from the kernel's raw numbers to meaning.
//! Never does I/O, never calls ptrace: everything here is unit-tested without a process.

pub mod args;
pub mod clone3;
pub mod flags;
pub mod namespaces;
pub mod signal;
pub mod wait;
