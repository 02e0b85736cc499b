//! Where profiles disagree about a module's memory, in sentences: instantiation
//! that fails under one profile and not another, segments beyond a limit,
//! constant offsets beyond a guard, bounds checks kept or elided, reservations
//! and growth; runtimes that reject the module, guard pages against explicit
//! checks, WAMR's app heap. Each `Difference` also says which profiles and
//! memory it is about, so a view can highlight them.

use super::checks::{self, CheckKind};
use super::map::{AddressMap, Growth, Instantiation, MarkerKind};
use super::model::{MemoryInfo, ModuleLayout};
use super::profile::{PageLimitOutcome, Profile, Runtime};
use super::runtimes::BoundsChecking;
use super::units::{hex, human_bytes, pages_from_bytes_ceil, plural};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    NoMemory,
    InstantiationFails,
    Clamped,
    SegmentBeyondLimit,
    SegmentBeyondMinimum,
    UnknownOffset,
    OffsetBeyondGuard,
    BoundsChecks,
    NoElision,
    Reservation,
    Growth,
    /// A runtime refuses the module.
    Rejected,
    /// Out-of-bounds accesses caught by guard pages under some profiles and
    /// by explicit checks under others.
    CheckMethod,
    /// A heap the runtime places in the module's memory (WAMR).
    AppHeap,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    pub memory: Option<u32>,
    /// Keys of the profiles the sentence is about (empty: all of them).
    pub profiles: Vec<String>,
    pub text: String,
}

