//! `map`: each Wasm operator linked to its CLIF, VCode instructions and
//! machine-code bytes. The VCode side is read from Cranelift's lowering
//! records and the code side from the machine code's source locations, two
//! routes that share nothing; every operator with code must also have VCode.

use crate::common;

use std::collections::HashSet;

use spillscope::engine::compile::link::LinkMap;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::Target;
use spillscope::engine::session::{self, FunctionTrace, Settings};

/// Checks one function's map; returns how many operators have code.
fn check(what: &str, input: &Input, t: &FunctionTrace, target: Target) -> usize {
    let settings = Settings {
        target,
        ..Settings::default()
    };
    let map: LinkMap = session::link_map(input, t.prepared().unwrap(), settings)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(map.note.is_none(), "{what}: {:?}", map.note);
    let code = t.code().expect("the traced compile finished");
    // The map's compile made the traced compile's code.
    assert_eq!(map.code_bytes, code.code.len(), "{what}");
    // Every VCode instruction regalloc2 saw is in exactly one entry.
    let vcode_text = t.traced.trace.vcode_before.as_deref().unwrap_or("");
    let vcode_count = vcode_text
        .lines()
        .filter(|l| l.trim_start().starts_with("Inst "))
        .count();
    assert_eq!(map.vcode_insts, vcode_count, "{what}");
    let mut vcode: Vec<u32> = map.entries.iter().flat_map(|e| e.vcode.clone()).collect();
    vcode.sort();
    assert_eq!(vcode, (0..vcode_count as u32).collect::<Vec<_>>(), "{what}");
    // The code ranges lie inside the function and cover it once.
    let mut ranges: Vec<[u32; 2]> = map.entries.iter().flat_map(|e| e.code.clone()).collect();
    ranges.sort();
    let mut at = 0;
    for [s, e] in &ranges {
        assert!(s < e && *e as usize <= map.code_bytes, "{what}: {s}..{e}");
        assert_eq!(*s, at, "{what}: gap or overlap at {at}");
        at = *e;
    }
    assert_eq!(at as usize, map.code_bytes, "{what}");
    // Every line of the CLIF compiled is in one entry.
    let clif_lines: Vec<usize> = map
        .entries
        .iter()
        .flat_map(|e| e.clif.iter().map(|c| c.line))
        .collect();
    let unique: HashSet<usize> = clif_lines.iter().copied().collect();
    assert_eq!(unique.len(), clif_lines.len(), "{what}: a CLIF line twice");
    let mut with_code = 0;
    for e in &map.entries {
        let Some(offset) = e.wasm_offset else {
            continue;
        };
        assert!(
            e.wasm_op.as_deref().is_some_and(|op| !op.is_empty()),
            "{what}: offset {offset:#x} has no operator text"
        );
        if !e.code.is_empty() {
            // Code at this operator was emitted for VCode instructions of it.
            assert!(
                !e.vcode.is_empty(),
                "{what}: {offset:#x} {:?} has code but no VCode",
                e.wasm_op
            );
            assert!(
                !e.clif.is_empty(),
                "{what}: {offset:#x} has code but no CLIF"
            );
            with_code += 1;
        }
        for v in &e.vcode {
            assert!((*v as usize) < vcode_count, "{what}");
        }
    }
    with_code
}

#[test]
fn every_sample_function_links_operators_clif_vcode_and_code() {
    let mut with_code = 0;
    for target in [Target::X86_64, Target::Aarch64] {
        for s in crate::engine::sample_traces(target) {
            if s.input.wasm().is_none() || s.trace.code().is_none() {
                continue;
            }
            let what = format!("{} #{} {target:?}", s.input.path.display(), s.index);
            with_code += check(&what, &s.input, &s.trace, target);
        }
    }
    assert!(with_code >= 1000, "only {with_code} operators with code");
}

#[test]
fn spec_corpus_modules_link_operators_to_code() {
    let mut with_code = 0;
    let found = crate::spec_corpus::each_traced_function(
        &["fac.wast", "br_table.wast"],
        4,
        40,
        |what, _, input, t| {
            with_code += check(what, input, t, Target::X86_64);
        },
    );
    if found {
        assert!(with_code >= 100, "only {with_code} operators with code");
    }
}

#[test]
fn map_json_has_the_documented_shape() {
    let v = common::sample_json("map", "loop.wat", "loop");
    assert_eq!(v["function"], "loop");
    let bytes = v["code_bytes"].as_u64().unwrap();
    let entries = v["entries"].as_array().unwrap();
    // The call operator's code is a call instruction's bytes, inside the function.
    let call = entries
        .iter()
        .find(|e| {
            e["wasm_op"]
                .as_str()
                .is_some_and(|op| op.starts_with("call "))
        })
        .expect("the call operator");
    assert!(call["wasm_offset"].as_u64().is_some());
    assert!(!call["clif"].as_array().unwrap().is_empty());
    assert!(!call["vcode"].as_array().unwrap().is_empty());
    for e in entries {
        for r in e["code"].as_array().unwrap() {
            assert!(r[1].as_u64().unwrap() <= bytes, "{e}");
        }
    }
    // The prologue has no Wasm origin.
    let none = entries.iter().find(|e| e["wasm_offset"].is_null()).unwrap();
    assert_eq!(none["code"][0][0], 0);
}
