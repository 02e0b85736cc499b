//! When Wasmtime keeps an explicit bounds check on a memory access, and which
//! kind. This mirrors, case by case and in the same order,
//! `bounds_check_field_access` in wasmtime-internal-cranelift 48.0.8
//! `src/bounds_checks.rs` (lines 167–485; line numbers below are in that file), with `Memory::can_use_virtual_memory`,
//! `can_elide_bounds_check` and `memory_may_move` from wasmtime-environ 48.0.8
//! `src/types.rs:2315–2387` and `clif_memory_traps_enabled` from
//! `src/func_environ.rs:5798`.
//!
//! One Wasmtime case needs the index value and is not modelled: a constant
//! index statically in bounds also needs no check (`bounds_checks.rs:318`).

use super::model::{AccessSite, MemoryInfo};
use super::profile::{FOUR_GIB, Profile, Runtime};

/// The code Wasmtime emits to bounds-check one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// No check: every address a 32-bit index can form lands in the
    /// reservation or its guard (`bounds_checks.rs:299`).
    Elided,
    /// `offset + size` exceeds the memory's declared maximum: the access
    /// always traps (`bounds_checks.rs:242`).
    AlwaysTraps,
    /// Compare the index with a constant: the memory never moves and fits in
    /// its reservation (`bounds_checks.rs:346`).
    ConstantBound,
    /// Compare the index with the memory's current length, loaded from the
    /// VM context (or a constant when min = max); the guard covers the offset
    /// (`bounds_checks.rs:383`, `:423`).
    LengthCompare,
    /// Compare the index with `length - (offset + size)` (`bounds_checks.rs:445`).
    AdjustedLengthCompare,
    /// Add `offset + size` to the index with an overflow trap, then compare
    /// with the length (`bounds_checks.rs:468`).
    OverflowCheckedCompare,
}

impl CheckKind {
    pub fn is_explicit(self) -> bool {
        !matches!(self, CheckKind::Elided | CheckKind::AlwaysTraps)
    }

    pub fn describe(self) -> &'static str {
        match self {
            CheckKind::Elided => "no check (guard pages)",
            CheckKind::AlwaysTraps => "always traps (offset beyond the maximum)",
            CheckKind::ConstantBound => "compare with a constant bound",
            CheckKind::LengthCompare => "compare with the memory length",
            CheckKind::AdjustedLengthCompare => "compare with length - (offset + size)",
            CheckKind::OverflowCheckedCompare => {
                "add offset with overflow trap, compare with the length"
            }
        }
    }
}

/// What happens on a failed explicit check (`bounds_checks.rs:206`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OobBehavior {
    /// `select_spectre_guard` to a null address, which then faults
    /// (signals-based traps with Cranelift's heap Spectre mitigation, on by default).
    SpectreGuardSelect,
    /// Plain select to null (Pulley).
    SelectNull,
    /// `trapnz` on the condition (signals-based traps off).
    Trapnz,
}

/// The decision for one access under one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckDecision {
    pub kind: CheckKind,
    /// For explicit checks: how a failure traps.
    pub oob: Option<OobBehavior>,
    /// For length compares: whether the length is loaded from the VM context
    /// (false when the memory's minimum equals its maximum: a constant).
    pub loads_length: bool,
}

/// Whether Wasmtime's generated code may catch out-of-bounds accesses with
/// guard pages for this memory (`Memory::can_use_virtual_memory` and
/// `clif_memory_traps_enabled`).
pub fn can_use_virtual_memory(profile: &Profile, memory: &MemoryInfo) -> bool {
    profile.signals_based_traps
        && !profile.is_pulley()
        && memory.page_size_log2() >= u32::from(profile.target_page_align_log2())
}

/// `Memory::can_elide_bounds_check`: 32-bit, guard pages usable, and
/// reservation + guard covering the whole 4 GiB index space.
pub fn can_elide_bounds_checks(profile: &Profile, memory: &MemoryInfo) -> bool {
    can_use_virtual_memory(profile, memory)
        && !memory.memory64
        && u128::from(profile.memory_reservation_bytes)
            + u128::from(profile.memory_guard_size_bytes)
            >= FOUR_GIB
}

