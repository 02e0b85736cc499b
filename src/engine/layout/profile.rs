//! Runtime profiles: named sets of memory knobs a user can edit, with presets.
//! Wasmtime's defaults are read from Wasmtime itself (`wasmtime::Engine`'s
//! `get_memory_*` getters, which report the tunables the engine really uses for
//! its target), never copied by hand. The WasmEdge profile is a model of
//! WasmEdge's documented behaviour, not a measured run, and says so.

use std::str::FromStr;

use super::LayoutError;
use super::model::MemoryInfo;
use super::units::{GIB, human_bytes};

/// Which runtime's rules a profile follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// Wasmtime 48.0.8, the version spillscope links.
    Wasmtime,
    /// A model of WasmEdge's documented memory behaviour (not a measured run).
    WasmEdgeModel,
}

/// A named set of memory knobs. Every field is editable; `validate` checks a
/// Wasmtime profile against Wasmtime itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Short name as given on the command line: `jit`, `aot:aarch64`, `limit:32766`.
    pub key: String,
    /// Display name: `Wasmtime JIT (host)`.
    pub name: String,
    pub runtime: Runtime,
    /// `host` or a target triple.
    pub target: String,
    /// Virtual memory reserved for a linear memory up front (`Config::memory_reservation`).
    pub memory_reservation_bytes: u64,
    /// Guard region after the memory (`Config::memory_guard_size`).
    pub memory_guard_size_bytes: u64,
    /// A guard of the same size before the memory (`Config::guard_before_linear_memory`).
    pub guard_before_linear_memory: bool,
    /// Extra space reserved when a memory outgrows its reservation
    /// (`Config::memory_reservation_for_growth`).
    pub memory_reservation_for_growth_bytes: u64,
    /// Whether a memory may be moved to grow (`Config::memory_may_move`).
    pub memory_may_move: bool,
    /// Whether out-of-bounds accesses may be caught by signal handlers on guard
    /// pages (`Config::signals_based_traps`).
    pub signals_based_traps: bool,
    /// An embedder-imposed limit on each memory's pages (Wasmtime:
    /// `StoreLimitsBuilder::memory_size(pages * page size)`; WasmEdge:
    /// `--memory-page-limit`).
    pub page_limit: Option<u64>,
    /// Where the numbers come from, in words.
    pub provenance: String,
}

/// What a profile does with a memory whose minimum exceeds its page limit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PageLimitOutcome {
    NoLimit,
    WithinLimit {
        limit_pages: u64,
    },
    /// Wasmtime: the store's limiter refuses the memory, instantiation fails.
    InstantiationFails {
        limit_pages: u64,
        message: String,
    },
    /// WasmEdge (documented): the memory is created with `limit_pages` pages
    /// instead, and an error is logged.
    Clamped {
        limit_pages: u64,
        log: String,
    },
}

/// WasmEdge's documented layout: 12 GiB reserved per memory, base at +4 GiB.
pub const WASMEDGE_RESERVED_BYTES: u64 = 12 << 30;
pub const WASMEDGE_BASE_OFFSET_BYTES: u64 = 4 << 30;
/// WasmEdge's documented default for `--memory-page-limit`.
pub const WASMEDGE_DEFAULT_PAGE_LIMIT: u64 = 65536;

/// The memory knobs of a Wasmtime engine, as Wasmtime reports them.
struct WasmtimeKnobs {
    memory_reservation_bytes: u64,
    memory_guard_size_bytes: u64,
    guard_before_linear_memory: bool,
    memory_reservation_for_growth_bytes: u64,
    memory_may_move: bool,
    signals_based_traps: bool,
}

fn wasmtime_error(profile: &str, e: impl std::fmt::Display) -> LayoutError {
    LayoutError::Wasmtime {
        profile: profile.to_string(),
        message: format!("{e:#}"),
    }
}

/// Builds an engine for `target` with `tweak` applied and reads back the memory
/// tunables it will use. Building the engine is also Wasmtime's own validation
/// of the combination.
fn wasmtime_knobs(
    profile_key: &str,
    target: &str,
    tweak: impl FnOnce(&mut wasmtime::Config),
) -> Result<WasmtimeKnobs, LayoutError> {
    let mut config = wasmtime::Config::new();
    if target != "host" {
        config
            .target(target)
            .map_err(|e| wasmtime_error(profile_key, e))?;
    }
    tweak(&mut config);
    let engine = wasmtime::Engine::new(&config).map_err(|e| wasmtime_error(profile_key, e))?;
    Ok(WasmtimeKnobs {
        memory_reservation_bytes: engine.get_memory_reservation(),
        memory_guard_size_bytes: engine.get_memory_guard_size(),
        guard_before_linear_memory: engine.get_guard_before_linear_memory(),
        memory_reservation_for_growth_bytes: engine.get_memory_reservation_for_growth(),
        memory_may_move: engine.get_memory_may_move(),
        signals_based_traps: engine.get_signals_based_traps(),
    })
}

