//! Runtimes beyond Wasmtime and WasmEdge, modelled from their sources: V8,
//! WAMR, Wasmer and wasm3. For one memory of a module under one of their
//! profiles: whether the runtime takes the module at all (and what it says
//! when it does not), what it commits, reserves and guards, how an
//! out-of-bounds access is caught, what happens when the memory grows, and
//! where WAMR puts its app heap. Each rule cites the file and line it comes
//! from, in the version named by the `*_SOURCE` constants in `profile`, where
//! the numbers are. These are models of the code, not measured runs.

use wasmparser::ValType;

use super::model::{MemoryInfo, ModuleLayout};
use super::profile::{
    Profile, Runtime, V8_FULL_GUARD_SIZE32_BYTES, V8_MAX_MEMORY32_PAGES, V8_MAX_MEMORY64_BYTES,
    V8_MAX_MEMORY64_PAGES, WAMR_DEFAULT_MAX_PAGES, WAMR_DEFAULT_MEM64_MAX_PAGES,
    WAMR_HW_BOUND_MAP_BYTES, WASM3_MAX_MEMORY_BYTES,
};
use super::units::{KIB, hex, human_bytes};

/// How an out-of-bounds access to a memory is caught under a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundsChecking {
    /// Wasmtime: decided access by access (`checks`): no check where the
    /// reservation and guard cover the offset, an explicit one elsewhere.
    PerAccess,
    /// No check in the code: the access faults in no-access pages of the
    /// reservation and the runtime's signal handler makes the fault a trap.
    GuardPages,
    /// Every access compares its address with the memory's current size.
    Explicit,
    /// The profile's model does not say (WasmEdge's documented model).
    NotModelled,
    /// The runtime rejects the module: no access ever runs.
    NotApplicable,
}

impl BoundsChecking {
    pub fn describe(self) -> &'static str {
        match self {
            BoundsChecking::PerAccess => {
                "decided per access: no check where the guard covers the offset, an explicit check otherwise"
            }
            BoundsChecking::GuardPages => {
                "guard pages: no check in the code, an out-of-bounds access faults in the no-access reservation and traps"
            }
            BoundsChecking::Explicit => {
                "explicit: every access is compared with the memory's current size"
            }
            BoundsChecking::NotModelled => "not modelled for this runtime",
            BoundsChecking::NotApplicable => "none: the module is rejected",
        }
    }
}

/// What happens when the memory grows past the space it can grow into
/// without moving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Beyond {
    /// `memory.grow` fails: the memory never moves.
    Fails,
    /// The memory is copied to a new, larger reservation: it moves.
    Copies,
    /// The memory is reallocated (`realloc`, `mremap` with `MREMAP_MAYMOVE`):
    /// it may move.
    Reallocates { how: &'static str },
}

/// WAMR's host-managed app heap, inside memory 0.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AppHeap {
    pub start_bytes: u128,
    pub size_bytes: u128,
    /// Which of WAMR's placements, in words, with the source line.
    pub placement: String,
}

/// One memory under a source model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelledMemory {
    /// Why the runtime refuses the module, with its own message and the
    /// source line. When set, nothing below describes a real memory.
    pub rejected: Option<String>,
    /// Why instantiation fails although the module loads.
    pub fails: Option<String>,
    pub committed_bytes: u128,
    /// The most it can hold under this runtime.
    pub maximum_bytes: u128,
    /// Where it can grow to without moving (its part of the reservation).
    pub capacity_bytes: u128,
    /// No-access reservation after `capacity_bytes`.
    pub guard_after_bytes: u128,
    pub beyond: Beyond,
    pub checking: BoundsChecking,
    pub app_heap: Option<AppHeap>,
    /// What else the model knows about this memory, in sentences with citations.
    pub notes: Vec<String>,
}

