//! Runtime profiles: named sets of memory knobs a user can edit, with presets.
//! Wasmtime's defaults are read from Wasmtime itself (`wasmtime::Engine`'s
//! `get_memory_*` getters, which report the tunables the engine really uses for
//! its target), never copied by hand. The WasmEdge profile is a model of
//! WasmEdge's documented behaviour, not a measured run, and says so. The V8,
//! WAMR, Wasmer and wasm3 profiles are models of those runtimes' sources; their
//! numbers are the constants below, each cited by repository, version, file
//! and line, and the rules that use them are in `runtimes`.

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
    /// A model of V8 15.0.0.0 (a main-branch candidate) from its sources, on a
    /// 64-bit host (not a run).
    V8Model,
    /// A model of WAMR 2.4.5 from its sources, on 64-bit Linux (not a run).
    WamrModel,
    /// A model of Wasmer's `sys` backend (7.5.0, 7.3.0 or 6.1–7.2.0) from its
    /// published crates, on a 64-bit host (not a run).
    WasmerModel,
    /// A model of wasm3 0.9.0 (HEAD c9b579d, unreleased) from its sources (not a run).
    Wasm3Model,
}

impl Runtime {
    /// Whether the profile is a fixed model of another runtime's sources: its
    /// numbers are cited, not knobs to edit.
    pub fn is_source_model(self) -> bool {
        matches!(
            self,
            Runtime::V8Model | Runtime::WamrModel | Runtime::WasmerModel | Runtime::Wasm3Model
        )
    }

    /// The runtime's name in sentences.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Wasmtime => "Wasmtime",
            Runtime::WasmEdgeModel => "WasmEdge",
            Runtime::V8Model => "V8",
            Runtime::WamrModel => "WAMR",
            Runtime::WasmerModel => "Wasmer",
            Runtime::Wasm3Model => "wasm3",
        }
    }
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
    /// WAMR: the host-managed app heap it inserts into memory 0 (the iwasm
    /// command line's default unless the key says `heap=<bytes>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_heap_bytes: Option<u64>,
    /// Wasmer ≤ 7.3: a memory whose maximum exceeds the static bound
    /// (`memory_reservation_bytes`) is dynamic, with this guard after its
    /// minimum, and moves when it outgrows it. `None`: every memory is static.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_guard_bytes: Option<u64>,
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

// ---------------------------------------------------------------------------
// Numbers of the runtime models beyond Wasmtime and WasmEdge, each from the
// source line cited. `runtimes` holds the rules that use them.

/// V8's sources: github.com/shadowofleaf96/v8-multithread at commit e29d3578,
/// a vendored copy of the V8 tree whose `include/v8-version.h:11-18` says
/// 15.0.0.0 with `V8_IS_CANDIDATE_VERSION 1` (a main-branch candidate, not a
/// release tag; the upstream v8/v8 repository was too large to fetch).
pub const V8_SOURCE: &str =
    "V8 15.0.0.0 (candidate), vendored at shadowofleaf96/v8-multithread@e29d3578";

/// What V8 reserves for a 32-bit memory when the trap handler guards it:
/// `constexpr size_t kFullGuardSize32 = uint64_t{8} * GB;`
/// (`src/objects/backing-store.cc:36-38`), returned as the reservation by
/// `GetWasmReservationSize` (`backing-store.cc:72-99`), from the memory's base.
pub const V8_FULL_GUARD_SIZE32_BYTES: u64 = 8 << 30;

/// What V8 reserves for a memory64 memory with trap handling:
/// `kMaxMemory64Size = kV8MaxWasmMemory64Pages * kWasmPageSize`
/// (`src/wasm/wasm-limits.h:120-122`), 16 GiB on 64-bit hosts
/// (`backing-store.cc:72-99`; one more OS page on arm64).
pub const V8_MAX_MEMORY64_BYTES: u64 = V8_MAX_MEMORY64_PAGES << 16;

