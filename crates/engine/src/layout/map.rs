//! Per-profile address maps: for one memory under one profile, every range of
//! address space relative to the memory's base (guard before, initial pages,
//! growable space, unused reservation, guard after), with the data segments,
//! the inferred stack and the heap start placed inside.
//!
//! Wasmtime's sizes follow `MmapMemory::new` in wasmtime 48.0.8
//! `src/runtime/vm/memory/mmap.rs:51–125` (the default memory creator whenever
//! signals-based traps, a guard, a reservation or copy-on-write init is on,
//! `src/runtime/vm/memory.rs:138–146`; copy-on-write init is on by default, so
//! every profile here takes that path). Sizes are not rounded to host pages.
//! The V8, WAMR, Wasmer and wasm3 models come from `runtimes`: what they
//! reserve, how they check and grow, and what they reject.

use std::collections::BTreeMap;

use super::checks::{self, CheckKind, OobBehavior};
use super::model::{AccessSite, MemoryInfo, ModuleLayout};
use super::profile::{PageLimitOutcome, Profile, Runtime};
use super::runtimes::{self, Beyond, BoundsChecking, ModelledMemory};
use super::units::{hex, human_bytes, pages_from_bytes, pages_from_bytes_ceil, plural};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    GuardBefore,
    /// The initial pages, accessible at instantiation.
    Committed,
    /// Space the memory can grow into without moving.
    Growable,
    /// Reserved but never usable: beyond the maximum or the page limit.
    ReservedUnused,
    GuardAfter,
}

/// A range of address space, `[start, end)` relative to the memory base.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Region {
    pub kind: RegionKind,
    pub start_bytes: i128,
    pub end_bytes: i128,
    pub label: String,
}

impl Region {
    pub fn size_bytes(&self) -> u128 {
        (self.end_bytes - self.start_bytes).unsigned_abs()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    DataSegment,
    Stack,
    HeapBase,
    DataEnd,
    /// A heap the runtime itself places in the memory (WAMR's app heap).
    AppHeap,
}

/// Something the module places in its memory.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Marker {
    pub kind: MarkerKind,
    /// For data segments: the segment index.
    pub segment: Option<u32>,
    pub start_bytes: u128,
    /// Equal to `start_bytes` for a point (heap base, data end).
    pub end_bytes: u128,
    pub label: String,
    /// True for what we infer (the stack) rather than read.
    pub inferred: bool,
    /// What is wrong with its position under this profile, in words.
    pub problem: Option<String>,
}

/// What happens when the memory grows past its reservation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "growth", rename_all = "snake_case")]
pub enum Growth {
    /// The maximum fits: growth never leaves the reservation.
    InPlace,
    /// Past `capacity_bytes` the memory is copied to a new reservation.
    MovesBeyond { capacity_bytes: u128 },
    /// Past `capacity_bytes` `memory.grow` fails (the memory may not move).
    FailsBeyond { capacity_bytes: u128 },
    /// The profile's model does not say.
    NotModelled { capacity_bytes: u128 },
    /// Past `capacity_bytes` the runtime reallocates the memory (`how`:
    /// realloc, mremap with MREMAP_MAYMOVE): it may move.
    MayMoveBeyond { capacity_bytes: u128, how: String },
    /// The runtime rejects the module: there is no memory to grow.
    NotApplicable,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Instantiation {
    Succeeds,
    Fails {
        reason: String,
    },
    /// The runtime refuses the module before instantiating it (while
    /// decoding, validating, loading or compiling it).
    Rejected {
        reason: String,
    },
}

/// How the module's accesses to this memory are checked under the profile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckCounts {
    pub accesses: u64,
    pub elided: u64,
    pub explicit: u64,
    pub always_trap: u64,
    pub by_kind: BTreeMap<CheckKind, u64>,
    /// How an explicit check traps.
    pub oob: Option<OobBehavior>,
    /// Whether checks are elided at all for this memory (32-bit, guard pages
    /// usable, reservation + guard ≥ 4 GiB).
    pub elision_possible: bool,
    /// The largest `offset + size` still elided, when elision is possible.
    pub largest_elided_offset_and_size_bytes: Option<u128>,
}