impl ModelledMemory {
    fn rejected(reason: String) -> ModelledMemory {
        ModelledMemory {
            rejected: Some(reason),
            fails: None,
            committed_bytes: 0,
            maximum_bytes: 0,
            capacity_bytes: 0,
            guard_after_bytes: 0,
            beyond: Beyond::Fails,
            checking: BoundsChecking::NotApplicable,
            app_heap: None,
            notes: Vec::new(),
        }
    }
}

/// `memory` of `module` under `profile`, for the source models; `None` for
/// Wasmtime and WasmEdge, which `map` lays out itself.
pub fn modelled_memory(
    profile: &Profile,
    module: &ModuleLayout,
    memory: &MemoryInfo,
) -> Option<ModelledMemory> {
    match profile.runtime {
        Runtime::V8Model => Some(v8(profile, module, memory)),
        Runtime::WamrModel => Some(wamr(profile, module, memory)),
        Runtime::WasmerModel => Some(wasmer(profile, module, memory)),
        Runtime::Wasm3Model => Some(wasm3(module, memory)),
        Runtime::Wasmtime | Runtime::WasmEdgeModel => None,
    }
}

/// The limits byte of a memory type: bit 0 maximum, 1 shared, 2 memory64,
/// 3 custom page size.
fn limits_flags(m: &MemoryInfo) -> u8 {
    u8::from(m.max_pages.is_some())
        | (u8::from(m.shared) << 1)
        | (u8::from(m.memory64) << 2)
        | (u8::from(m.custom_page_size_log2.is_some()) << 3)
}

fn page_words(m: &MemoryInfo) -> String {
    format!("{}-byte pages", m.page_size_bytes)
}

// ---------------------------------------------------------------------------
// V8 (lines in the V8 15.0.0.0 candidate tree named by `profile::V8_SOURCE`)

fn v8_rejection(module: &ModuleLayout) -> Option<String> {
    // Memories are decoded in index order (imports first), the limits byte
    // before the sizes.
    for m in &module.memories {
        if m.custom_page_size_log2.is_some() {
            return Some(format!(
                "V8 rejects the module while decoding it: {} declares {} (custom page sizes), and V8 accepts only limits flags 0 to 7 (src/wasm/module-decoder-impl.h:2474, 2492-2494): \"invalid memory limits flags 0x{:x}\"",
                m.label(),
                page_words(m),
                limits_flags(m)
            ));
        }
        let limit = if m.memory64 {
            V8_MAX_MEMORY64_PAGES
        } else {
            V8_MAX_MEMORY32_PAGES
        };
        // module-decoder-impl.h:1345-1350 passes kSpecMaxMemory{32,64}Pages
        // as both limits to consume_resizable_limits.
        if m.min_pages > limit {
            return Some(format!(
                "V8 rejects the module while decoding it: {} has an initial size of {} pages: \"initial memory size ({} pages) is larger than implementation limit ({limit} pages)\" (src/wasm/module-decoder-impl.h:1345-1350, 2586-2590; src/wasm/wasm-limits.h:25-26)",
                m.label(),
                m.min_pages,
                m.min_pages
            ));
        }
        if let Some(max) = m.max_pages.filter(|max| *max > limit) {
            return Some(format!(
                "V8 rejects the module while decoding it: {} declares a maximum of {max} pages: \"maximum memory size ({max} pages) is larger than implementation limit ({limit} pages)\" (src/wasm/module-decoder-impl.h:1345-1350, 2602-2606; src/wasm/wasm-limits.h:25-26)",
                m.label()
            ));
        }
    }
    None
}