/// `kSpecMaxMemory32Pages = 65'536` and, on 64-bit hosts,
/// `kV8MaxWasmMemory32Pages = 65'536` (`src/wasm/wasm-limits.h:25`, `42-44`).
pub const V8_MAX_MEMORY32_PAGES: u64 = 65_536;

/// `kSpecMaxMemory64Pages = 262'144` and, on 64-bit hosts,
/// `kV8MaxWasmMemory64Pages = 262'144` (`src/wasm/wasm-limits.h:26`, `45-47`).
pub const V8_MAX_MEMORY64_PAGES: u64 = 262_144;

/// WAMR's sources: github.com/bytecodealliance/wasm-micro-runtime, tag
/// WAMR-2.4.5 (commit 25bd7eb6; `core/version.h:19-21`).
pub const WAMR_SOURCE: &str =
    "WAMR 2.4.5 (tag WAMR-2.4.5, bytecodealliance/wasm-micro-runtime@25bd7eb6)";

/// With hardware bounds checks WAMR maps 8 GiB per linear memory, whatever
/// its maximum: `map_size = 8 * (uint64)BH_GB;`
/// (`core/iwasm/common/wasm_memory.c:1960-1967`).
pub const WAMR_HW_BOUND_MAP_BYTES: u64 = 8 << 30;

/// `DEFAULT_MAX_PAGES 65536` and `DEFAULT_MEM64_MAX_PAGES UINT32_MAX`
/// (`core/iwasm/interpreter/wasm.h:110-111`): the maximum of a memory that
/// declares none, and the clamp on one that declares more
/// (`core/iwasm/interpreter/wasm_loader.c:3477-3491`).
pub const WAMR_DEFAULT_MAX_PAGES: u64 = 65_536;
pub const WAMR_DEFAULT_MEM64_MAX_PAGES: u64 = u32::MAX as u64;

/// The app heap the `iwasm` command line asks for when built without
/// libc-WASI: `uint32 heap_size = 16 * 1024;`
/// (`product-mini/platforms/posix/main.c:576-580`; 0 with libc-WASI, which
/// `wamr:heap=0` models).
pub const WAMR_IWASM_APP_HEAP_BYTES: u64 = 16 << 10;

/// Wasmer 7.5.0 (crates.io `wasmer-types`/`wasmer-vm`/`wasmer-compiler`/`wasmer`
/// 7.5.0, git 82ff099e): every memory is static
/// (`lib/compiler/src/engine/tunables.rs:204-218`, `BaseTunables` set by
/// `lib/api/src/backend/sys/entities/engine.rs:48`), reserving
/// `static_bound()` = `Pages::max_value()` = 65,536 pages
/// (`lib/types/src/memory.rs:36-37`, `lib/types/src/units.rs:17`, `36-37`) plus
/// `static_offset_guard_size()` = `0x1_0000_0000 + WASM_PAGE_SIZE`
/// (`lib/types/src/memory.rs:42-43`).
pub const WASMER_STATIC_BOUND_BYTES: u64 = 4 << 30;
pub const WASMER_7_5_STATIC_GUARD_BYTES: u64 = (4 << 30) + (64 << 10);

/// Wasmer 7.3.0 (git 35c10644): `BaseTunables::for_target` on a 64-bit
/// target gives `(WASM_MAX_PAGES.into(), 0x1_0000_0000)`
/// (`lib/compiler/src/engine/tunables.rs:221`), used by the `sys` engine
/// (`lib/api/src/backend/sys/entities/engine.rs:48`).
pub const WASMER_7_3_STATIC_GUARD_BYTES: u64 = 4 << 30;

/// Wasmer 6.1.0 to 7.2.0 (7.2.0: git 93bd0210): `for_target` on a 64-bit
/// target gives `(0x1_0000.into(), 0x8000_0000)`
/// (`lib/compiler/src/engine/tunables.rs:222`; 6.1.0: line 202).
pub const WASMER_7_2_STATIC_GUARD_BYTES: u64 = 2 << 30;

/// Wasmer ≤ 7.3's guard after a dynamic memory on non-Windows hosts:
/// `dynamic_memory_offset_guard_size: u64 = 0x1_0000`
/// (`lib/compiler/src/engine/tunables.rs:232` in 7.3.0, `233` in 7.2.0).
pub const WASMER_DYNAMIC_GUARD_BYTES: u64 = 64 << 10;

