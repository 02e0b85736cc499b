//! The linear-memory layout model on the memory samples and on a module linked
//! by a real toolchain, checked against facts read independently (the numbers
//! in the .wat files, wasmprinter's text of kernels.wasm, Wasmtime's own CLIF),
//! plus the `layout` subcommand: JSON goldens in tests/golden/layout/ (re-bless with
//! `BLESS=1`) and clear messages for inputs without a memory or bad profiles.

use crate::common;

mod runtimes;

use std::path::PathBuf;

use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{OptLevel, Target};
use spillscope::engine::layout::checks::{self, CheckKind, OobBehavior};
use spillscope::engine::layout::map::{Growth, Instantiation, MarkerKind, RegionKind};
use spillscope::engine::layout::model::{StackDirection, StackPlacement};
use spillscope::engine::layout::profile::PageLimitOutcome;
use spillscope::engine::layout::{DifferenceKind, LayoutReport, Profile, Runtime};
use spillscope::engine::session::{self, Settings};

const MIB: u64 = 1 << 20;

fn sample(name: &str) -> PathBuf {
    common::samples_dir().join(name)
}

fn report(name: &str, specs: &[&str]) -> LayoutReport {
    let input = Input::load(&sample(name)).unwrap_or_else(|e| panic!("{e}"));
    let profiles: Vec<Profile> = specs
        .iter()
        .map(|s| Profile::from_spec(s).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    LayoutReport::from_input(&input, &profiles).unwrap_or_else(|e| panic!("{e}"))
}

fn texts(r: &LayoutReport) -> Vec<&str> {
    r.differences.iter().map(|d| d.text.as_str()).collect()
}

// ---------------------------------------------------------------------------
// Profiles

#[test]
fn wasmtime_defaults_come_from_wasmtime() {
    // DESIGN-NOTES "Memory layout facts" (Wasmtime 48 defaults on 64-bit
    // hosts), written from wasmtime-environ's `Tunables::default_u64`.
    for spec in ["aot:x86_64", "aot:aarch64", "aot:riscv64", "aot:s390x"] {
        let p = Profile::from_spec(spec).unwrap();
        assert_eq!(p.runtime, Runtime::Wasmtime);
        assert_eq!(p.memory_reservation_bytes, 4 << 30, "{spec}");
        assert_eq!(p.memory_guard_size_bytes, 32 * MIB, "{spec}");
        assert!(p.guard_before_linear_memory, "{spec}");
        assert_eq!(p.memory_reservation_for_growth_bytes, 2 << 30, "{spec}");
        assert!(p.memory_may_move, "{spec}");
        assert!(p.signals_based_traps, "{spec}");
        assert_eq!(p.page_limit, None);
    }
    // Pulley: no signals-based traps and no guard (Tunables::default_for_target).
    let pulley = Profile::from_spec("aot:pulley64").unwrap();
    assert!(!pulley.signals_based_traps);
    assert_eq!(pulley.memory_guard_size_bytes, 0);
    // The JIT on this (64-bit, Linux) host gets the same memory knobs.
    let jit = Profile::from_spec("jit").unwrap();
    let x86 = Profile::from_spec("aot:x86_64").unwrap();
    assert_eq!(
        (jit.memory_reservation_bytes, jit.memory_guard_size_bytes),
        (x86.memory_reservation_bytes, x86.memory_guard_size_bytes)
    );
    let explicit = Profile::from_spec("explicit").unwrap();
    assert!(!explicit.signals_based_traps);
    assert_eq!(explicit.memory_reservation_bytes, 0);
    assert_eq!(explicit.memory_guard_size_bytes, 0);
    let wasmedge = Profile::from_spec("wasmedge").unwrap();
    assert_eq!(wasmedge.runtime, Runtime::WasmEdgeModel);
    assert_eq!(wasmedge.page_limit, Some(65536));
    assert!(wasmedge.name.contains("documented model"));
}

#[test]
fn profile_knobs_round_trip_through_a_wasmtime_config() {
    let mut edited = Profile::from_spec("aot:aarch64").unwrap();
    edited.memory_reservation_bytes = 1 << 30;
    edited.memory_guard_size_bytes = 64 * 1024;
    edited.memory_may_move = false;
    let mut config = wasmtime::Config::new();
    edited.apply_to_config(&mut config).unwrap();
    let engine = wasmtime::Engine::new(&config).unwrap();
    assert_eq!(engine.get_memory_reservation(), 1 << 30);
    assert_eq!(engine.get_memory_guard_size(), 64 * 1024);
    assert!(!engine.get_memory_may_move());
    assert!(engine.get_signals_based_traps());
    edited.validate().unwrap();
    assert!(
        Profile::wasmedge_model(None)
            .apply_to_config(&mut wasmtime::Config::new())
            .is_err()
    );
}

#[test]
fn bad_profile_names_are_explained() {
    for (spec, needle) in [
        ("frob", "expected jit"),
        ("aot", "needs a target"),
        ("limit:lots", "not a page count"),
        ("aot:vax-unknown-nope", "not a target"),
    ] {
        let e = Profile::from_spec(spec).unwrap_err().to_string();
        assert!(e.contains(needle), "{spec}: {e}");
    }
}

// ---------------------------------------------------------------------------
// The model on the samples

#[test]
fn page_limit_sample_fails_under_wasmtime_and_clamps_under_wasmedge() {
    // page-limit.wat: (memory 40 64); data at 1024 (22 bytes) and at 0x27fff0 (16 bytes).
    let r = report(
        "memory/page-limit.wat",
        &["aot:x86_64", "limit:32:x86_64", "wasmedge:32", "wasmedge"],
    );
    let mem = &r.module.memories[0];
    assert_eq!((mem.min_pages, mem.max_pages), (40, Some(64)));
    assert_eq!(mem.exports, vec!["memory".to_string()]);
    let ranges: Vec<_> = r.module.segments.iter().map(|s| s.range_bytes()).collect();
    assert_eq!(
        ranges,
        vec![Some((1024, 1024 + 22)), Some((0x27fff0, 0x280000))]
    );

    let [plain, limited, clamped, wasmedge_default] = &r.profiles[..] else {
        panic!("four profiles");
    };
    let plain = &plain.memories[0];
    assert_eq!(plain.instantiation, Instantiation::Succeeds);
    assert_eq!(plain.committed_bytes, 40 << 16);
    assert_eq!(plain.maximum_bytes, 64 << 16);
    assert_eq!(plain.growth, Growth::InPlace);

    let limited = &limited.memories[0];
    assert!(matches!(
        &limited.page_limit,
        PageLimitOutcome::InstantiationFails { limit_pages: 32, message }
            if message == "memory minimum size of 40 pages exceeds memory limits"
    ));
    assert!(matches!(limited.instantiation, Instantiation::Fails { .. }));
    assert_eq!(limited.maximum_bytes, 32 << 16);

    let clamped = &clamped.memories[0];
    assert!(matches!(
        clamped.page_limit,
        PageLimitOutcome::Clamped {
            limit_pages: 32,
            ..
        }
    ));
    assert_eq!(clamped.committed_bytes, 32 << 16);
    // Segment 1 lies past the clamped 32 pages; segment 0 does not.
    let problems: Vec<_> = clamped
        .markers
        .iter()
        .filter(|m| m.kind == MarkerKind::DataSegment)
        .map(|m| (m.segment, m.problem.is_some()))
        .collect();
    assert_eq!(problems, vec![(Some(0), false), (Some(1), true)]);
    assert!(matches!(
        &clamped.instantiation,
        Instantiation::Fails { reason } if reason.contains("segment 1")
    ));
    assert!(matches!(
        wasmedge_default.memories[0].page_limit,
        PageLimitOutcome::WithinLimit { limit_pages: 65536 }
    ));

    let t = texts(&r);
    assert!(
        t.iter().any(|s| s.starts_with("Page limit 32 < minimum 40")
            && s.contains("instantiation fails under 'Wasmtime AOT (x86_64-unknown-linux-gnu) + limit 32 pages'")),
        "{t:#?}"
    );
    assert!(
        t.iter()
            .any(|s| s
                .starts_with("segment 1 ends at page 40 (0x280000), beyond the limit of 32 pages")),
        "{t:#?}"
    );
    assert!(
        r.differences
            .iter()
            .any(|d| d.kind == DifferenceKind::Clamped && d.profiles == ["wasmedge:32"])
    );
}

#[test]
fn global_offsets_are_resolved_or_reported_unknown() {
    // global-offsets.wat: global 0 imported (env.table_base); global 1 =
    // 0x10000 + 0x400; segment 0 at global 1, segment 1 at global 0, segment 2 passive.
    let r = report("memory/global-offsets.wat", &["aot:x86_64"]);
    let [s0, s1, s2] = &r.module.segments[..] else {
        panic!("three segments");
    };
    let o0 = s0.offset.as_ref().unwrap();
    assert_eq!(o0.value, Some(0x10400));
    assert_eq!(o0.via_globals, vec![1]);
    assert_eq!(s0.range_bytes(), Some((0x10400, 0x10400 + 8)));
    let o1 = s1.offset.as_ref().unwrap();
    assert_eq!(o1.value, None);
    let why = o1.unknown_reason.as_deref().unwrap();
    assert!(
        why.contains("imported") && why.contains("env.table_base"),
        "{why}"
    );
    assert!(!s2.active && s2.offset.is_none() && s2.length_bytes == 15);
    let map = &r.profiles[0].memories[0];
    assert_eq!(map.unplaced_segments, vec![1]);
    assert!(
        r.differences
            .iter()
            .any(|d| d.kind == DifferenceKind::UnknownOffset && d.text.starts_with("segment 1 "))
    );
}

#[test]
fn far_offset_keeps_its_check_and_near_offset_does_not() {
    // far-offset.wat: i64.load offset=33554424 (32 MiB - 8), i32.load
    // offset=41943040 (40 MiB), i32.load offset=16; one 64 KiB page, no max.
    let r = report(
        "memory/far-offset.wat",
        &["aot:x86_64", "aot:aarch64", "explicit:x86_64", "wasmedge"],
    );
    let offsets: Vec<(u64, u8)> = r
        .module
        .accesses
        .iter()
        .map(|a| (a.offset_bytes, a.access_size_bytes))
        .collect();
    assert_eq!(offsets, vec![(32 * MIB - 8, 8), (40 * MIB, 4), (16, 4)]);
    let largest = r.module.access_summaries[0]
        .largest_offset
        .as_ref()
        .unwrap();
    assert_eq!(largest.offset_bytes, 40 * MIB);
    assert_eq!(largest.function, 1);
    assert_eq!(largest.function_name.as_deref(), Some("far"));

    let counts = |i: usize| r.profiles[i].memories[0].checks.clone();
    let x86 = counts(0).unwrap();
    assert_eq!((x86.elided, x86.explicit), (2, 1));
    assert_eq!(x86.oob, Some(OobBehavior::SpectreGuardSelect));
    let arm = counts(1).unwrap();
    assert_eq!((arm.elided, arm.explicit), (2, 1));
    let explicit = counts(2).unwrap();
    assert_eq!((explicit.elided, explicit.explicit), (0, 3));
    assert_eq!(explicit.oob, Some(OobBehavior::Trapnz));
    assert!(counts(3).is_none(), "WasmEdge checks are not modelled");

    let t = texts(&r);
    assert!(
        t.iter().any(|s| s
            .starts_with("constant offset 40 MiB (i32.load offset=41943040 in func 1 ($far)")
            && s.contains("exceeds the 32 MiB guard")
            && s.contains(
                "1 access of memory 0 (\"memory\") keeps an explicit check under every profile"
            )),
        "{t:#?}"
    );

    // The edge of the guard. The largest 32-bit index is 4 GiB - 1, so
    // Wasmtime's rule (u32::MAX <= reservation + guard - (offset + size))
    // still elides at offset + size = guard + 1, and not one byte further.
    let p = Profile::from_spec("aot:x86_64").unwrap();
    let mem = &r.module.memories[0];
    let kind = |offset, size| checks::wasmtime_check(&p, mem, offset, size).unwrap().kind;
    assert_eq!(kind(32 * MIB - 8, 8), CheckKind::Elided);
    assert_eq!(kind(32 * MIB - 7, 8), CheckKind::Elided);
    assert_eq!(kind(32 * MIB - 6, 8), CheckKind::OverflowCheckedCompare);
    assert_eq!(kind(40 * MIB, 4), CheckKind::OverflowCheckedCompare);
}

#[test]
fn memory64_and_shared_memory_follow_their_own_rules() {
    // memory64-shared.wat: memory 0 i64, min 1, no max; memory 1 shared 1..256.
    let r = report(
        "memory/memory64-shared.wat",
        &["aot:x86_64", "explicit:x86_64"],
    );
    let [wide, shared] = &r.module.memories[..] else {
        panic!("two memories");
    };
    assert!(wide.memory64 && !wide.shared && wide.max_pages.is_none());
    assert!(shared.shared && !shared.memory64 && shared.max_pages == Some(256));
    assert_eq!(wide.max_bytes(), 1 << 64);
    assert_eq!(
        r.module.segments[0].range_bytes(),
        Some((0x100, 0x100 + "in the 64-bit memory".len() as u128))
    );

    let jit = &r.profiles[0].memories;
    assert_eq!(
        jit[0].growth,
        Growth::MovesBeyond {
            capacity_bytes: 4 << 30
        }
    );
    let wide_checks = jit[0].checks.as_ref().unwrap();
    assert_eq!((wide_checks.elided, wide_checks.explicit), (0, 1));
    assert!(!wide_checks.elision_possible);
    let shared_checks = jit[1].checks.as_ref().unwrap();
    assert_eq!((shared_checks.elided, shared_checks.explicit), (1, 0));
    let p = &r.profiles[0].profile;
    assert!(!checks::memory_may_move(p, shared));
    assert!(checks::memory_may_move(p, wide));
    assert!(
        r.differences
            .iter()
            .any(|d| d.kind == DifferenceKind::NoElision && d.memory == Some(0))
    );
}

#[test]
fn kernels_stack_and_heap_are_inferred_from_wasm_ld_globals() {
    let path = sample("c/kernels.wasm");
    let bytes = std::fs::read(&path).unwrap();
    // Independent reading: wasmprinter's text of the module.
    let text = wasmprinter::print_bytes(&bytes).unwrap();
    // `(export "__heap_base" (global $__heap_base))` or `(global 1)`.
    let global_ref = |name: &str| -> String {
        let needle = format!("(export \"{name}\" (global ");
        let at = text
            .find(&needle)
            .unwrap_or_else(|| panic!("{name} exported"))
            + needle.len();
        text[at..].split(')').next().unwrap().trim().to_string()
    };
    let global_value = |reference: String| -> u64 {
        let wanted = if reference.starts_with('$') {
            format!("(global {reference} ")
        } else {
            format!("(;{reference};)")
        };
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("(global ") && l.contains(&wanted))
            .unwrap_or_else(|| panic!("global {reference}"));
        let at = line.find("i32.const ").unwrap() + "i32.const ".len();
        line[at..].trim_end_matches(')').trim().parse().unwrap()
    };
    let sp = global_value(global_ref("__stack_pointer"));
    let data_end = global_value(global_ref("__data_end"));
    let heap_base = global_value(global_ref("__heap_base"));

    let r = report(
        "c/kernels.wasm",
        &["aot:x86_64", "explicit:x86_64", "wasmedge"],
    );
    let stack = r.module.stack.as_ref().expect("a stack is inferred");
    assert!(stack.inferred);
    assert_eq!(stack.pointer_initial_bytes, sp);
    assert_eq!(stack.high_bytes, sp);
    assert_eq!(stack.direction, StackDirection::Down);
    // Debian's clang 14 links data first (no --stack-first): the stack sits
    // between the end of data (aligned to 16) and __heap_base.
    assert!(sp > data_end);
    assert_eq!(stack.placement, StackPlacement::AfterData);
    assert_eq!(stack.low_bytes, Some(data_end.div_ceil(16) * 16));
    assert_eq!(heap_base, sp);
    assert_eq!(
        stack.size_bytes(),
        Some(64 * 1024),
        "wasm-ld's default stack"
    );
    assert_eq!(r.module.layout_value("__heap_base"), Some(heap_base));
    assert_eq!(r.module.layout_value("__data_end"), Some(data_end));

    // Data segments: offsets as wasmprinter prints them.
    let printed_offsets: Vec<u128> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("(data "))
        .map(|l| {
            let at = l.find("(i32.const ").unwrap() + "(i32.const ".len();
            l[at..].split(')').next().unwrap().parse().unwrap()
        })
        .collect();
    let ours: Vec<u128> = r
        .module
        .segments
        .iter()
        .map(|s| s.range_bytes().unwrap().0)
        .collect();
    assert_eq!(ours, printed_offsets);
    assert!(
        r.module
            .segments
            .iter()
            .all(|s| s.range_bytes().unwrap().1 <= u128::from(data_end))
    );

    // Direction evidence: functions that subtract from the stack pointer
    // between reading it and writing it back, counted on the printed text.
    let mut subtracting = 0;
    for func in text.split("\n  (func ").skip(1) {
        let Some(get) = func.find("global.get $__stack_pointer") else {
            continue;
        };
        let Some(set) = func[get..].find("global.set $__stack_pointer") else {
            continue;
        };
        let between = &func[get..get + set];
        let sub = between.find("i32.sub");
        let add = between.find("i32.add");
        if sub.is_some_and(|s| add.is_none_or(|a| s < a)) {
            subtracting += 1;
        }
    }
    assert!(subtracting > 0);
    assert!(
        stack
            .basis
            .iter()
            .any(|b| b.starts_with(&format!("{subtracting} functions subtract"))),
        "{:?} vs {subtracting}",
        stack.basis
    );

    // Placed in every profile's map of memory 0, labelled as inferred.
    for p in &r.profiles {
        let m = &p.memories[0];
        let stack_marker = m
            .markers
            .iter()
            .find(|k| k.kind == MarkerKind::Stack)
            .unwrap();
        assert!(stack_marker.inferred && stack_marker.label.contains("inferred"));
        assert_eq!(stack_marker.end_bytes, u128::from(sp));
        assert!(m.regions.iter().any(|r| r.kind == RegionKind::Committed));
    }
    // 1135 accesses: every one elided under the default knobs, every one
    // checked with signals-based traps off.
    let jit = r.profiles[0].memories[0].checks.as_ref().unwrap();
    let explicit = r.profiles[1].memories[0].checks.as_ref().unwrap();
    assert_eq!(jit.accesses, r.module.access_summaries[0].accesses);
    assert_eq!(jit.explicit, 0);
    assert_eq!(explicit.elided, 0);
    assert_eq!(explicit.explicit, jit.accesses);
}