fn v8(profile: &Profile, module: &ModuleLayout, memory: &MemoryInfo) -> ModelledMemory {
    if let Some(reason) = v8_rejection(module) {
        return ModelledMemory::rejected(reason);
    }
    let trap_handler = profile.signals_based_traps;
    let engine_max = if memory.memory64 {
        V8_MAX_MEMORY64_PAGES
    } else {
        V8_MAX_MEMORY32_PAGES
    };
    // `has_maximum ? std::min(engine_maximum, maximum) : engine_maximum`
    // (src/wasm/wasm-objects.cc:875-877); the capacity in-place growth stops
    // at (src/objects/backing-store.cc:552).
    let max_pages = memory.max_pages.map_or(engine_max, |m| m.min(engine_max));
    let maximum = u128::from(max_pages) << 16;
    let mut notes = Vec::new();
    if module.memories.len() > 1 {
        notes.push("several memories: V8 decodes up to 100,000 and only records the multi-memory feature (src/wasm/module-decoder-impl.h:1323-1354)".to_string());
    }
    if trap_handler {
        // has_guard_regions (backing-store.cc:446-449); the reservation
        // (backing-store.cc:72-99) starts at the base (backing-store.cc:56-63, 375).
        let reservation = if memory.memory64 {
            notes.push("memory64 with trap handling: --wasm-memory64-trap-handling (\"Use trap handling for Wasm memory64 bounds checks\") is on by default on x64, arm64, riscv64 and loong64 (src/flags/flag-definitions.h:2274-2282), so V8 reserves kMaxMemory64Size, 16 GiB (src/wasm/wasm-limits.h:120-122; one more OS page on arm64, backing-store.cc:72-99); the code V8 generates for a 64-bit index beyond that reservation was not read".to_string());
            u128::from(V8_MAX_MEMORY64_BYTES)
        } else {
            notes.push("V8 reserves kFullGuardSize32, 8 GiB, from the base whatever the maximum (src/objects/backing-store.cc:36-38, 72-99), nothing before it (backing-store.cc:56-63, 375)".to_string());
            u128::from(V8_FULL_GUARD_SIZE32_BYTES)
        };
        notes.push("the whole reservation is registered with the trap handler (backing-store.cc:480-490); a memory with guard regions must grow in place (src/wasm/wasm-objects.cc:1065-1067)".to_string());
        ModelledMemory {
            rejected: None,
            fails: None,
            committed_bytes: memory.min_bytes(),
            maximum_bytes: maximum,
            capacity_bytes: maximum,
            guard_after_bytes: reservation.saturating_sub(maximum),
            beyond: Beyond::Fails,
            checking: BoundsChecking::GuardPages,
            app_heap: None,
            notes,
        }
    } else {
        notes.push(format!(
            "without guard regions V8 reserves maximum_pages x 64 KiB = {} (src/objects/backing-store.cc:333-335, 72-99): the declared maximum, else the engine's {engine_max} pages (src/wasm/wasm-objects.cc:875-877, src/wasm/wasm-limits.h:42-47)",
            human_bytes(maximum)
        ));
        notes.push("if that reservation fails V8 retries with smaller maxima down to the initial size (backing-store.cc:463-478); growth past a smaller reservation allocates a new store and copies, so the memory moves (src/wasm/wasm-objects.cc:1065-1074, 1128-1143; backing-store.cc:495-517), except a shared memory, which must grow in place".to_string());
        ModelledMemory {
            rejected: None,
            fails: None,
            committed_bytes: memory.min_bytes(),
            maximum_bytes: maximum,
            capacity_bytes: maximum,
            guard_after_bytes: 0,
            beyond: if memory.shared {
                Beyond::Fails
            } else {
                Beyond::Copies
            },
            checking: BoundsChecking::Explicit,
            app_heap: None,
            notes,
        }
    }
}

// ---------------------------------------------------------------------------
// WAMR (lines at tag WAMR-2.4.5, `profile::WAMR_SOURCE`)

