//! The V8, WAMR, Wasmer and wasm3 models on the memory samples: every profile
//! gives a definite answer for a module of 1-byte pages and for memory64 ones
//! (a layout, or the runtime's own rejection with its source line), and the
//! numbers each model is built on (cited in `profile.rs` and `runtimes.rs`)
//! come out in the maps: 8 GiB for V8's and WAMR's 32-bit memories, 16 GiB for
//! V8's memory64, 8 GiB + 64 KiB for Wasmer 7.5, nothing beyond the current
//! size for wasm3, WAMR's app heap present unless the module exports malloc
//! and free.

use crate::common;

use spillscope::engine::input::Input;
use spillscope::engine::layout::effect::{self, EffectOutcome};
use spillscope::engine::layout::map::{AddressMap, Growth, Instantiation, MarkerKind, RegionKind};
use spillscope::engine::layout::model::ModuleLayout;
use spillscope::engine::layout::profile::SOURCE_MODEL_PRESETS;
use spillscope::engine::layout::runtimes::BoundsChecking;
use spillscope::engine::layout::{DifferenceKind, Profile, Runtime};
use spillscope::engine::session::Settings;

use super::{report, sample};

const KIB: u128 = 1 << 10;
const MIB: u128 = 1 << 20;
const GIB: u128 = 1 << 30;

/// Every source model's key, in preset order.
fn model_keys() -> Vec<&'static str> {
    SOURCE_MODEL_PRESETS.iter().map(|(k, _)| *k).collect()
}

fn rejection(map: &AddressMap) -> Option<&str> {
    match &map.instantiation {
        Instantiation::Rejected { reason } => Some(reason),
        _ => None,
    }
}

/// A rejected memory is not drawn as if it loaded.
fn assert_rejected(map: &AddressMap, key: &str, needles: &[&str]) {
    let reason = rejection(map).unwrap_or_else(|| panic!("{key}: not rejected: {map:#?}"));
    for n in needles {
        assert!(reason.contains(n), "{key}: {reason:?} lacks {n:?}");
    }
    assert!(map.regions.is_empty() && map.markers.is_empty(), "{key}");
    assert_eq!(map.reserved_bytes, 0, "{key}");
    assert_eq!(map.growth, Growth::NotApplicable, "{key}");
    assert_eq!(map.bounds_checking, BoundsChecking::NotApplicable, "{key}");
}

fn assert_loads(map: &AddressMap, key: &str) {
    assert_eq!(
        map.instantiation,
        Instantiation::Succeeds,
        "{key}: {map:#?}"
    );
}

fn region(map: &AddressMap, kind: RegionKind) -> Option<(i128, i128)> {
    map.regions
        .iter()
        .find(|r| r.kind == kind)
        .map(|r| (r.start_bytes, r.end_bytes))
}

#[test]
fn every_model_answers_for_one_byte_pages() {
    // one-byte-pages.wat: (memory 100 200 (pagesize 1)), limits flags 0x9.
    let keys = model_keys();
    let r = report("memory/one-byte-pages.wat", &keys);
    assert_eq!(r.module.memories[0].page_size_bytes, 1);
    for (pl, key) in r.profiles.iter().zip(&keys) {
        let map = &pl.memories[0];
        match pl.profile.runtime {
            Runtime::V8Model => assert_rejected(
                map,
                key,
                &[
                    "\"invalid memory limits flags 0x9\"",
                    "module-decoder-impl.h",
                ],
            ),
            Runtime::WamrModel => assert_rejected(
                map,
                key,
                &[
                    "\"WASM module load failed: invalid limits flags\"",
                    "wasm_loader_common.c:79-83",
                ],
            ),
            Runtime::WasmerModel => {
                assert_rejected(map, key, &["custom page sizes", "compiler.rs"])
            }
            Runtime::Wasm3Model => {
                // Supported at HEAD: 100 bytes on the heap, realloc to grow.
                assert_loads(map, key);
                assert_eq!(map.page_size_bytes, 1);
                assert_eq!(map.committed_bytes, 100);
                assert_eq!(map.maximum_bytes, 200);
                assert_eq!((map.guard_before_bytes, map.guard_after_bytes), (0, 0));
                assert_eq!(map.reserved_bytes, 100);
                assert_eq!(
                    map.growth,
                    Growth::MayMoveBeyond {
                        capacity_bytes: 100,
                        how: "realloc".into()
                    }
                );
                assert_eq!(map.bounds_checking, BoundsChecking::Explicit);
                assert_eq!(region(map, RegionKind::Committed), Some((0, 100)));
                assert!(region(map, RegionKind::GuardAfter).is_none());
            }
            other => panic!("{key}: {other:?} is not a source model"),
        }
    }
    // Each rejection is one sentence in the differences, naming its profile.
    let rejected: Vec<&str> = r
        .differences
        .iter()
        .filter(|d| d.kind == DifferenceKind::Rejected)
        .flat_map(|d| d.profiles.iter().map(String::as_str))
        .collect();
    assert_eq!(rejected, &keys[..keys.len() - 1]);
    assert!(
        r.differences
            .iter()
            .any(|d| d.kind == DifferenceKind::Growth
                && d.text.contains("reallocated (realloc) and may move")
                && d.profiles == ["wasm3"])
    );
}

