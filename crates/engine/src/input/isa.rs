//! Targets, opt levels and the Cranelift flags Wasmtime compiles with.
//!
//! Wasmtime does not expose its Cranelift flags, but it records them in every
//! precompiled artifact: the `.wasmtime.engine` section holds a version byte, a
//! length-prefixed version string and a postcard-encoded `Metadata` whose first
//! fields are the target triple, the shared flags and the ISA flags (see
//! wasmtime 48's `src/engine/serialization.rs`). Reading them back from the
//! artifact of the very compile we mirror gives exactly Wasmtime's settings.

use std::str::FromStr;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

/// A target the user can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// This machine, with the CPU features Wasmtime detects (as a JIT would).
    Host,
    X86_64,
    Aarch64,
    Riscv64,
    S390x,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Host,
        Target::X86_64,
        Target::Aarch64,
        Target::Riscv64,
        Target::S390x,
    ];

    /// The triple for an explicit target, `None` for the host.
    pub fn triple(self) -> Option<&'static str> {
        match self {
            Target::Host => None,
            Target::X86_64 => Some("x86_64-unknown-linux-gnu"),
            Target::Aarch64 => Some("aarch64-unknown-linux-gnu"),
            Target::Riscv64 => Some("riscv64gc-unknown-linux-gnu"),
            Target::S390x => Some("s390x-unknown-linux-gnu"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Host => "host",
            Target::X86_64 => "x86_64",
            Target::Aarch64 => "aarch64",
            Target::Riscv64 => "riscv64",
            Target::S390x => "s390x",
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown target `{s}` (host, x86_64, aarch64, riscv64, s390x)"))
    }
}

/// Cranelift's optimization level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptLevel {
    None,
    Speed,
    SpeedAndSize,
}

impl OptLevel {
    pub const ALL: [OptLevel; 3] = [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize];

    pub fn name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }

    pub fn wasmtime(self) -> wasmtime::OptLevel {
        match self {
            OptLevel::None => wasmtime::OptLevel::None,
            OptLevel::Speed => wasmtime::OptLevel::Speed,
            OptLevel::SpeedAndSize => wasmtime::OptLevel::SpeedAndSize,
        }
    }
}

impl FromStr for OptLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OptLevel::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown opt level `{s}` (none, speed, speed_and_size)"))
    }
}

/// The register allocator algorithm.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// regalloc2's backtracking allocator (`ion`), Cranelift's default.
    #[default]
    Backtracking,
    /// regalloc2's single-pass allocator (`fastalloc`).
    SinglePass,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Backtracking, Algorithm::SinglePass];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Backtracking => "backtracking",
            Algorithm::SinglePass => "single_pass",
        }
    }
}

/// One Cranelift setting as Wasmtime recorded it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    pub name: String,
    pub value: String,
}

/// The triple and Cranelift settings of one Wasmtime compile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompilerFlags {
    pub triple: String,
    pub shared: Vec<Flag>,
    pub isa: Vec<Flag>,
}

/// Mirror of Wasmtime's `Metadata` (wasmtime 48 `src/engine/serialization.rs`):
/// the settings of the engine that wrote an artifact, after `Config` processing.
#[derive(serde::Deserialize)]
struct Metadata<'a> {
    target: String,
    #[serde(borrow)]
    shared_flags: Vec<(&'a str, FlagValue<'a>)>,
    #[serde(borrow)]
    isa_flags: Vec<(&'a str, FlagValue<'a>)>,
    tunables: wasmtime_environ::Tunables,
    /// `wasmparser::WasmFeatures` bits.
    features: u64,
}

/// Everything Wasmtime's engine section records about its compiler.
pub struct EngineMetadata {
    pub flags: CompilerFlags,
    pub tunables: wasmtime_environ::Tunables,
    pub features: u64,
}

/// Mirror of `wasmtime_environ::FlagValue`.
#[derive(serde::Deserialize)]
enum FlagValue<'a> {
    Enum(&'a str),
    Num(u8),
    Bool(bool),
}

impl FlagValue<'_> {
    fn text(&self) -> String {
        match self {
            FlagValue::Enum(s) => s.to_string(),
            FlagValue::Num(n) => n.to_string(),
            FlagValue::Bool(b) => b.to_string(),
        }
    }
}

impl CompilerFlags {
    /// Reads the flags from a Wasmtime artifact (`.cwasm` bytes).
    pub fn from_artifact(artifact: &[u8]) -> Result<CompilerFlags, String> {
        EngineMetadata::from_artifact(artifact).map(|m| m.flags)
    }
}