fn wamr_rejection(module: &ModuleLayout) -> Option<String> {
    for m in &module.memories {
        if m.custom_page_size_log2.is_some() {
            return Some(format!(
                "WAMR rejects the module while loading it: {} declares {} (custom page sizes); its limits flags 0x{:x} are above 7, and every build answers \"WASM module load failed: invalid limits flags\" (core/iwasm/common/wasm_loader_common.c:79-83)",
                m.label(),
                page_words(m),
                limits_flags(m)
            ));
        }
    }
    let wide: Vec<String> = module
        .memories
        .iter()
        .filter(|m| m.memory64)
        .map(|m| format!("memory {}", m.index))
        .collect();
    if !wide.is_empty() && wide.len() < module.memories.len() {
        return Some(format!(
            "WAMR rejects the module while loading it: it mixes 64-bit memories ({}) with 32-bit ones; a build with memory64 and multi-memory answers \"inconsistent limits wasm64 flags for memory sections\" (core/iwasm/common/wasm_loader_common.c:22-49, called at core/iwasm/interpreter/wasm_loader.c:6587-6591), and a default build already stops at \"multiple memories\" (wasm_loader.c:4224-4229)",
            wide.join(", ")
        ));
    }
    None
}

/// Build options the module needs beyond a default WAMR build, in sentences.
fn wamr_build_notes(module: &ModuleLayout, hardware_asked: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if module.memories.len() > 1 {
        notes.push(format!(
            "{} memories need a build with WAMR_BUILD_MULTI_MEMORY=1 (off by default, build-scripts/config_common.cmake:198-200; a default build answers \"multiple memories\", core/iwasm/interpreter/wasm_loader.c:4224-4229); modelled as built with it",
            module.memories.len()
        ));
    }
    if module.memories.iter().any(|m| m.shared) {
        notes.push("a shared memory needs a build with WAMR_BUILD_SHARED_MEMORY=1 (off by default, build-scripts/config_common.cmake:202-204; a default build answers \"invalid limits flags\", core/iwasm/common/wasm_loader_common.c:60-66); modelled as built with it".into());
    }
    if module.memories.iter().any(|m| m.memory64) {
        notes.push(format!(
            "memory64 needs a build with WAMR_BUILD_MEMORY64=1 (off by default, core/config.h:678-681; a default build answers \"invalid limits flags\", core/iwasm/common/wasm_loader_common.c:69-75), and that build sets WAMR_DISABLE_HW_BOUND_CHECK for everything it runs (build-scripts/config_common.cmake:345-352, 363-366){}",
            if hardware_asked {
                ": so under this profile too the memory is modelled with software bounds checks"
            } else {
                ""
            }
        ));
    }
    notes
}

/// `__heap_base` as WAMR's loader finds it: exported with `__data_end`,
/// both defined, immutable `i32.const` globals, and `__data_end` rounded up
/// to 16 not above `__heap_base` (wasm_loader.c:6281-6350).
fn wamr_aux_heap_base(module: &ModuleLayout) -> Option<u64> {
    let exported = |name: &str| {
        module
            .layout_global(name)
            .filter(|g| g.recognised_by == "export")
            .and_then(|g| g.plain_i32_const())
            .map(u64::from)
    };
    let heap_base = exported("__heap_base")?;
    let data_end = exported("__data_end")?;
    (data_end.next_multiple_of(16) <= heap_base).then_some(heap_base)
}

/// The exported malloc and free WAMR looks for (wasm_loader.c:6398-6491):
/// `malloc` taking and returning the address type (or AssemblyScript's
/// `__new` with `__retain`/`__pin`), and `free`, `__release` or `__unpin`
/// taking it; only functions the module defines count.
fn wamr_malloc_and_free(module: &ModuleLayout) -> Option<(String, String)> {
    let addr = if module.memories.iter().any(|m| m.memory64) {
        ValType::I64
    } else {
        ValType::I32
    };
    let defined = |name: &str, params: &[ValType], results: &[ValType]| {
        module
            .function_exports
            .iter()
            .find(|e| e.name == name && !e.imported && e.params == params && e.results == results)
    };
    let malloc = defined("malloc", &[addr], &[addr])
        .map(|e| e.name.clone())
        .or_else(|| {
            let new = defined("__new", &[addr, ValType::I32], &[addr])?;
            let retain = defined("__retain", &[addr], &[addr])
                .or_else(|| defined("__pin", &[addr], &[addr]))?;
            Some(format!("{} with {}", new.name, retain.name))
        })?;
    let free = ["free", "__release", "__unpin"]
        .into_iter()
        .find_map(|n| defined(n, &[addr], &[]))?;
    Some((malloc, free.name.clone()))
}