/// wasm3's sources: github.com/wasm3/wasm3 at HEAD c9b579d8 (2026-08-22),
/// whose `source/wasm3.h:11-14` says 0.9.0; no 0.9.0 tag exists (the newest
/// release, v0.5.0, has no custom page sizes and a 2 GiB cap).
pub const WASM3_SOURCE: &str = "wasm3 0.9.0 (HEAD c9b579d8 of wasm3/wasm3, unreleased)";

/// wasm3's cap on a memory: `d_m3MaxLinearMemoryPages 65536`
/// (`source/m3_config.h:23-25`) default pages of `d_m3DefaultMemPageSize 65536`
/// bytes (`source/m3_core.h:165`), compared with the memory's bytes
/// (`source/m3_env.c:395-401`): 4 GiB whatever the page size.
pub const WASM3_MAX_MEMORY_BYTES: u64 = 65_536 << 16;

/// The runtime models beyond Wasmtime and WasmEdge: their preset keys, each
/// with what it models (the CLI's help and the app's profile picker).
pub const SOURCE_MODEL_PRESETS: [(&str, &str); 8] = [
    ("v8", "V8 15.0, trap handler (guard pages)"),
    ("v8:explicit", "V8 15.0, no trap handler (explicit checks)"),
    ("wamr", "WAMR 2.4.5, hardware bounds checks"),
    ("wamr:software", "WAMR 2.4.5, software bounds checks"),
    ("wasmer", "Wasmer 7.5.0"),
    ("wasmer:7.3", "Wasmer 7.3.0"),
    ("wasmer:7.2", "Wasmer 6.1-7.2.0"),
    ("wasm3", "wasm3 0.9.0 (HEAD)"),
];

/// The Wasmer releases modelled: their memory rules differ (see `WASMER_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmerRelease {
    /// 7.5.0, the current release (7.4.0 was the first without `for_target`).
    V7_5,
    /// 7.3.0: `for_target` with a 4 GiB static guard.
    V7_3,
    /// 6.1.0 to 7.2.0: `for_target` with a 2 GiB static guard.
    V7_2,
}

