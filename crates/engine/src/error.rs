//! Errors of the engine: each one names the input and says what was wrong,
//! with a byte offset or line where the underlying parser gave one.

use std::path::PathBuf;

/// An error from loading, translating, compiling or tracing an input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{path}: cannot read file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: file is {size_bytes} bytes, over the {limit_bytes}-byte limit")]
    TooLarge {
        path: PathBuf,
        size_bytes: u64,
        limit_bytes: u64,
    },
    #[error("{path}: not a WebAssembly module, WAT text or CLIF text ({reason})")]
    UnknownFormat { path: PathBuf, reason: String },
    #[error("{path}: invalid WebAssembly at byte offset 0x{offset:x}: {message}")]
    InvalidWasm {
        path: PathBuf,
        offset: usize,
        message: String,
    },
    #[error("{path}: cannot parse WAT: {message}")]
    InvalidWat { path: PathBuf, message: String },
    #[error("{path}: cannot parse CLIF at line {line}: {message}")]
    InvalidClif {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path}: no function matches `{selector}` ({available})")]
    NoSuchFunction {
        path: PathBuf,
        selector: String,
        available: String,
    },
    #[error("{path}: function {index} is imported; it has no body to compile")]
    ImportedFunction { path: PathBuf, index: u32 },
    #[error("{path}: Wasmtime could not compile the module: {message}")]
    Wasmtime { path: PathBuf, message: String },
    #[error("{path}: function `{function}`: {message}")]
    Compile {
        path: PathBuf,
        function: String,
        message: String,
    },
    #[error("{path}: function `{function}`: the compiler panicked: {message}")]
    Panicked {
        path: PathBuf,
        function: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

pub type EngineResult<T> = Result<T, EngineError>;