fn wamr(profile: &Profile, module: &ModuleLayout, memory: &MemoryInfo) -> ModelledMemory {
    if let Some(reason) = wamr_rejection(module) {
        return ModelledMemory::rejected(reason);
    }
    let any_memory64 = module.memories.iter().any(|m| m.memory64);
    let hardware = profile.signals_based_traps && !any_memory64;
    let mut notes = wamr_build_notes(module, profile.signals_based_traps);
    let mut fails = None;

    // The loader: a missing maximum is the default, a larger one clamped
    // (wasm_loader.c:3477-3491; wasm.h:110-111).
    let default_max = u128::from(if memory.memory64 {
        WAMR_DEFAULT_MEM64_MAX_PAGES
    } else {
        WAMR_DEFAULT_MAX_PAGES
    });
    let mut page_bytes: u128 = 1 << 16;
    let mut init = u128::from(memory.min_pages);
    let mut max = memory
        .max_pages
        .map_or(default_max, |m| u128::from(m).min(default_max));
    let imported = module
        .memories
        .iter()
        .filter(|m| m.import.is_some())
        .count() as u32;
    // The loader's resizing touches import_memories[0] and memories[0]: the
    // first imported and the first defined memory.
    let first_of_its_kind =
        memory.index == 0 || (memory.import.is_none() && memory.index == imported);
    let heap_base = wamr_aux_heap_base(module);
    if first_of_its_kind && !module.memory_size_or_grow {
        // WASM_ENABLE_SHRUNK_MEMORY is on by default (core/config.h:711-713,
        // build-scripts/config_common.cmake:174-177).
        if let Some(hb) = heap_base {
            let shrunk = u128::from(hb.next_multiple_of(8));
            if shrunk <= u128::from(u32::MAX) && shrunk <= init * page_bytes {
                notes.push(format!(
                    "no memory.size or memory.grow in the module: WAMR shrinks the memory to __heap_base rounded up to 8, {} (core/iwasm/interpreter/wasm_loader.c:6512-6552)",
                    human_bytes(shrunk)
                ));
                page_bytes = shrunk;
                init = 1;
            }
        }
        // Multi-module is off by default (product-mini/platforms/linux/CMakeLists.txt:87-90).
        if init < u128::from(WAMR_DEFAULT_MAX_PAGES) {
            notes.push(format!(
                "no memory.size or memory.grow in the module: WAMR makes the initial memory {} that cannot grow (core/iwasm/interpreter/wasm_loader.c:6554-6584)",
                if init > 0 {
                    format!("one page of {}", human_bytes(page_bytes * init))
                } else {
                    "zero pages".to_string()
                }
            ));
            page_bytes *= init;
            (init, max) = if init > 0 { (1, 1) } else { (0, 0) };
        }
    }

    // Instantiation: the app heap goes into memory 0
    // (core/iwasm/interpreter/wasm_runtime.c:309-419).
    let mut app_heap = None;
    if memory.index == 0 {
        let mut heap = u128::from(profile.app_heap_bytes.unwrap_or(0));
        if heap > 0
            && let Some((malloc, free)) = wamr_malloc_and_free(module)
        {
            notes.push(format!(
                "the module exports {malloc} and {free}: WAMR disables its app heap and uses them (wasm_runtime.c:315-322; detection wasm_loader.c:6398-6491)"
            ));
            heap = 0;
        }
        let max_linear = if memory.memory64 {
            u128::from(WAMR_DEFAULT_MEM64_MAX_PAGES) << 16
        } else {
            4 << 30
        };
        let cannot_insert =
            "\"failed to insert app heap into linear memory, try using `--heap-size=0` option\"";
        if heap > 0 && page_bytes * init == max_linear {
            fails = Some(format!(
                "WAMR: the initial memory is the largest allowed, so {cannot_insert} (wasm_runtime.c:324-331)"
            ));
        } else if init == 1 && max == 1 {
            // (a) one page, at most one: the heap enlarges the page.
            if heap > 0 {
                app_heap = Some(AppHeap {
                    start_bytes: page_bytes,
                    size_bytes: heap,
                    placement: "appended after the memory's only page, which it enlarges (wasm_runtime.c:334-346)".into(),
                });
                if page_bytes + heap > u128::from(u32::MAX) {
                    fails = Some(format!("WAMR: {cannot_insert} (wasm_runtime.c:340-345)"));
                }
            }
            page_bytes += heap;
        } else if heap > 0 {
            let inc;
            if init == 0 && max == 0 {
                // (b) no memory at all: one page holding only the heap.
                page_bytes = heap;
                inc = 1;
                app_heap = Some(AppHeap {
                    start_bytes: 0,
                    size_bytes: heap,
                    placement: "the memory had no pages: one page of the heap alone (wasm_runtime.c:348-354)".into(),
                });
            } else if let Some(hb) = heap_base
                .map(u128::from)
                .filter(|hb| *hb < page_bytes * init)
            {
                // (c) before __heap_base, which moves up by the heap's size.
                let to_page_end = |at: u128| {
                    let mut last = at % page_bytes;
                    if last == 0 {
                        last = page_bytes;
                    }
                    page_bytes - last
                };
                let mut grown =
                    (heap + page_bytes - 1).saturating_sub(to_page_end(hb)) / page_bytes;
                let mut new_base = hb + heap;
                if to_page_end(new_base) < KIB {
                    new_base += KIB;
                    grown += 1;
                }
                inc = grown;
                app_heap = Some(AppHeap {
                    start_bytes: hb,
                    size_bytes: heap,
                    placement: format!(
                        "inserted at __heap_base {}, which WAMR moves to {} (wasm_runtime.c:357-398)",
                        hex(hb as i128),
                        hex(new_base as i128)
                    ),
                });
                notes.push(format!(
                    "__heap_base is rewritten from {} to {} at instantiation (wasm_runtime.c:381-397)",
                    hex(hb as i128),
                    hex(new_base as i128)
                ));
            } else {
                // (d) new pages after the old end, less 1 KiB.
                inc = heap.div_ceil(page_bytes);
                let size = page_bytes * inc - KIB;
                app_heap = Some(AppHeap {
                    start_bytes: page_bytes * init,
                    size_bytes: size,
                    placement: format!(
                        "appended as {inc} new page(s) after the initial memory, less 1 KiB (wasm_runtime.c:399-407)"
                    ),
                });
            }
            init += inc;
            max += inc;
            if init > default_max {
                fails = Some(format!(
                    "WAMR: the heap's pages take the initial size past {default_max} pages, so {cannot_insert} (wasm_runtime.c:408-418)"
                ));
            }
            max = max.min(default_max);
        }
    }
    let committed = init * page_bytes;
    let maximum = max * page_bytes;
    let (capacity, guard_after, beyond, checking) = if hardware {
        notes.push("hardware bounds checks: 8 GiB mapped no-access per memory, its current size made read-write (core/iwasm/common/wasm_memory.c:1960-1973, 1483-1527); a fault below base + 8 GiB is an out-of-bounds trap (core/iwasm/common/wasm_runtime_common.c:184-206); growth makes more of it read-write in place (wasm_memory.c:1554-1560, 1633-1654)".into());
        let reservation = u128::from(WAMR_HW_BOUND_MAP_BYTES);
        (
            maximum,
            reservation.saturating_sub(maximum),
            Beyond::Fails,
            BoundsChecking::GuardPages,
        )
    } else if memory.shared {
        notes.push("software bounds checks, shared memory: WAMR maps the maximum up front (core/iwasm/common/wasm_memory.c:1949-1955) and grows in place (wasm_memory.c:1554-1560)".into());
        (maximum, 0, Beyond::Fails, BoundsChecking::Explicit)
    } else {
        notes.push("software bounds checks: WAMR maps the initial size only (core/iwasm/common/wasm_memory.c:1956-1959) and grows with mremap(MREMAP_MAYMOVE), so the memory may move (wasm_memory.c:1655-1690; core/shared/platform/common/posix/posix_memmap.c:250-260)".into());
        (
            committed,
            0,
            Beyond::Reallocates {
                how: "mremap with MREMAP_MAYMOVE",
            },
            BoundsChecking::Explicit,
        )
    };
    ModelledMemory {
        rejected: None,
        fails,
        committed_bytes: committed,
        maximum_bytes: maximum,
        capacity_bytes: capacity,
        guard_after_bytes: guard_after,
        beyond,
        checking,
        app_heap,
        notes,
    }
}

