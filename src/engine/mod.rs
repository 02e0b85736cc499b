//! The engine: everything from file bytes to "allocator state at step k".
//! No egui here; the GUI and the CLI are two front ends over these modules.
//!
//! Pipeline, in order:
//! - [`input`]: read a .wasm / .wat / .clif file, validate, list functions
//! - [`translate`]: Wasm → CLIF with Wasmtime's translator (other bodies stubbed)
//! - [`isa`]: targets, opt levels, Wasmtime's Cranelift flags
//! - [`clif`]: parse CLIF text (user files and Wasmtime's output)
//! - [`compile`]: cranelift-codegen compile, traced or not, with the checker
//! - [`capture`]: per-thread capture of regalloc2's `trace!` records
//! - [`trace`]: records → typed allocator events and initial/final state
//! - [`replay`]: allocator state after any step, lineage, checkpoints
//! - [`session`]: the whole pipeline for one chosen function
//! - [`layout`]: a module's linear memory under runtime profiles (beside the pipeline)

pub mod capture;
pub mod clif;
pub mod compile;
pub mod diagnose;
pub mod error;
pub mod explain;
pub mod fidelity;
pub mod import;
pub mod input;
pub mod invariants;
pub mod isa;
pub mod layout;
pub mod raw_log;
pub mod reduce;
pub mod replay;
pub mod scan;
pub mod session;
pub mod trace;
pub mod translate;
