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

use std::collections::BTreeMap;

use super::checks::{self, CheckKind, OobBehavior};
use super::model::{AccessSite, MemoryInfo, ModuleLayout};
use super::profile::{PageLimitOutcome, Profile, Runtime};
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
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Instantiation {
    Succeeds,
    Fails { reason: String },
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
}

fn page_words(bytes: u128, page_size_bytes: u64) -> String {
    plural(pages_from_bytes_ceil(bytes, page_size_bytes), "page")
}

/// Builds the map of `memory` under `profile`.
pub fn address_map(layout: &ModuleLayout, memory: &MemoryInfo, profile: &Profile) -> AddressMap {
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
        Runtime::WasmEdgeModel => {
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
    let why_unused = if limit_bytes.is_some_and(|l| l < declared_or_space_max) {
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

    let mut markers = Vec::new();
    let mut unplaced_segments = Vec::new();
    let mut instantiation = match &page_limit {
        PageLimitOutcome::InstantiationFails { message, .. } => Instantiation::Fails {
            reason: format!("Wasmtime: \"{message}\""),
        },
        _ => Instantiation::Succeeds,
    };
    for seg in layout.segments_of(memory.index) {
        let Some((start, end)) = seg.range_bytes() else {
            unplaced_segments.push(seg.index);
            continue;
        };
        let problem = (end > committed_bytes).then(|| {
            let clamped = matches!(page_limit, PageLimitOutcome::Clamped { .. });
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

    let checks = (profile.runtime == Runtime::Wasmtime)
        .then(|| check_counts(profile, memory, layout.accesses_of(memory.index)));

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
    }
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