/// `Memory::memory_may_move`: shared memories never move; otherwise the knob,
/// unless min = max or the maximum fits in the reservation.
pub fn memory_may_move(profile: &Profile, memory: &MemoryInfo) -> bool {
    if memory.shared || !profile.memory_may_move {
        return false;
    }
    if memory.max_pages == Some(memory.min_pages) {
        return false;
    }
    let max_bytes = memory.declared_max_bytes().unwrap_or(u128::from(u64::MAX));
    max_bytes > u128::from(profile.memory_reservation_bytes)
}

/// Wasmtime's decision for an access with a constant `offset_bytes` and
/// `access_size_bytes`. `None` for profiles that are not Wasmtime.
pub fn wasmtime_check(
    profile: &Profile,
    memory: &MemoryInfo,
    offset_bytes: u64,
    access_size_bytes: u8,
) -> Option<CheckDecision> {
    if profile.runtime != Runtime::Wasmtime {
        return None;
    }
    let offset_and_size = u128::from(offset_bytes) + u128::from(access_size_bytes);
    let reservation = u128::from(profile.memory_reservation_bytes);
    let guard = u128::from(profile.memory_guard_size_bytes);
    let min_bytes = memory.min_bytes();
    let virtual_memory = can_use_virtual_memory(profile, memory);
    let oob = if virtual_memory {
        OobBehavior::SpectreGuardSelect
    } else if profile.is_pulley() {
        OobBehavior::SelectNull
    } else {
        OobBehavior::Trapnz
    };
    let explicit = |kind, loads_length| {
        Some(CheckDecision {
            kind,
            oob: Some(oob),
            loads_length,
        })
    };
    // The length is a constant when the memory can never change size.
    let length_is_constant = memory.max_pages == Some(memory.min_pages);

    if offset_and_size > memory.declared_max_bytes().unwrap_or(u128::from(u64::MAX)) {
        return Some(CheckDecision {
            kind: CheckKind::AlwaysTraps,
            oob: None,
            loads_length: false,
        });
    }
    if can_elide_bounds_checks(profile, memory)
        && (reservation + guard)
            .checked_sub(offset_and_size)
            .is_some_and(|room| room >= u128::from(u32::MAX))
    {
        return Some(CheckDecision {
            kind: CheckKind::Elided,
            oob: None,
            loads_length: false,
        });
    }
    if virtual_memory
        && min_bytes <= reservation
        && !memory_may_move(profile, memory)
        && reservation >= offset_and_size
    {
        return explicit(CheckKind::ConstantBound, false);
    }
    if offset_and_size == 1 && !profile.is_pulley() {
        return explicit(CheckKind::LengthCompare, !length_is_constant);
    }
    if virtual_memory && offset_and_size <= guard {
        return explicit(CheckKind::LengthCompare, !length_is_constant);
    }
    if offset_and_size <= min_bytes {
        return explicit(CheckKind::AdjustedLengthCompare, !length_is_constant);
    }
    explicit(CheckKind::OverflowCheckedCompare, !length_is_constant)
}

/// The decision for a scanned access.
pub fn check_for_site(
    profile: &Profile,
    memory: &MemoryInfo,
    site: &AccessSite,
) -> Option<CheckDecision> {
    wasmtime_check(profile, memory, site.offset_bytes, site.access_size_bytes)
}

/// The largest `offset + size` whose check Wasmtime elides for this memory
/// under this profile, or `None` when it elides none.
pub fn largest_elided_offset_and_size(profile: &Profile, memory: &MemoryInfo) -> Option<u128> {
    if profile.runtime != Runtime::Wasmtime || !can_elide_bounds_checks(profile, memory) {
        return None;
    }
    let room = (u128::from(profile.memory_reservation_bytes)
        + u128::from(profile.memory_guard_size_bytes))
    .checked_sub(u128::from(u32::MAX))?;
    Some(room.min(memory.declared_max_bytes().unwrap_or(u128::MAX)))
}