#[test]
fn address_map_regions_follow_the_knobs() {
    let r = report(
        "memory/far-offset.wat",
        &["aot:x86_64", "explicit:x86_64", "wasmedge"],
    );
    let spans = |i: usize| -> Vec<(RegionKind, i128, i128)> {
        r.profiles[i].memories[0]
            .regions
            .iter()
            .map(|g| (g.kind, g.start_bytes, g.end_bytes))
            .collect()
    };
    let page = 1i128 << 16;
    let four_gib = 1i128 << 32;
    let guard = 32i128 << 20;
    assert_eq!(
        spans(0),
        vec![
            (RegionKind::GuardBefore, -guard, 0),
            (RegionKind::Committed, 0, page),
            (RegionKind::Growable, page, four_gib),
            (RegionKind::GuardAfter, four_gib, four_gib + guard),
        ]
    );
    // No reservation: Wasmtime maps the minimum plus the growth reservation.
    let growth = 2i128 << 30;
    assert_eq!(
        spans(1),
        vec![
            (RegionKind::Committed, 0, page),
            (RegionKind::Growable, page, page + growth),
        ]
    );
    // WasmEdge's documented 12 GiB: 4 GiB guard, 4 GiB memory, 4 GiB guard.
    assert_eq!(
        spans(2),
        vec![
            (RegionKind::GuardBefore, -four_gib, 0),
            (RegionKind::Committed, 0, page),
            (RegionKind::Growable, page, four_gib),
            (RegionKind::GuardAfter, four_gib, 2 * four_gib),
        ]
    );
    assert_eq!(r.profiles[2].memories[0].reserved_bytes, 12 << 30);
}