#[test]
fn every_model_answers_for_memory64() {
    // memory64-shared.wat: memory 0 is i64 with 1 page and no maximum,
    // memory 1 is a shared 32-bit memory of 1 to 256 pages.
    let keys = model_keys();
    let r = report("memory/memory64-shared.wat", &keys);
    for (pl, key) in r.profiles.iter().zip(&keys) {
        let (wide, shared) = (&pl.memories[0], &pl.memories[1]);
        match *key {
            "v8" => {
                assert_loads(wide, key);
                // kMaxMemory64Size: 262,144 pages of 64 KiB.
                assert_eq!(wide.reserved_bytes, 16 * GIB);
                assert_eq!(wide.maximum_bytes, 16 * GIB);
                assert_eq!(wide.guard_before_bytes, 0);
                assert_eq!(wide.bounds_checking, BoundsChecking::GuardPages);
                // kFullGuardSize32 from the base, whatever the maximum.
                assert_eq!(shared.reserved_bytes, 8 * GIB);
                assert_eq!(shared.capacity_bytes, 16 * MIB);
                assert_eq!(shared.guard_after_bytes, 8 * GIB - 16 * MIB);
                assert_eq!(shared.growth, Growth::InPlace);
            }
            "v8:explicit" => {
                assert_loads(wide, key);
                // No maximum: the engine's 262,144 pages are reserved.
                assert_eq!(wide.reserved_bytes, 16 * GIB);
                assert_eq!(wide.bounds_checking, BoundsChecking::Explicit);
                assert_eq!(shared.reserved_bytes, 16 * MIB);
                assert_eq!(shared.bounds_checking, BoundsChecking::Explicit);
            }
            "wamr" | "wamr:software" => {
                for m in [wide, shared] {
                    assert_rejected(
                        m,
                        key,
                        &["inconsistent limits wasm64 flags", "multiple memories"],
                    );
                }
            }
            "wasmer" | "wasmer:7.3" | "wasmer:7.2" => {
                for m in [wide, shared] {
                    assert_rejected(
                        m,
                        key,
                        &[
                            "memory 0 (\"wide\") is 64-bit",
                            "64bit memory not implemented yet",
                        ],
                    );
                }
            }
            "wasm3" => {
                for m in [wide, shared] {
                    assert_rejected(
                        m,
                        key,
                        &["\"only one memory per module is supported\"", "m3_parse.c"],
                    );
                }
            }
            other => panic!("{other}: no expectation for this preset"),
        }
    }

    // One 64-bit memory alone: WAMR loads it in a memory64 build, which has
    // no hardware bounds checks, so `wamr` checks in software too; wasm3 and
    // Wasmer reject it.
    let r = report(
        "memory/memory64-only.wat",
        &["wamr", "v8", "wasmer", "wasm3"],
    );
    let [wamr, v8, wasmer, wasm3] = &r.profiles[..] else {
        panic!("four profiles")
    };
    let wamr = &wamr.memories[0];
    assert_loads(wamr, "wamr");
    assert_eq!(wamr.bounds_checking, BoundsChecking::Explicit);
    assert!(
        wamr.notes
            .iter()
            .any(|n| n.contains("WAMR_BUILD_MEMORY64=1") && n.contains("software bounds checks"))
    );
    // No memory.grow: one page of 64 KiB, and the 16 KiB app heap appended to it.
    assert_eq!(wamr.committed_bytes, 80 * KIB);
    assert_eq!(wamr.maximum_bytes, 80 * KIB);
    assert_eq!(wamr.reserved_bytes, 80 * KIB);
    assert_eq!(wamr.growth, Growth::InPlace);
    let heap = wamr
        .markers
        .iter()
        .find(|m| m.kind == MarkerKind::AppHeap)
        .unwrap();
    assert_eq!((heap.start_bytes, heap.end_bytes), (64 * KIB, 80 * KIB));
    assert_eq!(v8.memories[0].reserved_bytes, 16 * GIB);
    assert_eq!(v8.memories[0].capacity_bytes, 256 * KIB);
    assert_rejected(&wasmer.memories[0], "wasmer", &["64-bit"]);
    assert_rejected(
        &wasm3.memories[0],
        "wasm3",
        &["\"malformed Wasm binary\"", "flags 0x5"],
    );
}