/// `aarch64` → `aarch64-unknown-linux-gnu`; a full triple is checked and kept.
fn resolve_target(spec: &str, target: &str) -> Result<String, LayoutError> {
    if let Ok(t) = crate::engine::input::isa::Target::from_str(target) {
        return Ok(t.triple().unwrap_or("host").to_string());
    }
    target_lexicon::Triple::from_str(target)
        .map(|t| t.to_string())
        .map_err(|e| LayoutError::UnknownProfile {
            spec: spec.to_string(),
            message: format!(
                "`{target}` is not a target (host, x86_64, aarch64, riscv64, s390x, or a triple such as pulley64): {e}"
            ),
        })
}

impl Profile {
    fn from_wasmtime(
        key: String,
        name: String,
        target: String,
        k: WasmtimeKnobs,
        provenance: String,
    ) -> Profile {
        Profile {
            key,
            name,
            runtime: Runtime::Wasmtime,
            target,
            memory_reservation_bytes: k.memory_reservation_bytes,
            memory_guard_size_bytes: k.memory_guard_size_bytes,
            guard_before_linear_memory: k.guard_before_linear_memory,
            memory_reservation_for_growth_bytes: k.memory_reservation_for_growth_bytes,
            memory_may_move: k.memory_may_move,
            signals_based_traps: k.signals_based_traps,
            page_limit: None,
            provenance,
        }
    }

    /// Wasmtime's defaults on this machine, as a JIT gets them.
    pub fn wasmtime_jit() -> Result<Profile, LayoutError> {
        let knobs = wasmtime_knobs("jit", "host", |_| {})?;
        Ok(Profile::from_wasmtime(
            "jit".into(),
            "Wasmtime JIT (host)".into(),
            "host".into(),
            knobs,
            "Wasmtime 48.0.8 defaults for this host, read from wasmtime::Engine".into(),
        ))
    }

    /// Wasmtime's defaults when precompiling for `target` (a name such as
    /// `aarch64` or a triple). For 64-bit native targets these equal the JIT's;
    /// a `.cwasm` only loads into an engine with matching memory knobs.
    pub fn wasmtime_aot(target: &str) -> Result<Profile, LayoutError> {
        let key = format!("aot:{target}");
        let triple = resolve_target(&key, target)?;
        let knobs = wasmtime_knobs(&key, &triple, |_| {})?;
        Ok(Profile::from_wasmtime(
            key,
            format!("Wasmtime AOT ({triple})"),
            triple.clone(),
            knobs,
            format!("Wasmtime 48.0.8 defaults for target {triple}, read from wasmtime::Engine"),
        ))
    }

    /// No reliance on guard pages: signals-based traps off, no reservation and
    /// no guard, as on platforms without virtual-memory tricks. Every access
    /// keeps an explicit check.
    pub fn explicit_bounds_checks(target: &str) -> Result<Profile, LayoutError> {
        let key = if target == "host" {
            "explicit".to_string()
        } else {
            format!("explicit:{target}")
        };
        let triple = resolve_target(&key, target)?;
        let knobs = wasmtime_knobs(&key, &triple, |c| {
            c.signals_based_traps(false)
                .memory_reservation(0)
                .memory_guard_size(0)
                .guard_before_linear_memory(false);
        })?;
        let name = if triple == "host" {
            "Explicit bounds checks".to_string()
        } else {
            format!("Explicit bounds checks ({triple})")
        };
        Ok(Profile::from_wasmtime(
            key,
            name,
            triple,
            knobs,
            "Wasmtime 48.0.8 with signals_based_traps(false), memory_reservation(0), memory_guard_size(0), guard_before_linear_memory(false); other knobs Wasmtime's defaults".into(),
        ))
    }

    /// Wasmtime's JIT defaults plus an embedder's limit of `limit_pages` pages per memory.
    pub fn wasmtime_page_limit(limit_pages: u64, target: &str) -> Result<Profile, LayoutError> {
        let mut p = if target == "host" {
            Profile::wasmtime_jit()?
        } else {
            Profile::wasmtime_aot(target)?
        };
        p.key = if target == "host" {
            format!("limit:{limit_pages}")
        } else {
            format!("limit:{limit_pages}:{target}")
        };
        p.name = format!("{} + limit {limit_pages} pages", p.name);
        p.page_limit = Some(limit_pages);
        p.provenance
            .push_str("; page limit as an embedder sets it with StoreLimitsBuilder::memory_size");
        Ok(p)
    }