impl EngineMetadata {
    /// Reads the engine section of a Wasmtime artifact (`.cwasm` bytes).
    pub fn from_artifact(artifact: &[u8]) -> Result<EngineMetadata, String> {
        use object::{Object, ObjectSection};
        let file = object::File::parse(artifact).map_err(|e| format!("artifact: {e}"))?;
        let section = file
            .section_by_name(".wasmtime.engine")
            .ok_or("artifact has no .wasmtime.engine section")?;
        let data = section.data().map_err(|e| format!("engine section: {e}"))?;
        let (&version, rest) = data.split_first().ok_or("engine section is empty")?;
        if version != 0 {
            return Err(format!("engine section version {version}, expected 0"));
        }
        let (&len, rest) = rest.split_first().ok_or("engine section is truncated")?;
        let rest = rest
            .get(usize::from(len)..)
            .ok_or("engine section is truncated")?;
        let (meta, _) = postcard::take_from_bytes::<Metadata>(rest)
            .map_err(|e| format!("engine metadata: {e}"))?;
        let conv = |v: Vec<(&str, FlagValue)>| {
            v.into_iter()
                .map(|(n, f)| Flag {
                    name: n.to_string(),
                    value: f.text(),
                })
                .collect()
        };
        Ok(EngineMetadata {
            flags: CompilerFlags {
                triple: meta.target,
                shared: conv(meta.shared_flags),
                isa: conv(meta.isa_flags),
            },
            tunables: meta.tunables,
            features: meta.features,
        })
    }
}

impl CompilerFlags {
    /// Wasmtime's own Cranelift compiler (`wasmtime-internal-cranelift`) with
    /// these flags and `tunables`, `overrides` applied after them, and the CLIF of
    /// every function it finishes written into `clif_dir`.
    pub fn build_compiler(
        &self,
        tunables: &wasmtime_environ::Tunables,
        overrides: &[(&str, &str)],
        clif_dir: Option<&std::path::Path>,
    ) -> Result<Box<dyn wasmtime_environ::Compiler>, String> {
        let triple = target_lexicon::Triple::from_str(&self.triple)
            .map_err(|e| format!("triple `{}`: {e}", self.triple))?;
        // `Some`: no host-feature inference; every ISA flag is set below.
        let mut b = wasmtime_internal_cranelift::builder(Some(triple))
            .map_err(|e| format!("target `{}`: {e:#}", self.triple))?;
        b.set_tunables(tunables.clone())
            .map_err(|e| format!("tunables: {e:#}"))?;
        // The builder tries the shared flags first and the ISA's on a bad name.
        for f in self.shared.iter().chain(&self.isa) {
            if overrides.iter().any(|(n, _)| *n == f.name) {
                continue;
            }
            b.set(&f.name, &f.value)
                .map_err(|e| format!("setting {}={}: {e:#}", f.name, f.value))?;
        }
        for (n, v) in overrides {
            b.set(n, v).map_err(|e| format!("setting {n}={v}: {e:#}"))?;
        }
        if let Some(dir) = clif_dir {
            b.clif_dir(dir)
                .map_err(|e| format!("CLIF folder {}: {e:#}", dir.display()))?;
        }
        b.build().map_err(|e| format!("{e:#}"))
    }

    /// Builds the ISA these flags describe, with `overrides` applied to the
    /// shared flags (for example the regalloc checker).
    pub fn build_isa(&self, overrides: &[(&str, &str)]) -> Result<OwnedTargetIsa, String> {
        let triple = target_lexicon::Triple::from_str(&self.triple)
            .map_err(|e| format!("triple `{}`: {e}", self.triple))?;
        let mut shared = settings::builder();
        for f in &self.shared {
            if overrides.iter().any(|(n, _)| *n == f.name) {
                continue;
            }
            shared
                .set(&f.name, &f.value)
                .map_err(|e| format!("setting {}={}: {e}", f.name, f.value))?;
        }
        for (n, v) in overrides {
            shared
                .set(n, v)
                .map_err(|e| format!("setting {n}={v}: {e}"))?;
        }
        let mut isa = cranelift_codegen::isa::lookup(triple)
            .map_err(|e| format!("target `{}`: {e}", self.triple))?;
        for f in &self.isa {
            isa.set(&f.name, &f.value)
                .map_err(|e| format!("ISA setting {}={}: {e}", f.name, f.value))?;
        }
        isa.finish(settings::Flags::new(shared))
            .map_err(|e| format!("target `{}`: {e}", self.triple))
    }

    /// The value of a shared flag.
    pub fn shared_value(&self, name: &str) -> Option<&str> {
        self.shared
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }
}
