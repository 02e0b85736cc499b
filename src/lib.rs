//! spillscope: step the regalloc2 register allocator bundle by bundle on the
//! code Wasmtime really compiles. The engine is its own crate
//! (`spillscope-engine`, no egui in its tree); the GUI and the CLI here are two
//! front ends over it.

/// The engine crate, under the name the front ends use for it.
pub use spillscope_engine as engine;

pub mod cli;
#[cfg(feature = "gui")]
pub mod gui;
