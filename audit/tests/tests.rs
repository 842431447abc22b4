//! rampart-audit's integration tests: real files, real processes, temporary directories.

mod support;

mod checkpoints;
mod faults;
mod interop;
mod permissions;
mod readers;
mod spool;
mod tamper;
mod writer;