/// One memory under one profile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AddressMap {
    pub memory: u32,
    pub page_size_bytes: u64,
    /// Accessible at instantiation (after a clamp, for WasmEdge).
    pub committed_bytes: u128,
    /// The most it can hold: declared maximum (or index space), capped by the page limit.
    pub maximum_bytes: u128,
    /// The memory's part of the reservation (without guards).
    pub capacity_bytes: u128,
    pub guard_before_bytes: u128,
    pub guard_after_bytes: u128,
    /// All address space reserved: guards plus capacity.
    pub reserved_bytes: u128,
    pub page_limit: PageLimitOutcome,
    pub instantiation: Instantiation,
    pub growth: Growth,
    pub regions: Vec<Region>,
    pub markers: Vec<Marker>,
    /// Segments whose offset is unknown: not placed.
    pub unplaced_segments: Vec<u32>,
    /// `None` when the profile's runtime is not Wasmtime (not modelled).
    pub checks: Option<CheckCounts>,
    /// How an out-of-bounds access is caught.
    pub bounds_checking: BoundsChecking,
    /// What the runtime's model adds, in sentences with their sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl AddressMap {
    /// The map in one line, as a row's caption: "4 GiB reserved, guard
    /// 32 MiB before and 4 GiB after; 128 MiB initial; checks 426703
    /// elided, 0 explicit".
    pub fn summary(&self) -> String {
        if let Instantiation::Rejected { .. } = self.instantiation {
            return "rejects the module".into();
        }
        let guard = match (self.guard_before_bytes, self.guard_after_bytes) {
            (0, 0) => "no guard".to_string(),
            (0, a) => format!("guard {} after", human_bytes(a)),
            (b, 0) => format!("guard {} before", human_bytes(b)),
            (b, a) => format!(
                "guard {} before and {} after",
                human_bytes(b),
                human_bytes(a)
            ),
        };
        let mut line = format!(
            "{} reserved, {guard}; {} initial",
            human_bytes(self.capacity_bytes),
            human_bytes(self.committed_bytes)
        );
        if let Some(c) = &self.checks {
            line.push_str(&format!(
                "; checks {} elided, {} explicit",
                c.elided, c.explicit
            ));
        }
        line
    }
}

fn page_words(bytes: u128, page_size_bytes: u64) -> String {
    plural(pages_from_bytes_ceil(bytes, page_size_bytes), "page")
}

/// Builds the map of `memory` under `profile`.
pub fn address_map(layout: &ModuleLayout, memory: &MemoryInfo, profile: &Profile) -> AddressMap {
    match runtimes::modelled_memory(profile, layout, memory) {
        Some(modelled) => modelled_map(layout, memory, profile, modelled),
        None => wasmtime_or_wasmedge_map(layout, memory, profile),
    }
}

/// Sizes relative to the base, from which regions are drawn.
struct Sizes {
    committed_bytes: u128,
    maximum_bytes: u128,
    capacity_bytes: u128,
    guard_before_bytes: u128,
    guard_after_bytes: u128,
    /// Whether `maximum_bytes` is below the memory's own maximum because of
    /// a page limit.
    limited: bool,
}