#[test]
fn v8_reserves_8_gib_from_the_base_of_a_32_bit_memory() {
    // page-limit.wat: (memory 40 64).
    let r = report("memory/page-limit.wat", &["v8", "v8:explicit"]);
    let (guarded, explicit) = (&r.profiles[0].memories[0], &r.profiles[1].memories[0]);
    assert_loads(guarded, "v8");
    assert_eq!(guarded.reserved_bytes, 8 * GIB);
    assert_eq!(guarded.guard_before_bytes, 0);
    assert_eq!(region(guarded, RegionKind::Committed), Some((0, 40 << 16)));
    assert_eq!(
        region(guarded, RegionKind::Growable),
        Some((40 << 16, 64 << 16))
    );
    assert_eq!(
        region(guarded, RegionKind::GuardAfter),
        Some((64 << 16, 8 << 30))
    );
    assert!(
        guarded
            .regions
            .iter()
            .any(|r| r.label.contains("rest of the 8 GiB reservation"))
    );
    assert_eq!(guarded.bounds_checking, BoundsChecking::GuardPages);
    assert!(
        guarded.checks.is_none(),
        "elision is modelled for Wasmtime only"
    );
    // Without the trap handler: the declared maximum, checked accesses.
    assert_eq!(explicit.reserved_bytes, 64 << 16);
    assert_eq!(explicit.bounds_checking, BoundsChecking::Explicit);
    assert!(
        r.differences
            .iter()
            .any(|d| d.kind == DifferenceKind::CheckMethod
                && d.text.contains("caught by guard pages")
                && d.text.contains("checked explicitly on every access"))
    );
}

#[test]
fn wamr_app_heap_follows_malloc_and_free_exports() {
    // app-heap.wat: 2 pages, memory.grow used, __data_end 0x400 and
    // __heap_base 0x1000 exported, no malloc/free: the 16 KiB app heap is
    // inserted at __heap_base (wasm_runtime.c:357-398).
    let r = report(
        "memory/app-heap.wat",
        &["wamr", "wamr:software", "wamr:heap=0"],
    );
    let [hw, sw, no_heap] = &r.profiles[..] else {
        panic!("three profiles")
    };
    assert_eq!(hw.profile.app_heap_bytes, Some(16 << 10));
    let hw = &hw.memories[0];
    assert_loads(hw, "wamr");
    assert_eq!(hw.reserved_bytes, 8 * GIB);
    assert_eq!(hw.committed_bytes, 128 * KIB);
    assert_eq!(hw.bounds_checking, BoundsChecking::GuardPages);
    assert_eq!(hw.growth, Growth::InPlace);
    let heap = hw
        .markers
        .iter()
        .find(|m| m.kind == MarkerKind::AppHeap)
        .unwrap();
    assert_eq!((heap.start_bytes, heap.end_bytes), (0x1000, 0x5000));
    assert!(hw.notes.iter().any(|n| n.contains("from 0x1000 to 0x5000")));
    assert!(
        r.differences
            .iter()
            .any(|d| d.kind == DifferenceKind::AppHeap && d.profiles == ["wamr"])
    );

    // Software bounds checks: only the initial size is mapped, mremap to grow.
    let sw = &sw.memories[0];
    assert_eq!(sw.reserved_bytes, 128 * KIB);
    assert_eq!(sw.bounds_checking, BoundsChecking::Explicit);
    assert!(matches!(
        &sw.growth,
        Growth::MayMoveBeyond { capacity_bytes, how }
            if *capacity_bytes == 128 * KIB && how.contains("MREMAP_MAYMOVE")
    ));
    assert!(sw.markers.iter().any(|m| m.kind == MarkerKind::AppHeap));

    // iwasm with libc-WASI asks for no heap.
    assert!(
        !no_heap.memories[0]
            .markers
            .iter()
            .any(|m| m.kind == MarkerKind::AppHeap)
    );

    // malloc-free.wat: the same module exporting malloc (i32)->i32 and
    // free (i32)->(): no app heap.
    let r = report("memory/malloc-free.wat", &["wamr"]);
    let map = &r.profiles[0].memories[0];
    assert_loads(map, "wamr");
    assert_eq!(map.reserved_bytes, 8 * GIB);
    assert!(!map.markers.iter().any(|m| m.kind == MarkerKind::AppHeap));
    assert!(
        map.notes
            .iter()
            .any(|n| n.contains("exports malloc and free"))
    );
    assert_eq!(map.committed_bytes, 128 * KIB);
}