// ---------------------------------------------------------------------------
// Wasmer (lines in the published crates named in `profile::WASMER_*`)

fn wasmer(profile: &Profile, module: &ModuleLayout, memory: &MemoryInfo) -> ModelledMemory {
    for m in &module.memories {
        if m.memory64 {
            return ModelledMemory::rejected(format!(
                "Wasmer rejects the module: {} is 64-bit. Its default features leave memory64 off (wasmer-types Features::new, lib/types/src/features.rs:62), so validation fails (lib/compiler/src/compiler.rs:222-245 in 7.5.0); with memory64 turned on, translation panics with \"64bit memory not implemented yet\" (lib/compiler/src/translator/sections.rs:252, imports :154, in 7.2.0 to 7.5.0)",
                m.label()
            ));
        }
        if m.custom_page_size_log2.is_some() {
            return ModelledMemory::rejected(format!(
                "Wasmer rejects the module: {} declares {} (custom page sizes); its validator never enables the proposal (lib/compiler/src/compiler.rs:222-245 in 7.5.0, :217 in 7.3.0) and its memory types have no page size (\"WebAssembly page sizes are fixed to be 64KiB\", lib/types/src/units.rs:10)",
                m.label(),
                page_words(m)
            ));
        }
    }
    let mut notes = Vec::new();
    if module.memories.len() > 1 {
        notes.push("several memories: multi-memory is on in the default features of Wasmer 7.3.0 and 7.5.0 (lib/types/src/features.rs:61); 7.2.0's wasmer-types was not read, so it is modelled alike".into());
    }
    // `memory.maximum.unwrap_or_else(Pages::max_value)` (7.3.0
    // lib/compiler/src/engine/tunables.rs:249).
    let maximum = memory.max_bytes();
    let bound = u128::from(profile.memory_reservation_bytes);
    let is_static = profile.dynamic_guard_bytes.is_none() || maximum <= bound;
    if is_static {
        notes.push(format!(
            "static memory: {} reserved up front (the bound) plus a {} guard, the minimum made accessible, growth in place (lib/vm/src/memory.rs:329-353, 116-121); the reservation lets the generated code omit bounds checks (lib/types/src/memory.rs:27-30 in 7.5.0)",
            human_bytes(bound),
            human_bytes(profile.memory_guard_size_bytes.into())
        ));
        ModelledMemory {
            rejected: None,
            fails: None,
            committed_bytes: memory.min_bytes(),
            maximum_bytes: maximum,
            capacity_bytes: bound,
            guard_after_bytes: profile.memory_guard_size_bytes.into(),
            beyond: Beyond::Fails,
            checking: BoundsChecking::GuardPages,
            app_heap: None,
            notes,
        }
    } else {
        let guard = u128::from(profile.dynamic_guard_bytes.unwrap_or(0));
        notes.push(format!(
            "dynamic memory (its maximum exceeds the {} bound): the minimum plus a {} guard reserved; growing past it maps anew and copies, so the memory moves (lib/vm/src/memory.rs:96-115 in 7.3.0), and accesses are checked against the current size",
            human_bytes(bound),
            human_bytes(guard)
        ));
        ModelledMemory {
            rejected: None,
            fails: None,
            committed_bytes: memory.min_bytes(),
            maximum_bytes: maximum,
            capacity_bytes: memory.min_bytes(),
            guard_after_bytes: guard,
            beyond: Beyond::Copies,
            checking: BoundsChecking::Explicit,
            app_heap: None,
            notes,
        }
    }
}

