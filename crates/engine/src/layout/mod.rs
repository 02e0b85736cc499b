//! Linear-memory layout: where a module's memory, data, stack and heap land
//! under each runtime profile, and where profiles disagree. Engine only (no
//! egui); the `layout` subcommand and the GUI overlay render a `LayoutReport`.
//!
//! In order:
//! - [`model`]: what the module itself says (memories, data segments with
//!   resolved or unknown offsets, layout globals, inferred stack, accesses)
//! - [`profile`]: named memory knobs with presets; Wasmtime's defaults read
//!   from Wasmtime; the WasmEdge model; page-limit behaviour; the V8, WAMR,
//!   Wasmer and wasm3 models' numbers, cited
//! - [`runtimes`]: the V8, WAMR, Wasmer and wasm3 models' rules: what each
//!   rejects, reserves, checks and moves, and WAMR's app heap
//! - [`checks`]: when Wasmtime keeps an explicit bounds check, and which
//! - [`map`]: per-profile address maps relative to the memory base
//! - [`diff`]: differences across profiles, in sentences
//! - [`effect`]: what each profile does to one function's compiled code
//! - [`measure`]: the model checked against Wasmtime: memories made under a
//!   profile's `Config`, their mappings read from the process's memory map
//! - [`units`]: sizes and addresses in words

pub mod checks;
pub mod diff;
pub mod effect;
pub mod map;
pub mod measure;
pub mod model;
pub mod profile;
pub mod runtimes;
pub mod units;

use std::path::{Path, PathBuf};

use crate::input::Input;

pub use diff::{Difference, DifferenceKind};
pub use map::AddressMap;
pub use model::ModuleLayout;
pub use profile::{Profile, Runtime};

/// An error from reading a module's layout or building a profile.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{path}: invalid WebAssembly at byte offset 0x{offset:x}: {message}")]
    InvalidWasm {
        path: PathBuf,
        offset: usize,
        message: String,
    },
    #[error("{path}: a memory layout needs a WebAssembly module; this is CLIF text")]
    NotWasm { path: PathBuf },
    #[error("profile `{spec}`: {message}")]
    UnknownProfile { spec: String, message: String },
    #[error("profile `{profile}`: Wasmtime refuses these memory settings: {message}")]
    Wasmtime { profile: String, message: String },
    #[error("profile '{profile}' models another runtime; it has no Wasmtime configuration")]
    NotWasmtime { profile: String },
}

/// One profile's view of every memory.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProfileLayout {
    pub profile: Profile,
    /// One map per memory, in memory order.
    pub memories: Vec<AddressMap>,
}

/// A module's layout under a set of profiles.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayoutReport {
    pub module: ModuleLayout,
    pub profiles: Vec<ProfileLayout>,
    pub differences: Vec<Difference>,
}

impl LayoutReport {
    /// Lays out a loaded input under `profiles`.
    pub fn from_input(input: &Input, profiles: &[Profile]) -> Result<LayoutReport, LayoutError> {
        match input.wasm() {
            Some(wasm) => LayoutReport::from_wasm(&input.path, wasm, profiles),
            None => Err(LayoutError::NotWasm {
                path: input.path.clone(),
            }),
        }
    }

    /// Lays out validated module bytes (`path` names them in messages).
    pub fn from_wasm(
        path: &Path,
        wasm: &[u8],
        profiles: &[Profile],
    ) -> Result<LayoutReport, LayoutError> {
        let module = ModuleLayout::from_wasm(path, wasm)?;
        Ok(LayoutReport::from_module(module, profiles))
    }

    /// Recomputes maps and differences for an already-read module (cheap; for
    /// a view that edits profiles).
    pub fn from_module(module: ModuleLayout, profiles: &[Profile]) -> LayoutReport {
        let maps: Vec<Vec<AddressMap>> = profiles
            .iter()
            .map(|p| {
                module
                    .memories
                    .iter()
                    .map(|m| map::address_map(&module, m, p))
                    .collect()
            })
            .collect();
        let differences = diff::differences(&module, profiles, &maps);
        let profiles = profiles
            .iter()
            .cloned()
            .zip(maps)
            .map(|(profile, memories)| ProfileLayout { profile, memories })
            .collect();
        LayoutReport {
            module,
            profiles,
            differences,
        }
    }
}
