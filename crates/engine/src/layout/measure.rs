//! The model checked against Wasmtime itself: each memory of the module is
//! created by Wasmtime (`wasmtime::Memory::new` in a store of an engine with
//! the profile's `Config`; no guest code runs) and the address space it
//! mapped is read from this process's memory map, `/proc/self/maps` (Linux).
//!
//! The map is read before and after the memory is made; the address space new
//! in the second read that contains the memory's base is its reservation (so
//! a neighbour the kernel merges with it does not count). In it, the readable
//! pages from the base on are the accessible part; before the base is the
//! guard before it, after the accessible part the rest of the reservation and
//! the guard after it.

use super::map::AddressMap;
use super::model::MemoryInfo;
use super::profile::{Profile, Runtime};
use super::{LayoutError, LayoutReport};

/// What Wasmtime mapped for one memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Measured {
    pub memory: u32,
    /// Inaccessible space just before the base.
    pub guard_before_bytes: u64,
    /// Readable and writable from the base on.
    pub accessible_bytes: u64,
    /// Inaccessible space after the accessible part: the rest of the
    /// reservation and the guard after it.
    pub after_bytes: u64,
    /// All of it.
    pub reserved_bytes: u64,
}

/// The host's page size: the granularity of every mapping.
pub fn host_page_bytes() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads a system constant.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if n > 0 {
            return n as u64;
        }
    }
    4096
}

/// The model's numbers for `map` as the process's memory map can show them:
/// the accessible part and the whole reservation rounded up to host pages
/// (a memory of 100 one-byte pages is 100 bytes to Wasm, and a 4 KiB page
/// to the kernel; the model itself keeps Wasm's sizes).
pub fn model_numbers(map: &AddressMap, page_bytes: u64) -> Measured {
    let up = |x: u128| {
        let p = u128::from(page_bytes.max(1));
        (x.div_ceil(p) * p).min(u64::MAX as u128) as u64
    };
    let before = up(map.guard_before_bytes);
    let accessible = up(map.committed_bytes);
    let reserved = up(map.reserved_bytes).max(before + accessible);
    Measured {
        memory: map.memory,
        guard_before_bytes: before,
        accessible_bytes: accessible,
        after_bytes: reserved - before - accessible,
        reserved_bytes: reserved,
    }
}

/// One line of `/proc/self/maps`: `[start, end)` and whether it is readable.
#[derive(Clone, Copy, Debug)]
struct Mapping {
    start: u64,
    end: u64,
    readable: bool,
}