// ---------------------------------------------------------------------------
// wasm3 (lines at HEAD c9b579d8, `profile::WASM3_SOURCE`)

fn wasm3(module: &ModuleLayout, memory: &MemoryInfo) -> ModelledMemory {
    let unsupported_flags = |m: &MemoryInfo| {
        (m.shared || m.memory64).then(|| {
            format!(
                "wasm3 rejects the module while parsing it: {} is {}; wasm3 reads only limits flag bits 0 (maximum) and 3 (page size), so flags 0x{:x} give \"malformed Wasm binary\" (source/m3_parse.c:218-220; source/wasm3.h:155)",
                m.label(),
                match (m.memory64, m.shared) {
                    (true, true) => "64-bit and shared",
                    (true, false) => "64-bit (memory64)",
                    _ => "shared",
                },
                limits_flags(m)
            )
        })
    };
    // The import section is parsed first (its memory's flags, then the count,
    // m3_parse.c:386, 432), the memory section's count before its flags
    // (m3_parse.c:996-1001).
    if let Some(reason) = module
        .memories
        .iter()
        .filter(|m| m.import.is_some())
        .find_map(unsupported_flags)
    {
        return ModelledMemory::rejected(reason);
    }
    if module.memories.len() > 1 {
        return ModelledMemory::rejected(format!(
            "wasm3 rejects the module while parsing it: it has {} memories and wasm3 takes one: \"only one memory per module is supported\" (source/m3_parse.c:432, 996-997; source/wasm3.h:165)",
            module.memories.len()
        ));
    }
    if let Some(reason) = module.memories.iter().find_map(unsupported_flags) {
        return ModelledMemory::rejected(reason);
    }
    let page = u128::from(memory.page_size_bytes);
    // The declared maximum, else 2^32 / page size pages (source/m3_env.c:353-364),
    // capped at 4 GiB (source/m3_env.c:395-401).
    let max_pages = memory
        .max_pages
        .map_or(((1u128 << 32) / page).min(u128::from(u32::MAX)), u128::from);
    let maximum = (max_pages * page).min(u128::from(WASM3_MAX_MEMORY_BYTES));
    let committed = memory.min_bytes();
    let mut notes = vec![
        "the memory is one heap block of its current size after a header of three pointer-sized fields (runtime, maxStack, length; source/m3_core.h:137-143), allocated and grown with m3_Realloc (source/m3_env.c:373-437), which is realloc and zeroing (source/m3_core.c:137-151): no reservation, no guard, and it may move on every growth (memory.grow reloads the base, source/m3_exec.h:903-929)".to_string(),
        "every load and store compares its address with the current length (source/m3_exec.h:1725-1754) unless built with d_m3SkipMemoryBoundsCheck (0 by default, source/m3_config.h:213-215)".to_string(),
    ];
    if let Some(log2) = memory.custom_page_size_log2 {
        notes.push(format!(
            "custom page size 2^{log2} accepted (any log2 up to 16, source/m3_parse.c:234-251)"
        ));
    }
    if memory.import.is_some() {
        notes.push("an imported memory is the host's: wasm3 allocates only a memory the module defines (source/m3_env.c:347-370)".into());
    }
    ModelledMemory {
        rejected: None,
        fails: None,
        committed_bytes: committed,
        maximum_bytes: maximum,
        capacity_bytes: committed,
        guard_after_bytes: 0,
        beyond: Beyond::Reallocates { how: "realloc" },
        checking: BoundsChecking::Explicit,
        app_heap: None,
        notes,
    }
}