    /// A model of WasmEdge's documented behaviour: 12 GiB of address space per
    /// memory with the base 4 GiB in (so 4 GiB of guard on each side of a 4 GiB
    /// memory), a page limit of 65536 by default that clamps rather than fails.
    pub fn wasmedge_model(limit_pages: Option<u64>) -> Profile {
        let (key, name) = match limit_pages {
            Some(l) => (
                format!("wasmedge:{l}"),
                format!("WasmEdge (documented model) + limit {l} pages"),
            ),
            None => ("wasmedge".into(), "WasmEdge (documented model)".into()),
        };
        let memory_bytes = WASMEDGE_RESERVED_BYTES - 2 * WASMEDGE_BASE_OFFSET_BYTES;
        Profile {
            key,
            name,
            runtime: Runtime::WasmEdgeModel,
            target: "host".into(),
            memory_reservation_bytes: memory_bytes,
            memory_guard_size_bytes: WASMEDGE_BASE_OFFSET_BYTES,
            guard_before_linear_memory: true,
            memory_reservation_for_growth_bytes: 0,
            memory_may_move: false,
            signals_based_traps: true,
            page_limit: Some(limit_pages.unwrap_or(WASMEDGE_DEFAULT_PAGE_LIMIT)),
            provenance: "a model of WasmEdge's documented behaviour (12 GiB reserved per memory, base at +4 GiB, --memory-page-limit default 65536, clamps with an error log), not a measured run".into(),
        }
    }

    /// Parses a command-line profile name: `jit`, `aot:<target>`,
    /// `explicit[:<target>]`, `limit:<pages>[:<target>]`, `wasmedge[:<pages>]`.
    pub fn from_spec(spec: &str) -> Result<Profile, LayoutError> {
        let unknown = |message: String| LayoutError::UnknownProfile {
            spec: spec.to_string(),
            message,
        };
        let pages = |text: &str| {
            text.parse::<u64>()
                .map_err(|_| unknown(format!("`{text}` is not a page count")))
        };
        let mut parts = spec.splitn(3, ':');
        let head = parts.next().unwrap_or_default();
        let first = parts.next();
        let second = parts.next();
        match (head, first, second) {
            ("jit", None, None) => Profile::wasmtime_jit(),
            ("aot", Some(target), None) => Profile::wasmtime_aot(target),
            ("aot", None, None) => Err(unknown("`aot` needs a target, e.g. `aot:aarch64`".into())),
            ("explicit", None, None) => Profile::explicit_bounds_checks("host"),
            ("explicit", Some(target), None) => Profile::explicit_bounds_checks(target),
            ("limit", Some(p), target) => {
                Profile::wasmtime_page_limit(pages(p)?, target.unwrap_or("host"))
            }
            ("limit", None, None) => Err(unknown("`limit` needs a page count, e.g. `limit:32766`".into())),
            ("wasmedge", None, None) => Ok(Profile::wasmedge_model(None)),
            ("wasmedge", Some(p), None) => Ok(Profile::wasmedge_model(Some(pages(p)?))),
            _ => Err(unknown(
                "expected jit, aot:<target>, explicit[:<target>], limit:<pages>[:<target>] or wasmedge[:<pages>]".into(),
            )),
        }
    }

    /// The profiles `spillscope layout` shows when none is named.
    pub fn default_set() -> Result<Vec<Profile>, LayoutError> {
        Ok(vec![
            Profile::wasmtime_jit()?,
            Profile::explicit_bounds_checks("host")?,
            Profile::wasmedge_model(None),
        ])
    }

    /// The target triple, with `host` resolved to this machine.
    pub fn triple(&self) -> target_lexicon::Triple {
        if self.target == "host" {
            target_lexicon::Triple::host()
        } else {
            target_lexicon::Triple::from_str(&self.target)
                .unwrap_or_else(|_| target_lexicon::Triple::host())
        }
    }

    pub fn is_pulley(&self) -> bool {
        matches!(
            self.triple().architecture,
            target_lexicon::Architecture::Pulley32
                | target_lexicon::Architecture::Pulley64
                | target_lexicon::Architecture::Pulley32be
                | target_lexicon::Architecture::Pulley64be
        )
    }

    /// Cranelift's `page_size_align_log2` for the target: the page size Wasmtime
    /// assumes when deciding whether a memory's pages can be guarded. From
    /// cranelift-codegen 0.135.8 `src/isa/aarch64/mod.rs:188` (16, or 14 on
    /// Darwin) and `src/isa/{x64,riscv64,s390x}/mod.rs` (12).
    pub fn target_page_align_log2(&self) -> u8 {
        let triple = self.triple();
        match triple.architecture {
            target_lexicon::Architecture::Aarch64(_) => {
                if triple.operating_system.is_like_darwin() {
                    14
                } else {
                    16
                }
            }
            _ => 12,
        }
    }