/// The model's count of explicit checks matches the checks in the CLIF that
/// Wasmtime really produced with its default knobs (= the `aot:x86_64`
/// profile): each explicit check under signals-based traps is one
/// `select_spectre_guard`.
#[test]
fn explicit_check_count_matches_wasmtime_clif() {
    let profile = Profile::from_spec("aot:x86_64").unwrap();
    let mut explicit_in_clif = 0;
    for name in [
        "memory/far-offset.wat",
        "memory/memory64-shared.wat",
        "memory/page-limit.wat",
        "memory.wat",
    ] {
        let input = Input::load(&sample(name)).unwrap();
        let r = LayoutReport::from_input(&input, std::slice::from_ref(&profile)).unwrap();
        for f in input.functions.iter().filter(|f| !f.imported) {
            let settings = Settings {
                target: Target::X86_64,
                opt: OptLevel::None,
                ..Settings::default()
            };
            let prepared = session::prepare_clif(&input, f.index, settings).unwrap();
            let in_clif = prepared.clif.matches("select_spectre_guard").count();
            let modelled = r
                .module
                .accesses
                .iter()
                .filter(|a| a.function == f.index)
                .filter(|a| {
                    let mem = r.module.memory(a.memory).unwrap();
                    checks::check_for_site(&profile, mem, a)
                        .unwrap()
                        .kind
                        .is_explicit()
                })
                .count();
            assert_eq!(modelled, in_clif, "{name} func {}", f.index);
            explicit_in_clif += in_clif;
        }
    }
    // far-offset's 40 MiB load and memory64-shared's 64-bit load.
    assert!(explicit_in_clif >= 2, "{explicit_in_clif}");
}

