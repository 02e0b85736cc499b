//! Stage 5, triage: many functions and external builds under budgets.
//!
//! - [`reduce`]: shrink a CLIF function while an oracle says "still interesting"
//! - [`scan`]: every function of many inputs under budgets, on worker threads
//! - [`runner`]: run a user's test command on a CLIF file (process group, timeout)
//! - [`gate`]: a release gate, a scan whose functions two releases allocate
//! - [`merge`]: shard reports of `scan --shard I/N` combined into one
//! - [`fidelity`]: every function of many modules, our recompile against Wasmtime's code

pub mod fidelity;
pub mod gate;
pub mod merge;
pub mod reduce;
pub mod runner;
pub mod scan;
