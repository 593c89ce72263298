//! hookline-bench: whole-system benchmarks (not tests). Each one measures
//! hookline and, in the same run, a bare hyper server that answers 200, so
//! every figure is also a ratio that survives a noisy machine.
//!
//! Modules:
//! - `bare`: the baseline server (this binary with `bare`).
//! - `procs`: building and starting processes, reading their address and peak RSS.
//! - `load`: driving `hookline send --count --concurrency --json` and reading its summary.
//! - `report`: the table on stdout and the JSON file.

pub mod bare;
pub mod load;
pub mod procs;
pub mod report;
