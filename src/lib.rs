//! spillscope: step the regalloc2 register allocator bundle by bundle on the
//! code Wasmtime really compiles.

pub mod engine;
