//! spillscope: step the regalloc2 register allocator bundle by bundle on the
//! code Wasmtime really compiles. The engine knows nothing of egui; the GUI and
//! the CLI are two front ends over it.

pub mod cli;
pub mod engine;
pub mod gui;
