//! The engine: everything from file bytes to "allocator state at step k".
//! No egui here; the GUI and the CLI are two front ends over these modules.
//!
//! Stages, in pipeline order (each folder's `mod.rs` lists its files):
//! - [`input`]: read and validate a file, list functions, Wasm → CLIF, targets
//! - [`capture`]: per-thread capture of regalloc2's `trace!` records, budgets
//! - [`compile`]: one cranelift-codegen compile, traced or not; fidelity
//! - [`trace`]: records (live or from a log) → typed allocator events
//! - [`replay`]: allocator state after any step; explanation, invariants, diagnosis
//! - [`session`]: the whole pipeline for one chosen function
//! - [`opening`]: a file as the front ends open it (module or regalloc2 log)
//! - [`runs`]: runs of one function described as `KEY=VALUE`, compared
//! - [`triage`]: reduce and scan, for hangs and failures
//! - [`layout`]: a module's linear memory under runtime profiles (beside the pipeline)
//! - [`export`]: the chart as SVG or PNG, an HTML report, a bug bundle (beside the pipeline)

pub mod capture;
pub mod compile;
pub mod error;
pub mod export;
pub mod input;
pub mod layout;
pub mod opening;
pub mod replay;
pub mod runs;
pub mod session;
pub mod trace;
pub mod triage;