// ---------------------------------------------------------------------------
// The CLI

#[test]
fn layout_json_goldens() {
    // Explicit targets only, so the goldens hold on any host.
    let cases: [(&str, &[&str], &str); 6] = [
        (
            "memory/page-limit.wat",
            &["aot:x86_64", "limit:32:x86_64", "wasmedge:32"],
            "page-limit.json",
        ),
        (
            "memory/global-offsets.wat",
            &["aot:x86_64"],
            "global-offsets.json",
        ),
        (
            "memory/far-offset.wat",
            &["aot:x86_64", "explicit:x86_64", "aot:aarch64"],
            "far-offset.json",
        ),
        (
            "memory/memory64-shared.wat",
            &["aot:x86_64", "explicit:x86_64", "wasmedge"],
            "memory64-shared.json",
        ),
        ("memory/no-memory.wat", &["aot:x86_64"], "no-memory.json"),
        (
            "c/kernels.wasm",
            &["aot:x86_64", "explicit:x86_64", "wasmedge"],
            "kernels.json",
        ),
    ];
    for (file, profiles, golden) in cases {
        let path = format!("sample-modules/{file}");
        let mut args = vec!["layout", path.as_str(), "--json"];
        for p in profiles {
            args.push("--profile");
            args.push(p);
        }
        let out = common::spillscope(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["profiles"].as_array().unwrap().len(), profiles.len());
        common::golden("layout", golden, &stdout);
    }
}