/// A source model's map: nothing but the reason when the runtime rejects
/// the module; otherwise its sizes, its app heap and the module's markers.
fn modelled_map(
    layout: &ModuleLayout,
    memory: &MemoryInfo,
    profile: &Profile,
    m: ModelledMemory,
) -> AddressMap {
    let page = memory.page_size_bytes;
    if let Some(reason) = m.rejected {
        return AddressMap {
            memory: memory.index,
            page_size_bytes: page,
            committed_bytes: 0,
            maximum_bytes: 0,
            capacity_bytes: 0,
            guard_before_bytes: 0,
            guard_after_bytes: 0,
            reserved_bytes: 0,
            page_limit: PageLimitOutcome::NoLimit,
            instantiation: Instantiation::Rejected { reason },
            growth: Growth::NotApplicable,
            regions: Vec::new(),
            markers: Vec::new(),
            unplaced_segments: Vec::new(),
            checks: None,
            bounds_checking: BoundsChecking::NotApplicable,
            notes: m.notes,
        };
    }
    let growth = if m.maximum_bytes <= m.capacity_bytes {
        Growth::InPlace
    } else {
        match m.beyond {
            Beyond::Fails => Growth::FailsBeyond {
                capacity_bytes: m.capacity_bytes,
            },
            Beyond::Copies => Growth::MovesBeyond {
                capacity_bytes: m.capacity_bytes,
            },
            Beyond::Reallocates { how } => Growth::MayMoveBeyond {
                capacity_bytes: m.capacity_bytes,
                how: how.to_string(),
            },
        }
    };
    let sizes = Sizes {
        committed_bytes: m.committed_bytes,
        maximum_bytes: m.maximum_bytes,
        capacity_bytes: m.capacity_bytes,
        guard_before_bytes: 0,
        guard_after_bytes: m.guard_after_bytes,
        limited: false,
    };
    let mut regions = regions(&sizes, page);
    // A guard that is the rest of a fixed reservation (V8, WAMR) rather than
    // a guard of its own size says so.
    if profile.memory_guard_size_bytes == 0
        && let Some(r) = regions
            .iter_mut()
            .find(|r| r.kind == RegionKind::GuardAfter)
    {
        r.label = format!(
            "rest of the {} reservation, no access: guard ({})",
            human_bytes(m.capacity_bytes + m.guard_after_bytes),
            human_bytes(m.guard_after_bytes)
        );
    }
    let initial_fails = m.fails.map(|reason| Instantiation::Fails { reason });
    let (mut markers, unplaced_segments, instantiation) =
        markers(layout, memory, m.committed_bytes, false, initial_fails);
    if let Some(heap) = &m.app_heap {
        markers.push(Marker {
            kind: MarkerKind::AppHeap,
            segment: None,
            start_bytes: heap.start_bytes,
            end_bytes: heap.start_bytes + heap.size_bytes,
            label: format!(
                "{} app heap [{}, {}) {}: {}",
                profile.runtime.name(),
                hex(heap.start_bytes as i128),
                hex((heap.start_bytes + heap.size_bytes) as i128),
                human_bytes(heap.size_bytes),
                heap.placement
            ),
            inferred: false,
            problem: None,
        });
    }
    AddressMap {
        memory: memory.index,
        page_size_bytes: page,
        committed_bytes: m.committed_bytes,
        maximum_bytes: m.maximum_bytes,
        capacity_bytes: m.capacity_bytes,
        guard_before_bytes: 0,
        guard_after_bytes: m.guard_after_bytes,
        reserved_bytes: m.capacity_bytes + m.guard_after_bytes,
        page_limit: PageLimitOutcome::NoLimit,
        instantiation,
        growth,
        regions,
        markers,
        unplaced_segments,
        checks: None,
        bounds_checking: m.checking,
        notes: m.notes,
    }
}

/// Wasmtime's map (as `MmapMemory::new` sizes it) or WasmEdge's documented one.
fn wasmtime_or_wasmedge_map(
    layout: &ModuleLayout,
    memory: &MemoryInfo,
    profile: &Profile,
) -> AddressMap {
    let page = memory.page_size_bytes;
    let page_limit = profile.page_limit_outcome(memory);
    let limit_bytes = profile
        .page_limit_for(memory)
        .map(|p| u128::from(p) << memory.page_size_log2());
    let declared_or_space_max = memory.max_bytes();
    let maximum_bytes = limit_bytes.map_or(declared_or_space_max, |l| l.min(declared_or_space_max));
    let reservation = u128::from(profile.memory_reservation_bytes);
    let guard_after_bytes = u128::from(profile.memory_guard_size_bytes);
    let guard_before_bytes = if profile.guard_before_linear_memory {
        guard_after_bytes
    } else {
        0
    };

    let (committed_bytes, capacity_bytes, growth) = match profile.runtime {
        Runtime::Wasmtime => {
            let min = memory.min_bytes();
            // MmapMemory::new: the reservation, unless the minimum does not fit
            // in it, then the minimum plus the growth reservation.
            let capacity = if min <= reservation {
                reservation
            } else {
                min + u128::from(profile.memory_reservation_for_growth_bytes)
            };
            let growth = if maximum_bytes <= capacity {
                Growth::InPlace
            } else if checks::memory_may_move(profile, memory) {
                Growth::MovesBeyond {
                    capacity_bytes: capacity,
                }
            } else {
                Growth::FailsBeyond {
                    capacity_bytes: capacity,
                }
            };
            (min, capacity, growth)
        }
        // WasmEdge (the source models are laid out by `modelled_map`).
        _ => {
            let min = match &page_limit {
                PageLimitOutcome::Clamped { limit_pages, .. } => {
                    u128::from(*limit_pages) << memory.page_size_log2()
                }
                _ => memory.min_bytes(),
            };
            let growth = if maximum_bytes <= reservation {
                Growth::InPlace
            } else {
                Growth::NotModelled {
                    capacity_bytes: reservation,
                }
            };
            (min, reservation, growth)
        }
    };

    let sizes = Sizes {
        committed_bytes,
        maximum_bytes,
        capacity_bytes,
        guard_before_bytes,
        guard_after_bytes,
        limited: limit_bytes.is_some_and(|l| l < declared_or_space_max),
    };
    let regions = regions(&sizes, page);
    let limit_fails = match &page_limit {
        PageLimitOutcome::InstantiationFails { message, .. } => Some(Instantiation::Fails {
            reason: format!("Wasmtime: \"{message}\""),
        }),
        _ => None,
    };
    let clamped = matches!(page_limit, PageLimitOutcome::Clamped { .. });
    let (markers, unplaced_segments, instantiation) =
        markers(layout, memory, committed_bytes, clamped, limit_fails);

    let checks = (profile.runtime == Runtime::Wasmtime)
        .then(|| check_counts(profile, memory, layout.accesses_of(memory.index)));
    let bounds_checking = match &checks {
        Some(c) if c.elision_possible => BoundsChecking::PerAccess,
        Some(_) => BoundsChecking::Explicit,
        None => BoundsChecking::NotModelled,
    };

    AddressMap {
        memory: memory.index,
        page_size_bytes: page,
        committed_bytes,
        maximum_bytes,
        capacity_bytes,
        guard_before_bytes,
        guard_after_bytes,
        reserved_bytes: guard_before_bytes + capacity_bytes + guard_after_bytes,
        page_limit,
        instantiation,
        growth,
        regions,
        markers,
        unplaced_segments,
        checks,
        bounds_checking,
        notes: Vec::new(),
    }
}