impl WasmerRelease {
    /// `7.5`, `7.3.0`, ... (`7.4` is not read from source, so not offered).
    pub fn from_version(version: &str) -> Option<WasmerRelease> {
        match version {
            "7.5" | "7.5.0" => Some(WasmerRelease::V7_5),
            "7.3" | "7.3.0" => Some(WasmerRelease::V7_3),
            "7.2" | "7.2.0" => Some(WasmerRelease::V7_2),
            _ => None,
        }
    }
}

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
    if let Ok(t) = crate::input::isa::Target::from_str(target) {
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
            app_heap_bytes: None,
            dynamic_guard_bytes: None,
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
            app_heap_bytes: None,
            dynamic_guard_bytes: None,
        }
    }

    /// A source model's profile: no page limit, no guard before, no growth
    /// reservation; the knobs are what its runtime reserves for a 32-bit
    /// memory and how it catches out-of-bounds accesses.
    #[allow(clippy::too_many_arguments)]
    fn source_model(
        key: String,
        name: String,
        runtime: Runtime,
        reservation_bytes: u64,
        guard_after_bytes: u64,
        may_move: bool,
        guard_pages: bool,
        provenance: String,
    ) -> Profile {
        Profile {
            key,
            name,
            runtime,
            target: "host".into(),
            memory_reservation_bytes: reservation_bytes,
            memory_guard_size_bytes: guard_after_bytes,
            guard_before_linear_memory: false,
            memory_reservation_for_growth_bytes: 0,
            memory_may_move: may_move,
            signals_based_traps: guard_pages,
            page_limit: None,
            provenance,
            app_heap_bytes: None,
            dynamic_guard_bytes: None,
        }
    }

    /// A model of V8 on a 64-bit host. With the trap handler (x64, arm64 and
    /// riscv64 Linux and a few more, enabled by the embedder:
    /// `src/trap-handler/trap-handler.h:18-53`) a memory gets guard regions: a
    /// fixed reservation from its base, nothing before it. Without it (or with
    /// `--wasm-enforce-bounds-checks`, `src/flags/flag-definitions.h:2162-2164`)
    /// V8 reserves the memory's maximum and checks every access.
    pub fn v8_model(trap_handler: bool) -> Profile {
        let (key, name, reservation, detail) = if trap_handler {
            (
                "v8",
                "V8 15.0 (model): trap handler",
                V8_FULL_GUARD_SIZE32_BYTES,
                "trap handler on: a 32-bit memory reserves 8 GiB from its base (kFullGuardSize32), a memory64 16 GiB (kMaxMemory64Size, --wasm-memory64-trap-handling is on by default on x64, arm64, riscv64 and loong64), no guard before the base; out-of-bounds accesses fault in the reservation",
            )
        } else {
            (
                "v8:explicit",
                "V8 15.0 (model): explicit bounds checks",
                0,
                "no trap handler (or --wasm-enforce-bounds-checks): each memory reserves its maximum pages x 64 KiB (the declared maximum, else 65,536 pages for 32-bit and 262,144 for memory64), every access is checked",
            )
        };
        Profile::source_model(
            key.into(),
            name.into(),
            Runtime::V8Model,
            reservation,
            0,
            !trap_handler,
            trap_handler,
            format!(
                "a model of V8's sources, not a run: {V8_SOURCE}; 64-bit host; {detail}; no custom page sizes (the module is rejected)"
            ),
        )
    }

    /// A model of WAMR on 64-bit Linux, with hardware bounds checks (the
    /// default where the platform has them, `core/config.h:308-312`,
    /// `core/shared/platform/linux/platform_internal.h:83-90`) or software
    /// ones, and an app heap of `app_heap_bytes` in memory 0.
    pub fn wamr_model(hardware_bounds_checks: bool, app_heap_bytes: u64) -> Profile {
        let mut key = if hardware_bounds_checks {
            "wamr".to_string()
        } else {
            "wamr:software".to_string()
        };
        if app_heap_bytes != WAMR_IWASM_APP_HEAP_BYTES {
            key.push_str(&format!(":heap={app_heap_bytes}"));
        }
        let checks = if hardware_bounds_checks {
            "hardware bounds checks: 8 GiB mapped no-access per memory, the current size made read-write, the rest acting as guard; grows in place"
        } else {
            "software bounds checks: maps the initial size (a shared memory: its maximum) and grows by mremap with MREMAP_MAYMOVE (may move)"
        };
        let heap = if app_heap_bytes == WAMR_IWASM_APP_HEAP_BYTES {
            "app heap 16 KiB in memory 0 (iwasm's default without libc-WASI, product-mini/platforms/posix/main.c:576-580) unless the module exports malloc and free".to_string()
        } else {
            format!(
                "app heap {} in memory 0 unless the module exports malloc and free",
                human_bytes(app_heap_bytes.into())
            )
        };
        let mut p = Profile::source_model(
            key,
            format!(
                "WAMR 2.4.5 (model): {} bounds checks, app heap {}",
                if hardware_bounds_checks {
                    "hardware"
                } else {
                    "software"
                },
                human_bytes(app_heap_bytes.into())
            ),
            Runtime::WamrModel,
            if hardware_bounds_checks {
                WAMR_HW_BOUND_MAP_BYTES
            } else {
                0
            },
            0,
            !hardware_bounds_checks,
            hardware_bounds_checks,
            format!(
                "a model of WAMR's sources, not a run: {WAMR_SOURCE}; 64-bit Linux; {checks}; {heap}; built with the features the module needs (memory64 turns hardware bounds checks off for the whole build); no custom page sizes (rejected)"
            ),
        );
        p.app_heap_bytes = Some(app_heap_bytes);
        p
    }

    /// A model of Wasmer's `sys` backend on a 64-bit host: `7.5` (the current
    /// release: every memory static, 4 GiB + 4 GiB + 64 KiB), `7.3` (static
    /// memories 4 GiB + 4 GiB, dynamic above the bound) or `7.2` (6.1.0 to
    /// 7.2.0: static memories 4 GiB + 2 GiB, the figures often quoted for Wasmer).
    pub fn wasmer_model(release: WasmerRelease) -> Profile {
        let (key, name, guard, dynamic, detail) = match release {
            WasmerRelease::V7_5 => (
                "wasmer",
                "Wasmer 7.5.0 (model)",
                WASMER_7_5_STATIC_GUARD_BYTES,
                None,
                "Wasmer 7.5.0 (crates at git 82ff099e): BaseTunables always gives a static memory, 4 GiB bound + 4 GiB + 64 KiB guard = 8 GiB + 64 KiB reserved; grows in place. Wasmer up to 7.3.0 chose by target (wasmer:7.3, wasmer:7.2); the often-quoted 4 GiB + 2 GiB are 6.1-7.2.0's",
            ),
            WasmerRelease::V7_3 => (
                "wasmer:7.3",
                "Wasmer 7.3.0 (model)",
                WASMER_7_3_STATIC_GUARD_BYTES,
                Some(WASMER_DYNAMIC_GUARD_BYTES),
                "Wasmer 7.3.0 (crates at git 35c10644): BaseTunables::for_target on a 64-bit target: static when the maximum is at most the 4 GiB bound, with a 4 GiB guard; otherwise dynamic with a 64 KiB guard, moving when it outgrows its reservation",
            ),
            WasmerRelease::V7_2 => (
                "wasmer:7.2",
                "Wasmer 6.1-7.2.0 (model)",
                WASMER_7_2_STATIC_GUARD_BYTES,
                Some(WASMER_DYNAMIC_GUARD_BYTES),
                "Wasmer 7.2.0 (crates at git 93bd0210; 6.1.0 alike): BaseTunables::for_target on a 64-bit target: static when the maximum is at most the 4 GiB bound, with a 2 GiB guard; otherwise dynamic with a 64 KiB guard, moving when it outgrows its reservation",
            ),
        };
        let mut p = Profile::source_model(
            key.into(),
            name.into(),
            Runtime::WasmerModel,
            WASMER_STATIC_BOUND_BYTES,
            guard,
            dynamic.is_some(),
            true,
            format!(
                "a model of Wasmer's sys backend from its published crates, not a run; 64-bit host; {detail}; memory64 and custom page sizes are not supported (rejected)"
            ),
        );
        p.dynamic_guard_bytes = dynamic;
        p
    }

    /// A model of wasm3: the memory is a heap block of its current size, no
    /// reservation and no guard, reallocated to grow; every access checked.
    pub fn wasm3_model() -> Profile {
        Profile::source_model(
            "wasm3".into(),
            "wasm3 0.9.0 (model)".into(),
            Runtime::Wasm3Model,
            0,
            0,
            true,
            false,
            format!(
                "a model of wasm3's sources, not a run: {WASM3_SOURCE}; the memory is allocated with its current size and reallocated (realloc) to grow, free to move; no guard; every access checked; custom page sizes supported, memory64, shared memories and more than one memory not (rejected)"
            ),
        )
    }

    /// `wamr[:software][:heap=<bytes>]` after the `wamr`.
    fn wamr_from_parts(spec: &str, parts: &[Option<&str>]) -> Result<Profile, LayoutError> {
        let mut hardware = true;
        let mut heap = WAMR_IWASM_APP_HEAP_BYTES;
        for part in parts.iter().flatten() {
            if *part == "software" {
                hardware = false;
            } else if let Some(bytes) = part.strip_prefix("heap=") {
                heap = bytes.parse().map_err(|_| LayoutError::UnknownProfile {
                    spec: spec.to_string(),
                    message: format!("`{bytes}` is not an app heap size in bytes"),
                })?;
            } else {
                return Err(LayoutError::UnknownProfile {
                    spec: spec.to_string(),
                    message: format!("`{part}`: expected wamr[:software][:heap=<bytes>]"),
                });
            }
        }
        Ok(Profile::wamr_model(hardware, heap))
    }

    /// Parses a command-line profile name: `jit`, `aot:<target>`,
    /// `explicit[:<target>]`, `limit:<pages>[:<target>]`, `wasmedge[:<pages>]`,
    /// `v8[:explicit]`, `wamr[:software][:heap=<bytes>]`, `wasmer[:7.3|:7.2]`,
    /// `wasm3`.
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
            ("v8", None, None) => Ok(Profile::v8_model(true)),
            ("v8", Some("explicit"), None) => Ok(Profile::v8_model(false)),
            ("wamr", first, second) => Profile::wamr_from_parts(spec, &[first, second]),
            ("wasmer", None, None) => Ok(Profile::wasmer_model(WasmerRelease::V7_5)),
            ("wasmer", Some(version), None) => WasmerRelease::from_version(version)
                .map(Profile::wasmer_model)
                .ok_or_else(|| {
                    unknown(format!(
                        "Wasmer `{version}` is not modelled: wasmer (7.5.0), wasmer:7.3 or wasmer:7.2"
                    ))
                }),
            ("wasm3", None, None) => Ok(Profile::wasm3_model()),
            _ => Err(unknown(
                "expected jit, aot:<target>, explicit[:<target>], limit:<pages>[:<target>], wasmedge[:<pages>], v8[:explicit], wamr[:software][:heap=<bytes>], wasmer[:7.3|:7.2] or wasm3".into(),
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
            // `page_limit_for` gives no limit for these.
            Runtime::V8Model | Runtime::WamrModel | Runtime::WasmerModel | Runtime::Wasm3Model => {
                PageLimitOutcome::NoLimit
            }
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
            // An embedder's page limit is not part of these models; their own
            // page caps are in `runtimes`.
            Runtime::V8Model | Runtime::WamrModel | Runtime::WasmerModel | Runtime::Wasm3Model => {
                None
            }
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
        if self.runtime.is_source_model() {
            return self.source_model_summary();
        }
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

impl Profile {
    /// What a source model reserves and how it checks, in one line.
    fn source_model_summary(&self) -> String {
        let reservation = human_bytes(self.memory_reservation_bytes.into());
        let guard = human_bytes(self.memory_guard_size_bytes.into());
        match self.runtime {
            Runtime::V8Model if self.signals_based_traps => format!(
                "reservation {reservation} from the base (memory64: {}), no guard before, grows in place, out-of-bounds accesses caught by guard pages",
                human_bytes(V8_MAX_MEMORY64_BYTES.into())
            ),
            Runtime::V8Model => "reservation = the maximum (declared, else 65,536 or 262,144 pages), no guard, every access checked explicitly, may copy to grow".into(),
            Runtime::WamrModel => {
                let heap = human_bytes(self.app_heap_bytes.unwrap_or(0).into());
                if self.signals_based_traps {
                    format!(
                        "{reservation} mapped per memory, the rest past the current size acting as guard, grows in place, hardware bounds checks; app heap {heap}"
                    )
                } else {
                    format!(
                        "maps the initial size (shared: the maximum), grows by mremap (may move), software bounds checks; app heap {heap}"
                    )
                }
            }
            Runtime::WasmerModel => match self.dynamic_guard_bytes {
                None => format!(
                    "static: bound {reservation} + guard {guard}, grows in place, guard pages"
                ),
                Some(dynamic) => format!(
                    "static when the maximum fits the {reservation} bound: bound + guard {guard}, grows in place; else dynamic: minimum + guard {}, moves to grow",
                    human_bytes(dynamic.into())
                ),
            },
            Runtime::Wasm3Model => "no reservation, no guard: the current size on the heap, realloc to grow (may move), every access checked explicitly".into(),
            Runtime::Wasmtime | Runtime::WasmEdgeModel => String::new(),
        }
    }
}

/// 4 GiB: the size of a 32-bit index space, used by the elision rule.
pub const FOUR_GIB: u128 = 4 * GIB;
