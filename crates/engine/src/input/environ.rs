//! A Wasm module as Wasmtime's compiler sees it, for compiling one function
//! alone with Wasmtime's own Cranelift compiler.
//!
//! Wasmtime keeps its processed configuration (tunables, enabled proposals,
//! Cranelift flags) to itself, but records all of it in every artifact's engine
//! section. The artifact of an empty module compiled with the user's `Config` is
//! cheap (under a millisecond) and gives those settings exactly. With them, the
//! module environment is translated as Wasmtime's `build_module_artifacts` and
//! `prepare_translation` do (wasmtime 48 `src/compile.rs`): one pass over the
//! sections, bodies only sliced, not parsed.

use std::path::Path;

use wasmtime_environ::wasmparser;
use wasmtime_environ::{
    EntityRef, FuncIndex, FunctionBodyData, ModuleEnvironment, ModuleTranslation,
    ModuleTypesBuilder, StaticModuleIndex, Tunables,
};

use crate::error::{EngineError, EngineResult};
use crate::input::isa::{CompilerFlags, EngineMetadata};
use crate::input::translate::{self, ConfigHook, WasmtimeSettings};

/// What compiling one function needs from Wasmtime's configuration.
#[derive(Clone)]
pub struct EngineSettings {
    pub flags: CompilerFlags,
    pub tunables: Tunables,
    pub features: wasmparser::WasmFeatures,
    /// `Config::memory_guaranteed_dense_image_size`: a `Config` field, not a
    /// tunable, read back from the engine.
    pub dense_image_size: u64,
}

fn wasmtime_error(path: &Path, message: impl std::fmt::Display) -> EngineError {
    EngineError::Wasmtime {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Wasmtime's settings for `settings` (and `hook`'s extra configuration), from
/// the artifact of an empty module. Refuses configurations under which
/// Wasmtime's code for a function depends on other functions (inlining).
pub fn engine_settings(
    path: &Path,
    settings: WasmtimeSettings,
    hook: Option<ConfigHook>,
) -> EngineResult<EngineSettings> {
    let config = translate::config(path, settings, hook)?;
    let engine =
        wasmtime::Engine::new(&config).map_err(|e| wasmtime_error(path, format!("{e:#}")))?;
    let artifact = engine
        .precompile_module(b"\0asm\x01\0\0\0")
        .map_err(|e| wasmtime_error(path, format!("{e:#}")))?;
    let meta = EngineMetadata::from_artifact(&artifact).map_err(|m| wasmtime_error(path, m))?;
    if !matches!(meta.tunables.inlining, wasmtime_environ::Inlining::No) {
        return Err(wasmtime_error(
            path,
            "this configuration inlines calls, so a function's code depends on its callees: \
             compiling one function alone would not give Wasmtime's code",
        ));
    }
    Ok(EngineSettings {
        flags: meta.flags,
        tunables: meta.tunables,
        features: wasmparser::WasmFeatures::from_bits_retain(meta.features),
        dense_image_size: engine.get_memory_guaranteed_dense_image_size(),
    })
}

/// A module's environment, translated for `compiler`.
pub struct ModuleEnv<'d> {
    pub translation: ModuleTranslation<'d>,
    pub types: ModuleTypesBuilder,
}

impl<'d> ModuleEnv<'d> {
    /// Translates `wasm`'s environment as Wasmtime does before compiling it.
    pub fn translate(
        wasm: &'d [u8],
        settings: &EngineSettings,
        compiler: &dyn wasmtime_environ::Compiler,
    ) -> Result<ModuleEnv<'d>, String> {
        let mut validator = wasmparser::Validator::new_with_features(settings.features);
        let mut parser = wasmparser::Parser::new(0);
        parser.set_features(*validator.features());
        let mut types = ModuleTypesBuilder::new(&validator);
        let mut translation = ModuleEnvironment::new(
            &settings.tunables,
            &mut validator,
            &mut types,
            StaticModuleIndex::from_u32(0),
        )
        .translate(parser, wasm)
        .map_err(|e| format!("Wasmtime cannot translate the module: {e:#}"))?;
        // Wasmtime's `prepare_translation`: these decide vmctx slots.
        translation.finalize_memory_init(
            &settings.tunables,
            compiler.page_size_align(),
            settings.dense_image_size,
            &mut types,
        );
        translation.finalize_table_init(&settings.tunables, &mut types);
        Ok(ModuleEnv { translation, types })
    }

    /// Takes the body of `func_index` (function index space) out of the
    /// environment, with its key for the compiler.
    pub fn take_body(
        &mut self,
        func_index: u32,
    ) -> Result<(wasmtime_environ::FuncKey, FunctionBodyData<'d>), String> {
        let def = self
            .translation
            .module
            .defined_func_index(FuncIndex::from_u32(func_index))
            .ok_or_else(|| {
                format!("function {func_index} is imported: it has no body to compile")
            })?;
        let inputs = std::mem::take(&mut self.translation.function_body_inputs);
        let (_, data) = inputs
            .into_iter()
            .nth(def.index())
            .ok_or_else(|| format!("the module has no function {func_index}"))?;
        Ok((
            wasmtime_environ::FuncKey::DefinedWasmFunction(StaticModuleIndex::from_u32(0), def),
            data,
        ))
    }
}
