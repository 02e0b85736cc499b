//! One Wasm function compiled alone by Wasmtime's own Cranelift compiler
//! (`wasmtime-internal-cranelift`, the crate `wasmtime` drives), in the
//! module's environment as Wasmtime translates it: Wasm → CLIF, the e-graph
//! pass at the chosen opt level, lowering, regalloc2 and emission, all on the
//! calling thread, so a capture sees this function's allocation and nothing
//! else. With inlining off (Wasmtime's default; [`environ::engine_settings`]
//! refuses the rest) a function's code does not depend on the others, and the
//! bytes are those Wasmtime puts in its `.text` (a test compares them).

use std::cell::RefCell;
use std::path::Path;
use std::time::Instant;

use crate::compile::{CompileJob, CompiledCode, fidelity, reloc_kind_size, srclocs_of};
use crate::input::environ::WasmModule;
use crate::input::isa::Algorithm;
use crate::input::translate;

/// One function of a module, ready to compile any number of times.
pub struct WasmJob<'a> {
    pub path: &'a Path,
    /// The module, its environment translated once for all its functions.
    pub module: &'a WasmModule,
    /// Index in the module's function index space.
    pub func_index: u32,
    /// Cranelift settings on top of Wasmtime's (algorithm, checker).
    pub overrides: Vec<(&'static str, &'static str)>,
    /// Whether Wasmtime's compiler writes the function's CLIF (a file per
    /// compile: a corpus scan that shows no CLIF goes without).
    pub write_clif: bool,
    /// The CLIF the last compile wrote.
    clif: RefCell<Option<String>>,
}

impl<'a> WasmJob<'a> {
    pub fn new(
        path: &'a Path,
        module: &'a WasmModule,
        func_index: u32,
        overrides: Vec<(&'static str, &'static str)>,
    ) -> WasmJob<'a> {
        WasmJob {
            path,
            module,
            func_index,
            overrides,
            write_clif: true,
            clif: RefCell::new(None),
        }
    }

    /// Our symbol for the function: it names the CLIF file and changes no
    /// code. (Wasmtime's own symbol appends the function's name, and a name
    /// with a `/` makes it panic writing the file.)
    fn symbol(&self) -> String {
        format!("wasm[0]::function[{}]", self.func_index)
    }
}

impl CompileJob for WasmJob<'_> {
    fn checker_on(&self) -> bool {
        self.overrides
            .iter()
            .rev()
            .find(|(n, _)| *n == "regalloc_checker")
            .is_some_and(|(_, v)| *v == "true")
            || self.module.settings.flags.shared_value("regalloc_checker") == Some("true")
    }

    fn algorithm(&self) -> Algorithm {
        let set = self
            .overrides
            .iter()
            .rev()
            .find(|(n, _)| *n == "regalloc_algorithm")
            .map(|(_, v)| *v)
            .or(self
                .module
                .settings
                .flags
                .shared_value("regalloc_algorithm"));
        if set == Some(Algorithm::SinglePass.name()) {
            Algorithm::SinglePass
        } else {
            Algorithm::Backtracking
        }
    }

    fn compile(&self, listing: bool) -> Result<CompiledCode, String> {
        let started = Instant::now();
        let dir = if self.write_clif {
            Some(translate::clif_tempdir(self.path).map_err(|e| e.to_string())?)
        } else {
            None
        };
        let settings = &self.module.settings;
        let compiler: std::sync::Arc<dyn wasmtime_environ::Compiler> = match &dir {
            // The CLIF folder is the compiler's own: a compiler per compile.
            Some(d) => std::sync::Arc::from(settings.flags.build_compiler(
                &settings.tunables,
                &self.overrides,
                Some(d.path()),
            )?),
            None => self.module.compiler(&self.overrides)?,
        };
        let symbol = self.symbol();
        let finished = self
            .module
            .with_body(self.func_index, |env, key, data| {
                let body = data.body.clone();
                compiler
                    .compile_function(&env.translation, key, data, &env.types, &symbol)
                    .map_err(|e| compile_error_text(&e))
                    .and_then(|mut out| {
                        let inliner = compiler
                            .inlining_compiler()
                            .ok_or("Wasmtime's compiler cannot finish a function")?;
                        inliner
                            .finish_compiling(&mut out, Some(body), &symbol)
                            .map_err(|e| format!("{e:#}"))?;
                        Ok::<_, String>(out)
                    })
            })
            .and_then(|r| r);
        // Written after the compile, also when it returned an error.
        if let Some(dir) = &dir {
            let file = dir
                .path()
                .join(format!("{}.clif", symbol.replace(':', "-")));
            *self.clif.borrow_mut() = std::fs::read_to_string(file).ok();
        }
        let out = finished?;
        let f = out
            .code
            .downcast_ref::<wasmtime_internal_cranelift::CompiledFunction>()
            .ok_or("Wasmtime's compiler returned something other than Cranelift code")?;
        let code = f.buffer.data().to_vec();
        let reloc_sites = f
            .buffer
            .relocs()
            .iter()
            .map(|r| r.offset as usize..r.offset as usize + reloc_kind_size(r.kind))
            .collect();
        let (final_vcode, machine_insts) = if listing {
            let isa = settings.flags.build_isa(&[])?;
            fidelity::listing(&code, &*isa)
        } else {
            (String::new(), 0)
        };
        let srclocs = srclocs_of(&f.buffer);
        Ok(CompiledCode {
            code,
            reloc_sites,
            final_vcode,
            machine_insts,
            srclocs,
            elapsed: started.elapsed(),
        })
    }

    fn written_clif(&self) -> Option<String> {
        self.clif.borrow().clone()
    }
}

/// Wasmtime's compile error in words (the verifier's list, when it is one).
fn compile_error_text(e: &wasmtime_environ::CompileError) -> String {
    match e {
        wasmtime_environ::CompileError::Codegen(text) => text.clone(),
        wasmtime_environ::CompileError::Wasm(e) => e.to_string(),
        other => other.to_string(),
    }
}
