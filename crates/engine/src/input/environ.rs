//! A Wasm module as Wasmtime's compiler sees it, for compiling one function
//! alone with Wasmtime's own Cranelift compiler.
//!
//! Wasmtime keeps its processed configuration (tunables, enabled proposals,
//! Cranelift flags) to itself, but records all of it in every artifact's engine
//! section. The artifact of an empty module compiled with the user's `Config` is
//! cheap (under a millisecond) and gives those settings exactly. With them, the
//! module environment is translated as Wasmtime's `build_module_artifacts` and
//! `prepare_translation` do (wasmtime 48 `src/compile.rs`): one pass over the
//! sections, bodies only sliced, not parsed. [`WasmModule`] keeps one
//! translation for every function compiled from a module.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime_environ::wasmparser;
use wasmtime_environ::{
    FuncIndex, FunctionBodyData, ModuleEnvironment, ModuleTranslation, ModuleTypesBuilder,
    StaticModuleIndex, Tunables,
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

    /// The body of `func_index` (function index space), with its key for the
    /// compiler: a copy, so the environment serves any number of compiles.
    pub fn body(
        &self,
        func_index: u32,
    ) -> Result<(wasmtime_environ::FuncKey, FunctionBodyData<'d>), String> {
        let def = self
            .translation
            .module
            .defined_func_index(FuncIndex::from_u32(func_index))
            .ok_or_else(|| {
                format!("function {func_index} is imported: it has no body to compile")
            })?;
        let data = self
            .translation
            .function_body_inputs
            .get(def)
            .ok_or_else(|| format!("the module has no function {func_index}"))?;
        let v = &data.validator;
        let data = FunctionBodyData {
            body: data.body.clone(),
            validator: wasmparser::FuncToValidate {
                resources: v.resources.clone(),
                index: v.index,
                ty: v.ty,
                features: v.features,
            },
        };
        Ok((
            wasmtime_environ::FuncKey::DefinedWasmFunction(StaticModuleIndex::from_u32(0), def),
            data,
        ))
    }
}

self_cell::self_cell!(
    /// A module's environment beside the bytes it borrows.
    struct OwnedEnv {
        owner: Arc<[u8]>,
        #[not_covariant]
        dependent: ModuleEnv,
    }
);

/// A Wasm module ready for compiling its functions one at a time: its bytes,
/// Wasmtime's settings, and its environment, translated on first use and
/// then shared by every compile of every function, on any thread (as
/// Wasmtime's own parallel compile shares it).
pub struct WasmModule {
    pub wasm: Arc<[u8]>,
    pub settings: EngineSettings,
    env: OnceLock<Result<OwnedEnv, String>>,
    /// Compilers that write no CLIF, by their overrides: one serves every
    /// function and thread, and keeps Cranelift's contexts between compiles
    /// as Wasmtime's own does.
    compilers: Mutex<Vec<(Overrides, SharedCompiler)>>,
}

type Overrides = Vec<(&'static str, &'static str)>;
type SharedCompiler = Arc<dyn wasmtime_environ::Compiler>;

// Shared by a scan's worker threads.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<WasmModule>();
};

impl WasmModule {
    pub fn new(wasm: Arc<[u8]>, settings: EngineSettings) -> WasmModule {
        WasmModule {
            wasm,
            settings,
            env: OnceLock::new(),
            compilers: Mutex::new(Vec::new()),
        }
    }

    /// Wasmtime's compiler with `overrides` on top of its settings, writing
    /// no CLIF: built once per set of overrides, then shared.
    pub fn compiler(
        &self,
        overrides: &[(&'static str, &'static str)],
    ) -> Result<SharedCompiler, String> {
        let mut cache = self.compilers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache.iter().find(|(o, _)| o == overrides) {
            return Ok(Arc::clone(c));
        }
        let built: SharedCompiler = Arc::from(self.settings.flags.build_compiler(
            &self.settings.tunables,
            overrides,
            None,
        )?);
        cache.push((overrides.to_vec(), Arc::clone(&built)));
        Ok(built)
    }

    /// Translates the environment now (once), or says why it cannot be.
    pub fn translate(&self) -> Result<(), String> {
        self.env().map(|_| ())
    }

    fn env(&self) -> Result<&OwnedEnv, String> {
        self.env
            .get_or_init(|| {
                // The page alignment is the target's, whatever the overrides.
                let compiler =
                    self.settings
                        .flags
                        .build_compiler(&self.settings.tunables, &[], None)?;
                OwnedEnv::try_new(Arc::clone(&self.wasm), |wasm| {
                    ModuleEnv::translate(wasm, &self.settings, &*compiler)
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Runs `f` on the environment and a copy of `func_index`'s body.
    pub fn with_body<R>(
        &self,
        func_index: u32,
        f: impl for<'d> FnOnce(&ModuleEnv<'d>, wasmtime_environ::FuncKey, FunctionBodyData<'d>) -> R,
    ) -> Result<R, String> {
        self.env()?.with_dependent(|_, env| {
            let (key, data) = env.body(func_index)?;
            Ok(f(env, key, data))
        })
    }
}
