//! spillscope's integration tests, in one binary so Wasmtime and Cranelift
//! link once. Each module is one area; `common` holds the shared helpers.

mod common;

mod architecture;
mod cli;
mod diff;
mod engine;
mod export;
mod fidelity;
mod gate;
#[cfg(feature = "gui")]
mod gui;
#[cfg(feature = "gui")]
mod gui_layout;
#[cfg(feature = "gui")]
mod gui_link;
#[cfg(feature = "gui")]
mod gui_registers;
#[cfg(feature = "gui")]
mod gui_triage;
mod import;
mod layout;
mod layout_compare;
mod lessons;
mod map;
mod moves;
#[cfg(unix)]
mod mutation;
mod realloc;
mod reduce;
mod regalloc2_versions;
mod releases;
mod scan;
mod single_pass;
mod spec_corpus;
mod triage;
