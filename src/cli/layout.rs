//! `spillscope layout FILE [--profile NAME]...`: a module's linear memory under
//! runtime profiles, side by side, and where they disagree.

use std::path::PathBuf;

use clap::Args;

use crate::engine::input::Input;
use crate::engine::layout::map::{AddressMap, Growth, Instantiation};
use crate::engine::layout::measure::{self, MeasuredMemory};
use crate::engine::layout::model::{ModuleLayout, StackDirection};
use crate::engine::layout::profile::PageLimitOutcome;
use crate::engine::layout::units::{hex, human_bytes, pages_from_bytes_ceil};
use crate::engine::layout::{LayoutReport, Profile, ProfileLayout};

#[derive(Args, Debug)]
#[command(after_help = "Profiles:
  jit                       Wasmtime's defaults on this machine
  aot:<target>              Wasmtime's defaults precompiling for a target (x86_64, aarch64,
                            riscv64, s390x, or a triple such as pulley64)
  explicit[:<target>]       no guard pages: signals-based traps off, no reservation, no guard
  limit:<pages>[:<target>]  Wasmtime's defaults plus an embedder's page limit
  wasmedge[:<pages>]        a model of WasmEdge's documented behaviour (not a measured run)
Models of other runtimes' sources (not runs; each number cited in crates/engine/src/layout/profile.rs):
  v8                        V8 15.0 (candidate), trap handler: 8 GiB from the base (memory64: 16 GiB)
  v8:explicit               V8 without the trap handler: the maximum reserved, every access checked
  wamr                      WAMR 2.4.5, hardware bounds checks: 8 GiB mapped; app heap 16 KiB
  wamr:software             WAMR 2.4.5, software bounds checks: the initial size, mremap to grow
  wamr[...]:heap=<bytes>    WAMR with another app heap size (iwasm's default is 16 KiB; 0 with WASI)
  wasmer                    Wasmer 7.5.0: static, 4 GiB + 4 GiB + 64 KiB guard
  wasmer:7.3                Wasmer 7.3.0: static 4 GiB + 4 GiB guard, dynamic above the bound
  wasmer:7.2                Wasmer 6.1-7.2.0: static 4 GiB + 2 GiB guard, dynamic above the bound
  wasm3                     wasm3 0.9.0 (HEAD): no guard, realloc to grow, every access checked
Without --profile: jit, explicit, wasmedge.

Examples:
  spillscope layout sample-modules/c/kernels.wasm
  spillscope layout sample-modules/memory/page-limit.wat --profile jit --profile limit:32 --profile wasmedge:32
  spillscope layout module.wasm --profile aot:aarch64 --json
  spillscope layout sample-modules/memory/one-byte-pages.wat --profile v8 --profile wamr --profile wasmer --profile wasm3")]
pub struct LayoutArgs {
    /// Input: .wasm or .wat
    pub file: PathBuf,
    /// A profile to lay the module out under (repeatable)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Also make each memory with Wasmtime under each Wasmtime profile for
    /// this host (no guest code runs) and compare what it mapped, read from
    /// /proc/self/maps, with the model (Linux)
    #[arg(long)]
    pub measure: bool,
}

#[derive(serde::Serialize)]
struct MeasuredReport<'a> {
    #[serde(flatten)]
    report: &'a LayoutReport,
    measured: Vec<MeasuredMemory>,
}

pub fn run(args: LayoutArgs) -> anyhow::Result<()> {
    let input = Input::load(&args.file)?;
    let profiles = if args.profiles.is_empty() {
        Profile::default_set()?
    } else {
        args.profiles
            .iter()
            .map(|s| Profile::from_spec(s))
            .collect::<Result<Vec<_>, _>>()?
    };
    let report = LayoutReport::from_input(&input, &profiles)?;
    let measured = if args.measure {
        Some(measure::compare(&report)?)
    } else {
        None
    };
    if args.json {
        return match measured {
            Some(measured) => super::print_json(&MeasuredReport {
                report: &report,
                measured,
            }),
            None => super::print_json(&report),
        };
    }
    out!("{}", render_text(&args.file.display().to_string(), &report));
    if let Some(measured) = measured {
        outln!(
            "\nMeasured: each memory made by Wasmtime, its mapping read from /proc/self/maps \
             (compared in host pages of {})",
            human_bytes(measure::host_page_bytes() as u128)
        );
        for m in &measured {
            let w = &m.wasmtime;
            outln!(
                "  {} memory {}: guard before {}, accessible {}, after {}, reserved {} — {}",
                m.profile,
                m.memory,
                human_bytes(w.guard_before_bytes as u128),
                human_bytes(w.accessible_bytes as u128),
                human_bytes(w.after_bytes as u128),
                human_bytes(w.reserved_bytes as u128),
                if m.equal {
                    "as the model says".to_string()
                } else {
                    let d = &m.model;
                    format!(
                        "the model says {}, {}, {}, {}",
                        human_bytes(d.guard_before_bytes as u128),
                        human_bytes(d.accessible_bytes as u128),
                        human_bytes(d.after_bytes as u128),
                        human_bytes(d.reserved_bytes as u128)
                    )
                }
            );
        }
    }
    Ok(())
}