/// Guard before, initial pages, growable space, unused reservation, guard
/// after: the regions `sizes` describe, empty ones left out.
fn regions(sizes: &Sizes, page: u64) -> Vec<Region> {
    let Sizes {
        committed_bytes,
        maximum_bytes,
        capacity_bytes,
        guard_before_bytes,
        guard_after_bytes,
        limited,
    } = *sizes;
    let mut regions = Vec::new();
    if guard_before_bytes > 0 {
        regions.push(Region {
            kind: RegionKind::GuardBefore,
            start_bytes: -(guard_before_bytes as i128),
            end_bytes: 0,
            label: format!("guard before ({})", human_bytes(guard_before_bytes)),
        });
    }
    let mut push = |kind, start: u128, end: u128, label: String| {
        if end > start {
            regions.push(Region {
                kind,
                start_bytes: start as i128,
                end_bytes: end as i128,
                label,
            });
        }
    };
    push(
        RegionKind::Committed,
        0,
        committed_bytes,
        format!(
            "initial {} ({})",
            page_words(committed_bytes, page),
            human_bytes(committed_bytes)
        ),
    );
    let growable_end = capacity_bytes.min(maximum_bytes).max(committed_bytes);
    push(
        RegionKind::Growable,
        committed_bytes,
        growable_end,
        format!(
            "growable to {} ({}) without moving",
            page_words(growable_end, page),
            human_bytes(growable_end)
        ),
    );
    let why_unused = if limited {
        "beyond the page limit"
    } else {
        "beyond the maximum"
    };
    push(
        RegionKind::ReservedUnused,
        growable_end,
        capacity_bytes,
        format!(
            "reserved, unused: {why_unused} ({})",
            human_bytes(capacity_bytes.saturating_sub(growable_end))
        ),
    );
    push(
        RegionKind::GuardAfter,
        capacity_bytes,
        capacity_bytes + guard_after_bytes,
        format!("guard after ({})", human_bytes(guard_after_bytes)),
    );
    regions
}