fn read_maps() -> Result<Vec<Mapping>, String> {
    let text =
        std::fs::read_to_string("/proc/self/maps").map_err(|e| format!("/proc/self/maps: {e}"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        out.push(Mapping {
            start,
            end,
            readable: perms.starts_with('r'),
        });
    }
    out.sort_by_key(|m| m.start);
    Ok(out)
}

/// The address space `[start, end)` around `at` that `after` maps and
/// `before` did not (both sorted by start).
fn new_space_around(before: &[Mapping], after: &[Mapping], at: u64) -> Option<(u64, u64)> {
    let mut new: Vec<(u64, u64)> = Vec::new();
    for m in after {
        let mut s = m.start;
        for b in before.iter().filter(|b| b.end > m.start && b.start < m.end) {
            if b.start > s {
                new.push((s, b.start));
            }
            s = s.max(b.end);
        }
        if s < m.end {
            new.push((s, m.end));
        }
    }
    new.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in new {
        match merged.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged.into_iter().find(|&(s, e)| s <= at && at < e)
}

fn memory_type(m: &MemoryInfo) -> Result<wasmtime::MemoryType, String> {
    let mut b = wasmtime::MemoryTypeBuilder::new();
    b.min(m.min_pages)
        .max(m.max_pages)
        .memory64(m.memory64)
        .shared(m.shared)
        .page_size_log2(m.page_size_log2() as u8);
    b.build().map_err(|e| format!("{e:#}"))
}

/// Makes each of `memories` under `profile` (a Wasmtime profile for this
/// host) and measures what Wasmtime mapped.
pub fn measure(memories: &[MemoryInfo], profile: &Profile) -> Result<Vec<Measured>, LayoutError> {
    let fail = |message: String| LayoutError::Wasmtime {
        profile: profile.key.clone(),
        message,
    };
    if !cfg!(target_os = "linux") {
        return Err(fail(
            "measuring reads /proc/self/maps, which only Linux has".into(),
        ));
    }
    if profile.runtime != Runtime::Wasmtime || profile.target != "host" {
        return Err(fail(
            "only Wasmtime profiles for this host can be measured (the memory is made here)".into(),
        ));
    }
    let mut config = wasmtime::Config::new();
    profile.apply_to_config(&mut config)?;
    config
        .wasm_custom_page_sizes(true)
        .wasm_memory64(true)
        .wasm_threads(true)
        .shared_memory(true);
    let engine = wasmtime::Engine::new(&config).map_err(|e| fail(format!("{e:#}")))?;
    let mut out = Vec::new();
    for m in memories {
        let ty = memory_type(m).map_err(&fail)?;
        let mut store = wasmtime::Store::new(&engine, ());
        let before = read_maps().map_err(&fail)?;
        // The memory stays alive until the map is read again.
        let (base, keep): (u64, Box<dyn std::any::Any>) = if m.shared {
            let shared =
                wasmtime::SharedMemory::new(&engine, ty).map_err(|e| fail(format!("{e:#}")))?;
            (shared.data().as_ptr() as u64, Box::new(shared))
        } else {
            let memory =
                wasmtime::Memory::new(&mut store, ty).map_err(|e| fail(format!("{e:#}")))?;
            (memory.data_ptr(&store) as u64, Box::new(()))
        };
        let after = read_maps().map_err(&fail)?;
        out.push(measured(m.index, base, &before, &after).ok_or_else(|| {
            fail(format!(
                "memory {}: its reservation is not in the memory map",
                m.index
            ))
        })?);
        drop(keep);
        drop(store);
    }
    Ok(out)
}

fn measured(memory: u32, base: u64, before: &[Mapping], after: &[Mapping]) -> Option<Measured> {
    let (start, end) = new_space_around(before, after, base)?;
    // Readable from the base on, over contiguous readable lines.
    let mut accessible_end = base;
    for m in after.iter().filter(|m| m.end > base && m.start < end) {
        if m.readable && m.start <= accessible_end {
            accessible_end = accessible_end.max(m.end.min(end));
        }
    }
    Some(Measured {
        memory,
        guard_before_bytes: base - start,
        accessible_bytes: accessible_end - base,
        after_bytes: end - accessible_end,
        reserved_bytes: end - start,
    })
}

/// One memory under one profile: the model's numbers and Wasmtime's.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MeasuredMemory {
    pub profile: String,
    pub memory: u32,
    pub model: Measured,
    pub wasmtime: Measured,
    /// Every number equal.
    pub equal: bool,
}

/// Every memory of `report` measured under each of its Wasmtime profiles for
/// this host, beside the model's numbers.
pub fn compare(report: &LayoutReport) -> Result<Vec<MeasuredMemory>, LayoutError> {
    let page = host_page_bytes();
    let mut out = Vec::new();
    for p in &report.profiles {
        if p.profile.runtime != Runtime::Wasmtime || p.profile.target != "host" {
            continue;
        }
        let got = measure(&report.module.memories, &p.profile)?;
        for (map, wasmtime) in p.memories.iter().zip(got) {
            let model = model_numbers(map, page);
            out.push(MeasuredMemory {
                profile: p.profile.key.clone(),
                memory: map.memory,
                equal: model == wasmtime,
                model,
                wasmtime,
            });
        }
    }
    Ok(out)
}