/// The text report (also used by tests).
pub fn render_text(file: &str, report: &LayoutReport) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(file.to_string());
    let module = &report.module;
    if module.memories.is_empty() {
        line(
            "no linear memory: the module defines and imports no memory; nothing to lay out".into(),
        );
        return out;
    }
    module_text(module, &mut line);
    for p in &report.profiles {
        line(String::new());
        profile_text(p, &mut line);
    }
    line(String::new());
    if report.differences.is_empty() {
        line("Differences: none; every profile lays the module out alike".into());
    } else {
        line("Differences".into());
        for d in &report.differences {
            line(format!("  - {}", d.text));
        }
    }
    out
}

fn pages_and_bytes(pages: u64, page_size_bytes: u64) -> String {
    format!(
        "{pages} {} ({})",
        if pages == 1 { "page" } else { "pages" },
        human_bytes(u128::from(pages) * u128::from(page_size_bytes))
    )
}

fn module_text(module: &ModuleLayout, line: &mut impl FnMut(String)) {
    for m in &module.memories {
        let mut traits = vec![if m.memory64 { "64-bit" } else { "32-bit" }.to_string()];
        if m.shared {
            traits.push("shared".into());
        }
        traits.push(format!(
            "min {}",
            pages_and_bytes(m.min_pages, m.page_size_bytes)
        ));
        traits.push(match m.max_pages {
            Some(max) => format!("max {}", pages_and_bytes(max, m.page_size_bytes)),
            None => "no max".into(),
        });
        if let Some(log2) = m.custom_page_size_log2 {
            traits.push(format!(
                "custom page size 2^{log2} = {} B",
                m.page_size_bytes
            ));
        }
        traits.push(match &m.import {
            Some(i) => format!("imported from {i}"),
            None => "defined".into(),
        });
        if !m.exports.is_empty() {
            traits.push(format!("exported as {}", m.exports.join(", ")));
        }
        line(format!("memory {}: {}", m.index, traits.join(", ")));
    }
    if module.segments.is_empty() {
        line("data: none".into());
    } else {
        line("data:".into());
    }
    for s in &module.segments {
        let text = match (&s.offset, s.range_bytes()) {
            (None, _) => format!("passive, {}", human_bytes(s.length_bytes.into())),
            (Some(o), Some((start, end))) => format!(
                "memory {} [{}, {}) {}  ({}{})",
                s.memory.unwrap_or(0),
                hex(start as i128),
                hex(end as i128),
                human_bytes(s.length_bytes.into()),
                o.expr,
                if o.via_globals.is_empty() {
                    String::new()
                } else {
                    format!(" = {}", hex(start as i128))
                }
            ),
            (Some(o), None) => format!(
                "memory {} offset unknown, {}  ({}: {})",
                s.memory.unwrap_or(0),
                human_bytes(s.length_bytes.into()),
                o.expr,
                o.unknown_reason.as_deref().unwrap_or("unknown")
            ),
        };
        line(format!("  {}: {text}", s.label()));
    }
    for g in &module.layout_globals {
        let value = match g.initial.value {
            Some(v) => hex(v.into()),
            None => format!(
                "unknown ({})",
                g.initial.unknown_reason.as_deref().unwrap_or("unknown")
            ),
        };
        line(format!(
            "global {} = {value}  (global {}, by {}{})",
            g.name,
            g.global_index,
            g.recognised_by,
            if g.mutable {
                ", mutable: initial value"
            } else {
                ""
            }
        ));
    }
    match (&module.stack, &module.stack_note) {
        (Some(s), _) => {
            let range = match s.low_bytes {
                Some(low) => format!(
                    "[{}, {}) {}",
                    hex(low.into()),
                    hex(s.high_bytes.into()),
                    human_bytes(s.size_bytes().unwrap_or(0).into())
                ),
                None => format!("top {}, bottom unknown", hex(s.high_bytes.into())),
            };
            let dir = match s.direction {
                StackDirection::Down => "down",
                StackDirection::Up => "up",
            };
            line(format!("stack (inferred): {range}, grows {dir}"));
            for b in &s.basis {
                line(format!("  because {b}"));
            }
        }
        (None, Some(note)) => line(format!("stack: {note}")),
        (None, None) => {}
    }
    for a in &module.access_summaries {
        let largest = match &a.largest_offset {
            Some(site) if site.offset_bytes > 0 => format!(
                ", largest constant offset {} ({})",
                human_bytes(site.offset_bytes.into()),
                site.describe()
            ),
            _ => String::new(),
        };
        line(format!(
            "accesses to memory {}: {} loads/stores/atomics, {} with a constant offset{largest}",
            a.memory, a.accesses, a.with_nonzero_offset
        ));
    }
}

