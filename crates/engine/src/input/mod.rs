//! Stage 1, input: a file becomes a validated `Input` with its function list;
//! a chosen Wasm function becomes CLIF through Wasmtime's own translator.
//!
//! - [`file`]: read a user's file: regular files only, a size limit per kind
//! - [`read`]: read a .wasm / .wat / .clif file, detect its kind, validate
//! - [`functions`]: a module's function index space and names
//! - [`clif`]: parse CLIF text (user files and Wasmtime's output)
//! - [`translate`]: Wasm → CLIF with Wasmtime (other bodies stubbed)
//! - [`environ`]: Wasmtime's engine settings and a module's environment, for
//!   compiling one function alone with Wasmtime's compiler
//! - [`isa`]: targets, opt levels, Wasmtime's Cranelift flags
//! - [`release`]: which built-in regalloc2 release allocates
//! - [`func_text`]: one function as Wasm text with module byte offsets

pub mod clif;
pub mod environ;
pub mod file;
pub mod func_text;
pub mod functions;
pub mod isa;
pub mod names;
pub mod read;
pub mod release;
pub mod translate;

pub use functions::{FunctionInfo, list_wasm_functions};
pub use read::{Body, Input, InputKind, validate_wasm};