    /// What this profile does with `memory` given its page limit. Wasmtime:
    /// the limiter is asked for the minimum at instantiation and refusing it
    /// fails with "memory minimum size of N pages exceeds memory limits"
    /// (wasmtime 48.0.8 `src/runtime/vm/memory.rs:350`). WasmEdge (documented):
    /// clamps to the limit and logs an error.
    pub fn page_limit_outcome(&self, memory: &MemoryInfo) -> PageLimitOutcome {
        let Some(limit_pages) = self.page_limit_for(memory) else {
            return PageLimitOutcome::NoLimit;
        };
        if memory.min_pages <= limit_pages {
            return PageLimitOutcome::WithinLimit { limit_pages };
        }
        match self.runtime {
            Runtime::Wasmtime => PageLimitOutcome::InstantiationFails {
                limit_pages,
                message: format!(
                    "memory minimum size of {} pages exceeds memory limits",
                    memory.min_pages
                ),
            },
            Runtime::WasmEdgeModel => PageLimitOutcome::Clamped {
                limit_pages,
                log: format!(
                    "error logged; memory created with {limit_pages} pages instead of its minimum {}",
                    memory.min_pages
                ),
            },
        }
    }

    /// The page limit as it applies to `memory`. Wasmtime's limiter works in
    /// bytes, so a limit of N (64 KiB) pages means N * 64 KiB bytes; for a
    /// memory with another page size that is a different page count.
    pub fn page_limit_for(&self, memory: &MemoryInfo) -> Option<u64> {
        let limit = self.page_limit?;
        match self.runtime {
            Runtime::Wasmtime => {
                let limit_bytes = u128::from(limit) << 16;
                Some(u64::try_from(limit_bytes >> memory.page_size_log2()).unwrap_or(u64::MAX))
            }
            Runtime::WasmEdgeModel => Some(limit),
        }
    }

    /// Sets this profile's knobs on a Wasmtime `Config`: target (unless host),
    /// `memory_reservation`, `memory_guard_size`, `guard_before_linear_memory`,
    /// `memory_reservation_for_growth`, `memory_may_move`, `signals_based_traps`.
    /// The page limit is not a `Config` knob (it belongs to the store:
    /// `StoreLimitsBuilder::memory_size`).
    pub fn apply_to_config(&self, config: &mut wasmtime::Config) -> Result<(), LayoutError> {
        if self.runtime != Runtime::Wasmtime {
            return Err(LayoutError::NotWasmtime {
                profile: self.name.clone(),
            });
        }
        if self.target != "host" {
            config
                .target(&self.target)
                .map_err(|e| wasmtime_error(&self.key, e))?;
        }
        config
            .memory_reservation(self.memory_reservation_bytes)
            .memory_guard_size(self.memory_guard_size_bytes)
            .guard_before_linear_memory(self.guard_before_linear_memory)
            .memory_reservation_for_growth(self.memory_reservation_for_growth_bytes)
            .memory_may_move(self.memory_may_move)
            .signals_based_traps(self.signals_based_traps);
        Ok(())
    }

    /// Checks an edited Wasmtime profile with Wasmtime: an engine must build
    /// with these knobs. WasmEdge models are not checked (there is nothing to
    /// check them against).
    pub fn validate(&self) -> Result<(), LayoutError> {
        if self.runtime != Runtime::Wasmtime {
            return Ok(());
        }
        let mut config = wasmtime::Config::new();
        self.apply_to_config(&mut config)?;
        wasmtime::Engine::new(&config)
            .map(|_| ())
            .map_err(|e| wasmtime_error(&self.key, e))
    }

    /// One line: `reservation 4 GiB, guard 32 MiB (before and after), growth 2 GiB, may move, signals-based traps`.
    pub fn knobs_summary(&self) -> String {
        let guard = if self.memory_guard_size_bytes == 0 {
            "no guard".to_string()
        } else if self.guard_before_linear_memory {
            format!(
                "guard {} before and after",
                human_bytes(self.memory_guard_size_bytes.into())
            )
        } else {
            format!(
                "guard {} after",
                human_bytes(self.memory_guard_size_bytes.into())
            )
        };
        let mut parts = vec![
            format!(
                "reservation {}",
                human_bytes(self.memory_reservation_bytes.into())
            ),
            guard,
            format!(
                "growth reservation {}",
                human_bytes(self.memory_reservation_for_growth_bytes.into())
            ),
            if self.memory_may_move {
                "may move"
            } else {
                "never moves"
            }
            .to_string(),
            if self.signals_based_traps {
                "signals-based traps"
            } else {
                "no signals-based traps"
            }
            .to_string(),
        ];
        if let Some(l) = self.page_limit {
            parts.push(format!("page limit {l}"));
        }
        parts.join(", ")
    }
}

/// 4 GiB: the size of a 32-bit index space, used by the elision rule.
pub const FOUR_GIB: u128 = 4 * GIB;