fn profile_text(p: &ProfileLayout, line: &mut impl FnMut(String)) {
    let profile = &p.profile;
    line(format!("== {} [{}]", profile.name, profile.key));
    line(format!(
        "   target {}; {}",
        profile.target,
        profile.knobs_summary()
    ));
    line(format!("   {}", profile.provenance));
    if let Some(Instantiation::Rejected { reason }) = p.memories.first().map(|m| &m.instantiation) {
        line(format!("   REJECTED: {reason}"));
        return;
    }
    for map in &p.memories {
        memory_map_text(map, line);
    }
}

fn memory_map_text(map: &AddressMap, line: &mut impl FnMut(String)) {
    let page = map.page_size_bytes;
    let pages = |b: u128| pages_from_bytes_ceil(b, page);
    line(format!(
        "   memory {}: committed {} ({} pages), maximum {} ({} pages), reserved {}",
        map.memory,
        human_bytes(map.committed_bytes),
        pages(map.committed_bytes),
        human_bytes(map.maximum_bytes),
        pages(map.maximum_bytes),
        human_bytes(map.reserved_bytes)
    ));
    match &map.page_limit {
        PageLimitOutcome::NoLimit => {}
        PageLimitOutcome::WithinLimit { limit_pages } => {
            line(format!("     page limit {limit_pages}: minimum within it"))
        }
        PageLimitOutcome::InstantiationFails {
            limit_pages,
            message,
        } => line(format!(
            "     page limit {limit_pages}: instantiation fails (\"{message}\")"
        )),
        PageLimitOutcome::Clamped { limit_pages, log } => {
            line(format!("     page limit {limit_pages}: clamped; {log}"))
        }
    }
    match &map.instantiation {
        Instantiation::Succeeds => line("     instantiation: succeeds".into()),
        Instantiation::Fails { reason } => line(format!("     instantiation: FAILS: {reason}")),
        Instantiation::Rejected { reason } => line(format!("     REJECTED: {reason}")),
    }
    line(format!(
        "     out of bounds: {}",
        map.bounds_checking.describe()
    ));
    for r in &map.regions {
        line(format!(
            "     {:>12} .. {:<12} {}",
            hex(r.start_bytes),
            hex(r.end_bytes),
            r.label
        ));
    }
    for m in &map.markers {
        let range = if m.start_bytes == m.end_bytes {
            format!("{:>12}", hex(m.start_bytes as i128))
        } else {
            format!(
                "{:>12} .. {:<12}",
                hex(m.start_bytes as i128),
                hex(m.end_bytes as i128)
            )
        };
        let problem = m
            .problem
            .as_deref()
            .map(|p| format!("  <- {p}"))
            .unwrap_or_default();
        line(format!("     {range:<28} {}{problem}", m.label));
    }
    for s in &map.unplaced_segments {
        line(format!("     (segment {s}: offset unknown, not placed)"));
    }
    match &map.growth {
        Growth::InPlace => {}
        Growth::MovesBeyond { capacity_bytes } => line(format!(
            "     growth past {} (page {}) moves the memory",
            human_bytes(*capacity_bytes),
            pages(*capacity_bytes)
        )),
        Growth::FailsBeyond { capacity_bytes } => line(format!(
            "     growth past {} (page {}) fails: the memory may not move",
            human_bytes(*capacity_bytes),
            pages(*capacity_bytes)
        )),
        Growth::NotModelled { capacity_bytes } => line(format!(
            "     growth past {} is not modelled",
            human_bytes(*capacity_bytes)
        )),
        Growth::MayMoveBeyond {
            capacity_bytes,
            how,
        } => line(format!(
            "     growth past {} (page {}) reallocates ({how}): the memory may move",
            human_bytes(*capacity_bytes),
            pages(*capacity_bytes)
        )),
        Growth::NotApplicable => {}
    }
    match &map.checks {
        Some(c) if c.accesses > 0 => {
            let kinds: Vec<String> = c
                .by_kind
                .iter()
                .map(|(k, n)| format!("{n} {}", k.describe()))
                .collect();
            line(format!(
                "     bounds checks: {} accesses: {}",
                c.accesses,
                kinds.join(", ")
            ));
        }
        Some(_) => {}
        None => {}
    }
    for note in &map.notes {
        line(format!("     note: {note}"));
    }
}