#[test]
fn text_output_is_readable() {
    let out = common::spillscope(&[
        "layout",
        "sample-modules/memory/page-limit.wat",
        "--profile",
        "aot:x86_64",
        "--profile",
        "limit:32:x86_64",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "memory 0: 32-bit, min 40 pages (2 MiB + 512 KiB), max 64 pages (4 MiB)",
        "segment 1: memory 0 [0x27fff0, 0x280000) 16 B",
        "== Wasmtime AOT (x86_64-unknown-linux-gnu) + limit 32 pages [limit:32:x86_64]",
        "instantiation: FAILS: Wasmtime: \"memory minimum size of 40 pages exceeds memory limits\"",
        "-0x2000000 .. 0x0          guard before (32 MiB)",
        "Differences",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn no_memory_is_a_clear_line_not_an_error() {
    let out = common::spillscope(&["layout", "sample-modules/memory/no-memory.wat"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("no linear memory: the module defines and imports no memory")),
        "{text}"
    );
    let r = report("memory/no-memory.wat", &["aot:x86_64"]);
    assert!(r.module.memories.is_empty());
    assert_eq!(r.differences[0].kind, DifferenceKind::NoMemory);
}

#[test]
fn bad_inputs_and_profiles_fail_clearly() {
    for (args, needles) in [
        (
            vec!["layout", "sample-modules/fib.clif"],
            vec!["fib.clif", "needs a WebAssembly module"],
        ),
        (
            vec!["layout", "sample-modules/memory.wat", "--profile", "frob"],
            vec!["profile `frob`", "expected jit"],
        ),
        (
            vec!["layout", "no/such/file.wasm"],
            vec!["no/such/file.wasm", "cannot read"],
        ),
    ] {
        let out = common::spillscope(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for n in needles {
            assert!(stderr.contains(n), "{args:?}: {stderr:?} lacks {n:?}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The model's reservation, guards and accessible part of every memory equal
/// what Wasmtime maps: `layout --measure` makes each memory under each
/// Wasmtime profile's `Config` in its own process and reads the mapping from
/// `/proc/self/maps`.
#[test]
fn the_model_equals_what_wasmtime_maps() {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: measuring reads /proc/self/maps, which only Linux has");
        return;
    }
    let mut compared = 0;
    for (file, profiles) in [
        ("memory.wat", &["jit", "explicit", "limit:8"][..]),
        ("memory/memory64-shared.wat", &["jit", "explicit"][..]),
        ("memory/page-limit.wat", &["jit", "explicit"][..]),
        ("memory/one-byte-pages.wat", &["jit", "explicit"][..]),
        ("c/kernels.wasm", &["jit", "explicit"][..]),
    ] {
        let path = sample(file);
        let mut args = vec!["layout", path.to_str().unwrap(), "--measure", "--json"];
        for p in profiles {
            args.extend(["--profile", p]);
        }
        let v = common::json(&args);
        let measured = v["measured"].as_array().unwrap();
        let memories = v["module"]["memories"].as_array().unwrap().len();
        assert_eq!(measured.len(), memories * profiles.len(), "{file}");
        for m in measured {
            assert_eq!(
                m["model"], m["wasmtime"],
                "{file} under {}: the model and what Wasmtime mapped",
                m["profile"]
            );
            compared += 1;
        }
    }
    assert!(compared >= 11, "{compared} memories compared");
}
