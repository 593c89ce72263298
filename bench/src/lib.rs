//! hookline-bench: whole-system benchmarks (not tests). Each one measures
//! hookline and, in the same run, a bare hyper server that answers 200, so
//! every figure is also a ratio that survives a noisy machine. (The search
//! bench times queries over a filled store; what search costs receiving is
//! the receive bench run before and after, `HOOKLINE_BENCH_BIN` naming the
//! other build.)
//!
//! Modules:
//! - `bare`: the baseline server (this binary with `bare`), and with `floor`
//!   the same server syncing each body to disk before it answers.
//! - `floor`: that sync, done the cheapest durable way (a preallocated ring
//!   file, one fdatasync per group).
//! - `db`: the database of a run: a SQLite file or a fresh PostgreSQL schema.
//! - `counter`: a receiver that counts deliveries and their publish-to-delivery latency.
//! - `publish`: apps, endpoints and timed messages through hookline's API,
//!   closed loop or at a fixed rate.
//! - `relay`: the forwarding floor: the bare server posting each body on to a
//!   receiver after its 200, with hyper's client or reqwest.
//! - `procs`: building and starting processes, reading their address and peak RSS.
//! - `lag`: how far a hookline's search index trails during a load.
//! - `load`: driving `hookline send --count --concurrency --json` and reading its summary;
//!   the webhook the receive benches send; their `COUNT CONCURRENCY RATE` arguments.
//! - `report`: the table on stdout and the JSON file.

pub mod bare;
pub mod counter;
pub mod db;
pub mod floor;
pub mod lag;
pub mod load;
pub mod procs;
pub mod publish;
pub mod relay;
pub mod report;