#[test]
fn wasmer_releases_differ_in_their_static_guard() {
    // page-limit.wat: (memory 40 64), static under every release.
    let r = report(
        "memory/page-limit.wat",
        &["wasmer", "wasmer:7.3", "wasmer:7.2"],
    );
    let expected_guard = [4 * GIB + 64 * KIB, 4 * GIB, 2 * GIB];
    for (pl, guard) in r.profiles.iter().zip(expected_guard) {
        let map = &pl.memories[0];
        assert_loads(map, &pl.profile.key);
        assert_eq!(map.capacity_bytes, 4 * GIB, "{}", pl.profile.key);
        assert_eq!(map.guard_after_bytes, guard, "{}", pl.profile.key);
        assert_eq!(map.reserved_bytes, 4 * GIB + guard, "{}", pl.profile.key);
        assert_eq!(map.growth, Growth::InPlace);
        assert_eq!(map.bounds_checking, BoundsChecking::GuardPages);
        assert_eq!(
            region(map, RegionKind::ReservedUnused),
            Some((64 << 16, 4 << 30)),
            "the bound beyond the maximum is reserved, unused"
        );
    }
    assert_eq!(r.profiles[0].profile.dynamic_guard_bytes, None);
    assert_eq!(r.profiles[1].profile.dynamic_guard_bytes, Some(64 << 10));
    assert!(r.profiles[0].profile.provenance.contains("6.1-7.2.0"));
}

#[test]
fn wasm3_keeps_only_the_current_size_and_moves_to_grow() {
    let r = report("memory/page-limit.wat", &["wasm3"]);
    let map = &r.profiles[0].memories[0];
    assert_loads(map, "wasm3");
    assert_eq!(map.committed_bytes, 40 << 16);
    assert_eq!(map.maximum_bytes, 64 << 16);
    assert_eq!(map.reserved_bytes, 40 << 16);
    assert!(
        matches!(map.growth, Growth::MayMoveBeyond { capacity_bytes, .. } if capacity_bytes == 40 << 16)
    );
    assert_eq!(map.bounds_checking, BoundsChecking::Explicit);
    assert!(map.notes.iter().any(|n| n.contains("m3_Realloc")));
}

#[test]
fn model_profiles_parse_and_are_not_compiled() {
    let wamr = Profile::from_spec("wamr:software:heap=0").unwrap();
    assert_eq!(wamr.key, "wamr:software:heap=0");
    assert_eq!(wamr.app_heap_bytes, Some(0));
    assert!(!wamr.signals_based_traps);
    for (spec, needle) in [
        ("wasmer:7.4", "is not modelled"),
        ("wamr:fast", "expected wamr[:software]"),
        ("wamr:heap=lots", "not an app heap size"),
        ("v8:jitless", "expected jit"),
    ] {
        let e = Profile::from_spec(spec).unwrap_err().to_string();
        assert!(e.contains(needle), "{spec}: {e}");
    }
    for key in model_keys() {
        let p = Profile::from_spec(key).unwrap();
        assert_eq!(p.key, key);
        assert!(p.runtime.is_source_model());
        assert!(
            p.provenance.contains("not a run"),
            "{key}: {}",
            p.provenance
        );
        assert!(p.apply_to_config(&mut wasmtime::Config::new()).is_err());
    }
    let input = Input::load(&sample("memory.wat")).unwrap();
    let module = ModuleLayout::from_wasm(&input.path, input.wasm().unwrap()).unwrap();
    let profiles = vec![Profile::from_spec("v8").unwrap()];
    let (report, _) = effect::compare(&input, &module, 0, &profiles, Settings::default()).unwrap();
    match &report.rows[0].outcome {
        EffectOutcome::NotCompiled { reason } => {
            assert!(reason.contains("V8 from its sources"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn layout_cli_says_what_each_model_rejects_and_how_it_checks() {
    let out = common::spillscope(&[
        "layout",
        "sample-modules/memory/one-byte-pages.wat",
        "--profile",
        "v8",
        "--profile",
        "wasm3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "== V8 15.0 (model): trap handler [v8]",
        "   REJECTED: V8 rejects the module while decoding it",
        "== wasm3 0.9.0 (model) [wasm3]",
        "out of bounds: explicit: every access is compared with the memory's current size",
        "growth past 100 B (page 100) reallocates (realloc): the memory may move",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let v = common::json(&[
        "layout",
        "sample-modules/memory/memory64-shared.wat",
        "--profile",
        "v8",
        "--profile",
        "wasmer",
        "--json",
    ]);
    assert_eq!(
        v["profiles"][0]["memories"][0]["reserved_bytes"],
        16u64 << 30
    );
    assert_eq!(
        v["profiles"][0]["memories"][0]["bounds_checking"],
        "guard_pages"
    );
    assert_eq!(v["profiles"][1]["profile"]["runtime"], "wasmer_model");
    assert_eq!(
        v["profiles"][1]["memories"][0]["instantiation"]["result"],
        "rejected"
    );
}

/// Every preset key is listed with a label, and none repeats.
#[test]
fn model_presets_are_distinct() {
    let keys = model_keys();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), keys.len());
}