/// The module's own things in `memory`: data segments (and whether they fit
/// the `committed_bytes` accessible at instantiation; `clamped` when a page
/// limit cut them down), the inferred stack, `__data_end` and `__heap_base`.
/// Instantiation fails with `fails` if given, else with the first segment
/// that does not fit.
fn markers(
    layout: &ModuleLayout,
    memory: &MemoryInfo,
    committed_bytes: u128,
    clamped: bool,
    fails: Option<Instantiation>,
) -> (Vec<Marker>, Vec<u32>, Instantiation) {
    let page = memory.page_size_bytes;
    let mut markers = Vec::new();
    let mut unplaced_segments = Vec::new();
    let mut instantiation = fails.unwrap_or(Instantiation::Succeeds);
    for seg in layout.segments_of(memory.index) {
        let Some((start, end)) = seg.range_bytes() else {
            unplaced_segments.push(seg.index);
            continue;
        };
        let problem = (end > committed_bytes).then(|| {
            format!(
                "ends at page {} ({}), beyond the {} {}",
                pages_from_bytes_ceil(end, page),
                hex(end as i128),
                if clamped { "clamped" } else { "initial" },
                page_words(committed_bytes, page)
            )
        });
        if let (Some(p), Instantiation::Succeeds) = (&problem, &instantiation) {
            instantiation = Instantiation::Fails {
                reason: format!("{} {p}: initializing it is out of bounds", seg.label()),
            };
        }
        markers.push(Marker {
            kind: MarkerKind::DataSegment,
            segment: Some(seg.index),
            start_bytes: start,
            end_bytes: end,
            label: format!(
                "{} [{}, {}) {}",
                seg.label(),
                hex(start as i128),
                hex(end as i128),
                human_bytes(end - start)
            ),
            inferred: false,
            problem,
        });
    }
    if let Some(stack) = layout.stack.as_ref().filter(|s| s.memory == memory.index) {
        let high = u128::from(stack.high_bytes);
        let low = stack.low_bytes.map_or(high, u128::from);
        markers.push(Marker {
            kind: MarkerKind::Stack,
            segment: None,
            start_bytes: low,
            end_bytes: high,
            label: match stack.size_bytes() {
                Some(size) => format!(
                    "stack (inferred) [{}, {}) {}, grows {}",
                    hex(low as i128),
                    hex(high as i128),
                    human_bytes(size.into()),
                    direction_word(stack.direction)
                ),
                None => format!(
                    "stack (inferred) top {}, grows {}, bottom unknown",
                    hex(high as i128),
                    direction_word(stack.direction)
                ),
            },
            inferred: true,
            problem: (high > committed_bytes).then(|| {
                format!(
                    "stack top {} is beyond the initial {}",
                    hex(high as i128),
                    page_words(committed_bytes, page)
                )
            }),
        });
    }
    if memory.index == 0 {
        for (name, kind) in [
            ("__data_end", MarkerKind::DataEnd),
            ("__heap_base", MarkerKind::HeapBase),
        ] {
            if let Some(v) = layout.layout_value(name) {
                let at = u128::from(v);
                markers.push(Marker {
                    kind,
                    segment: None,
                    start_bytes: at,
                    end_bytes: at,
                    label: format!(
                        "{name} = {} (page {})",
                        hex(at as i128),
                        pages_from_bytes(at, page)
                    ),
                    inferred: false,
                    problem: (at > committed_bytes).then(|| {
                        format!("beyond the initial {}", page_words(committed_bytes, page))
                    }),
                });
            }
        }
    }
    (markers, unplaced_segments, instantiation)
}

fn direction_word(d: super::model::StackDirection) -> &'static str {
    match d {
        super::model::StackDirection::Down => "down",
        super::model::StackDirection::Up => "up",
    }
}

fn check_counts<'a>(
    profile: &Profile,
    memory: &MemoryInfo,
    sites: impl Iterator<Item = &'a AccessSite>,
) -> CheckCounts {
    let mut counts = CheckCounts {
        accesses: 0,
        elided: 0,
        explicit: 0,
        always_trap: 0,
        by_kind: BTreeMap::new(),
        oob: None,
        elision_possible: checks::can_elide_bounds_checks(profile, memory),
        largest_elided_offset_and_size_bytes: checks::largest_elided_offset_and_size(
            profile, memory,
        ),
    };
    for site in sites {
        let Some(decision) = checks::check_for_site(profile, memory, site) else {
            continue;
        };
        counts.accesses += 1;
        *counts.by_kind.entry(decision.kind).or_default() += 1;
        match decision.kind {
            CheckKind::Elided => counts.elided += 1,
            CheckKind::AlwaysTraps => counts.always_trap += 1,
            _ => {
                counts.explicit += 1;
                counts.oob = decision.oob;
            }
        }
    }
    counts
}