fn quoted(profiles: &[&Profile]) -> String {
    let names: Vec<String> = profiles.iter().map(|p| format!("'{}'", p.name)).collect();
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

fn keys(profiles: &[&Profile]) -> Vec<String> {
    profiles.iter().map(|p| p.key.clone()).collect()
}

/// `maps[p][m]` is memory `m` under profile `p`.
pub fn differences(
    layout: &ModuleLayout,
    profiles: &[Profile],
    maps: &[Vec<AddressMap>],
) -> Vec<Difference> {
    let mut out = Vec::new();
    if layout.memories.is_empty() {
        out.push(Difference {
            kind: DifferenceKind::NoMemory,
            memory: None,
            profiles: Vec::new(),
            text: "no linear memory: the module defines and imports none, so every profile lays out nothing".into(),
        });
        return out;
    }
    // A runtime rejects the whole module: one sentence, and its maps take
    // no part in the comparisons below.
    for (p, ms) in profiles.iter().zip(maps) {
        if let Some(Instantiation::Rejected { reason }) = ms.first().map(|m| &m.instantiation) {
            out.push(Difference {
                kind: DifferenceKind::Rejected,
                memory: None,
                profiles: vec![p.key.clone()],
                text: format!("'{}': {reason}", p.name),
            });
        }
    }
    for (m, memory) in layout.memories.iter().enumerate() {
        let per_profile: Vec<(&Profile, &AddressMap)> = profiles
            .iter()
            .zip(maps)
            .filter_map(|(p, ms)| ms.get(m).map(|map| (p, map)))
            .filter(|(_, map)| !matches!(map.instantiation, Instantiation::Rejected { .. }))
            .collect();
        page_limits(memory, &per_profile, layout, &mut out);
        segments(memory, layout, &mut out);
        bounds_checks(memory, layout, &per_profile, &mut out);
        check_methods(memory, &per_profile, &mut out);
        app_heaps(memory, &per_profile, &mut out);
        reservations(memory, &per_profile, &mut out);
        growth(memory, &per_profile, &mut out);
    }
    out
}

/// Guard pages under some profiles, explicit checks under others, when a
/// source model is among them (Wasmtime's own profiles are compared access
/// by access in `bounds_checks`).
fn check_methods(
    memory: &MemoryInfo,
    per_profile: &[(&Profile, &AddressMap)],
    out: &mut Vec<Difference>,
) {
    if !per_profile.iter().any(|(p, _)| p.runtime.is_source_model()) {
        return;
    }
    let mut groups: Vec<(BoundsChecking, Vec<&Profile>)> = Vec::new();
    for (p, m) in per_profile {
        if matches!(
            m.bounds_checking,
            BoundsChecking::NotModelled | BoundsChecking::NotApplicable
        ) {
            continue;
        }
        match groups.iter_mut().find(|(b, _)| *b == m.bounds_checking) {
            Some((_, ps)) => ps.push(p),
            None => groups.push((m.bounds_checking, vec![p])),
        }
    }
    if groups.len() < 2 {
        return;
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(b, ps)| {
            let how = match b {
                BoundsChecking::GuardPages => "caught by guard pages (no check in the code)",
                BoundsChecking::Explicit => "checked explicitly on every access",
                _ => "checked or not access by access",
            };
            format!("{how} under {}", quoted(ps))
        })
        .collect();
    out.push(Difference {
        kind: DifferenceKind::CheckMethod,
        memory: Some(memory.index),
        profiles: groups.iter().flat_map(|(_, ps)| keys(ps)).collect(),
        text: format!(
            "out-of-bounds accesses to {}: {}",
            memory.label(),
            parts.join("; ")
        ),
    });
}

/// A heap the runtime inserts into the memory.
fn app_heaps(
    memory: &MemoryInfo,
    per_profile: &[(&Profile, &AddressMap)],
    out: &mut Vec<Difference>,
) {
    for (p, m) in per_profile {
        for k in m.markers.iter().filter(|k| k.kind == MarkerKind::AppHeap) {
            out.push(Difference {
                kind: DifferenceKind::AppHeap,
                memory: Some(memory.index),
                profiles: vec![p.key.clone()],
                text: format!(
                    "'{}' puts {} of its own into {}: {}",
                    p.name,
                    human_bytes(k.end_bytes - k.start_bytes),
                    memory.label(),
                    k.label
                ),
            });
        }
    }
}

fn page_limits(
    memory: &MemoryInfo,
    per_profile: &[(&Profile, &AddressMap)],
    layout: &ModuleLayout,
    out: &mut Vec<Difference>,
) {
    for (profile, map) in per_profile {
        let (limit_pages, fails) = match &map.page_limit {
            PageLimitOutcome::InstantiationFails { limit_pages, .. } => (*limit_pages, true),
            PageLimitOutcome::Clamped { limit_pages, .. } => (*limit_pages, false),
            _ => continue,
        };
        out.push(Difference {
            kind: if fails {
                DifferenceKind::InstantiationFails
            } else {
                DifferenceKind::Clamped
            },
            memory: Some(memory.index),
            profiles: vec![profile.key.clone()],
            text: if fails {
                format!(
                    "Page limit {limit_pages} < minimum {} of {}: instantiation fails under '{}' (\"memory minimum size of {} pages exceeds memory limits\")",
                    memory.min_pages,
                    memory.label(),
                    profile.name,
                    memory.min_pages
                )
            } else {
                format!(
                    "Page limit {limit_pages} < minimum {} of {}: '{}' clamps the memory to {limit_pages} pages and logs an error (documented behaviour, modelled)",
                    memory.min_pages,
                    memory.label(),
                    profile.name
                )
            },
        });
        let limit_bytes = u128::from(limit_pages) << memory.page_size_log2();
        for seg in layout.segments_of(memory.index) {
            let Some((_, end)) = seg.range_bytes() else {
                continue;
            };
            if end <= limit_bytes {
                continue;
            }
            out.push(Difference {
                kind: DifferenceKind::SegmentBeyondLimit,
                memory: Some(memory.index),
                profiles: vec![profile.key.clone()],
                text: format!(
                    "{} ends at page {} ({}), beyond the limit of {limit_pages} pages under '{}'{}",
                    seg.label(),
                    pages_from_bytes_ceil(end, memory.page_size_bytes),
                    hex(end as i128),
                    profile.name,
                    if fails {
                        ""
                    } else {
                        ": after the clamp, initializing it is out of bounds"
                    }
                ),
            });
        }
    }
}

fn segments(memory: &MemoryInfo, layout: &ModuleLayout, out: &mut Vec<Difference>) {
    for seg in layout.segments_of(memory.index) {
        match seg.range_bytes() {
            Some((_, end)) if end > memory.min_bytes() => out.push(Difference {
                kind: DifferenceKind::SegmentBeyondMinimum,
                memory: Some(memory.index),
                profiles: Vec::new(),
                text: format!(
                    "{} ends at page {} ({}), beyond the initial {} pages of {}: instantiation fails under every profile (data segment out of bounds)",
                    seg.label(),
                    pages_from_bytes_ceil(end, memory.page_size_bytes),
                    hex(end as i128),
                    memory.min_pages,
                    memory.label()
                ),
            }),
            Some(_) => {}
            None => {
                let why = seg
                    .offset
                    .as_ref()
                    .and_then(|o| o.unknown_reason.clone())
                    .unwrap_or_else(|| "unknown".into());
                out.push(Difference {
                    kind: DifferenceKind::UnknownOffset,
                    memory: Some(memory.index),
                    profiles: Vec::new(),
                    text: format!(
                        "{} ({}) has an unknown offset ({why}): it is not placed under any profile",
                        seg.label(),
                        human_bytes(seg.length_bytes.into())
                    ),
                });
            }
        }
    }
}

fn bounds_checks(
    memory: &MemoryInfo,
    layout: &ModuleLayout,
    per_profile: &[(&Profile, &AddressMap)],
    out: &mut Vec<Difference>,
) {
    let wasmtime: Vec<&(&Profile, &AddressMap)> = per_profile
        .iter()
        .filter(|(p, _)| p.runtime == Runtime::Wasmtime)
        .collect();
    let total = layout.accesses_of(memory.index).count();
    if wasmtime.is_empty() || total == 0 {
        return;
    }
    // Accesses whose check stays explicit under every Wasmtime profile even
    // though some profile elides checks for this memory: the offset is the cause.
    let eliding: Vec<&Profile> = wasmtime
        .iter()
        .filter(|(_, m)| m.checks.as_ref().is_some_and(|c| c.elision_possible))
        .map(|(p, _)| *p)
        .collect();
    if !eliding.is_empty() {
        let kept: Vec<_> = layout
            .accesses_of(memory.index)
            .filter(|site| {
                wasmtime.iter().all(|(p, _)| {
                    checks::check_for_site(p, memory, site)
                        .is_some_and(|d| d.kind != CheckKind::Elided)
                })
            })
            .collect();
        if let Some(largest) = kept.iter().max_by_key(|s| {
            (
                s.offset_and_size_bytes(),
                std::cmp::Reverse(s.module_offset),
            )
        }) {
            let guard = eliding
                .iter()
                .map(|p| p.memory_guard_size_bytes)
                .max()
                .unwrap_or(0);
            out.push(Difference {
                kind: DifferenceKind::OffsetBeyondGuard,
                memory: Some(memory.index),
                profiles: Vec::new(),
                text: format!(
                    "constant offset {} ({}) exceeds the {} guard: {} of {} {} an explicit check under every profile",
                    human_bytes(largest.offset_bytes.into()),
                    largest.describe(),
                    human_bytes(guard.into()),
                    plural(kept.len() as u128, "access"),
                    memory.label(),
                    if kept.len() == 1 { "keeps" } else { "keep" }
                ),
            });
        }
    }
    // Per-profile totals, when they differ.
    let summaries: Vec<(String, (u64, u64))> = wasmtime
        .iter()
        .filter_map(|(p, m)| {
            m.checks.as_ref().map(|c| {
                let how = match c.oob {
                    Some(checks::OobBehavior::Trapnz) => ", trapnz",
                    Some(checks::OobBehavior::SpectreGuardSelect) => ", spectre-guard select",
                    Some(checks::OobBehavior::SelectNull) => ", select to null",
                    None => "",
                };
                (
                    format!(
                        "{} elided, {} explicit{how} under '{}'",
                        c.elided, c.explicit, p.name
                    ),
                    (c.elided, c.explicit),
                )
            })
        })
        .collect();
    if summaries.windows(2).any(|w| w[0].1 != w[1].1) {
        out.push(Difference {
            kind: DifferenceKind::BoundsChecks,
            memory: Some(memory.index),
            profiles: wasmtime.iter().map(|(p, _)| p.key.clone()).collect(),
            text: format!(
                "bounds checks on {} to {}: {}",
                plural(total as u128, "access"),
                memory.label(),
                summaries
                    .iter()
                    .map(|(s, _)| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    let reason = if memory.memory64 {
        Some("it is 64-bit; Wasmtime elides checks only for 32-bit memories".to_string())
    } else if wasmtime
        .iter()
        .all(|(p, _)| memory.page_size_log2() < u32::from(p.target_page_align_log2()))
    {
        Some(format!(
            "its {}-byte pages are smaller than the target's pages, so guard pages cannot be used",
            memory.page_size_bytes
        ))
    } else {
        None
    };
    if let Some(reason) = reason {
        out.push(Difference {
            kind: DifferenceKind::NoElision,
            memory: Some(memory.index),
            profiles: Vec::new(),
            text: format!(
                "{}: every access keeps an explicit bounds check under every Wasmtime profile: {reason}",
                memory.label()
            ),
        });
    }
}

fn reservations(
    memory: &MemoryInfo,
    per_profile: &[(&Profile, &AddressMap)],
    out: &mut Vec<Difference>,
) {
    if per_profile.len() < 2
        || per_profile
            .windows(2)
            .all(|w| w[0].1.reserved_bytes == w[1].1.reserved_bytes)
    {
        return;
    }
    // Profiles with the same sizes share one clause.
    let mut groups: Vec<(&AddressMap, Vec<&Profile>)> = Vec::new();
    for (p, m) in per_profile {
        let same = |g: &&mut (&AddressMap, Vec<&Profile>)| {
            g.0.guard_before_bytes == m.guard_before_bytes
                && g.0.capacity_bytes == m.capacity_bytes
                && g.0.guard_after_bytes == m.guard_after_bytes
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.1.push(p),
            None => groups.push((m, vec![p])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(m, ps)| {
            format!(
                "{} under {} ({} before, {} after the base)",
                human_bytes(m.reserved_bytes),
                quoted(ps),
                human_bytes(m.guard_before_bytes),
                human_bytes(m.capacity_bytes + m.guard_after_bytes)
            )
        })
        .collect();
    out.push(Difference {
        kind: DifferenceKind::Reservation,
        memory: Some(memory.index),
        profiles: Vec::new(),
        text: format!(
            "address space reserved for {}: {}",
            memory.label(),
            parts.join("; ")
        ),
    });
}

fn growth(memory: &MemoryInfo, per_profile: &[(&Profile, &AddressMap)], out: &mut Vec<Difference>) {
    let mut moves = Vec::new();
    let mut fails = Vec::new();
    let mut unmodelled = Vec::new();
    let mut reallocated: Vec<(&str, Vec<(&Profile, u128)>)> = Vec::new();
    for (p, m) in per_profile {
        if matches!(m.instantiation, Instantiation::Fails { .. }) {
            continue;
        }
        match &m.growth {
            Growth::MovesBeyond { capacity_bytes } => moves.push((*p, *capacity_bytes)),
            Growth::FailsBeyond { capacity_bytes } => fails.push((*p, *capacity_bytes)),
            Growth::NotModelled { capacity_bytes } => unmodelled.push((*p, *capacity_bytes)),
            Growth::MayMoveBeyond {
                capacity_bytes,
                how,
            } => match reallocated.iter_mut().find(|(h, _)| h == how) {
                Some((_, items)) => items.push((*p, *capacity_bytes)),
                None => reallocated.push((how, vec![(*p, *capacity_bytes)])),
            },
            Growth::InPlace | Growth::NotApplicable => {}
        }
    }
    let group = |items: &[(&Profile, u128)], what: &str, kind| -> Vec<Difference> {
        let mut by_capacity: Vec<(u128, Vec<&Profile>)> = Vec::new();
        for (p, c) in items {
            match by_capacity.iter_mut().find(|(cap, _)| cap == c) {
                Some((_, ps)) => ps.push(p),
                None => by_capacity.push((*c, vec![p])),
            }
        }
        by_capacity
            .into_iter()
            .map(|(cap, ps)| Difference {
                kind,
                memory: Some(memory.index),
                profiles: keys(&ps),
                text: format!(
                    "{} {what} past {} (page {}) under {}",
                    memory.label(),
                    human_bytes(cap),
                    pages_from_bytes_ceil(cap, memory.page_size_bytes),
                    quoted(&ps)
                ),
            })
            .collect()
    };
    out.extend(group(
        &moves,
        "is moved (copied to a new reservation) when it grows",
        DifferenceKind::Growth,
    ));
    out.extend(group(
        &fails,
        if memory.shared {
            "is shared and never moves: memory.grow fails"
        } else {
            "may not move: memory.grow fails"
        },
        DifferenceKind::Growth,
    ));
    out.extend(group(
        &unmodelled,
        "growth is not modelled",
        DifferenceKind::Growth,
    ));
    for (how, items) in reallocated {
        out.extend(group(
            &items,
            &format!("is reallocated ({how}) and may move when it grows"),
            DifferenceKind::Growth,
        ));
    }
}
