//! `spillscope map FILE --func SEL`: one function's link map — each Wasm
//! operator with its CLIF, VCode instructions and machine-code bytes.

use clap::Args;

use crate::engine::compile::link::{LinkEntry, compact};
use crate::engine::input::Input;
use crate::engine::session;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope map sample-modules/loop.wat --func loop\n  spillscope map sample-modules/loop.wat --func loop --code\n  spillscope map module.wasm --func 12 --target aarch64 --json"
)]
pub struct MapArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
    /// Print the machine code with each run of instructions' Wasm operator
    /// and VCode instructions beside it (text output)
    #[arg(long)]
    pub code: bool,
}

#[derive(serde::Serialize)]
pub struct MapReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    pub code_bytes: usize,
    pub vcode_insts: usize,
    pub entries: Vec<LinkEntry>,
    pub note: Option<String>,
}

pub fn run(args: MapArgs) -> anyhow::Result<()> {
    let a = &args.common;
    a.cranelift_release_only("map")?;
    let input = Input::load(&a.file)?;
    let index = input.select(&a.func)?.index;
    let prepared = session::prepare(&input, index, a.settings())?;
    let map = session::link_map(&input, &prepared, a.settings())?;
    if args.code && !a.json {
        out!("{}", map.annotate(&map.listing).0);
        return Ok(());
    }
    let report = MapReport {
        function: prepared.label.clone(),
        index,
        target: prepared.flags.triple.clone(),
        code_bytes: map.code_bytes,
        vcode_insts: map.vcode_insts,
        entries: map.entries,
        note: map.note,
    };
    if a.json {
        return super::print_json(&report);
    }
    outln!(
        "{} (index {}) on {}: {} code bytes, {} VCode instructions",
        report.function,
        report.index,
        report.target,
        report.code_bytes,
        report.vcode_insts
    );
    if let Some(note) = &report.note {
        outln!("note: {note}");
    }
    for e in &report.entries {
        let at = e
            .wasm_offset
            .map_or_else(|| "(none)".to_string(), |o| format!("{o:#06x}"));
        let op = e
            .wasm_op
            .as_deref()
            .unwrap_or("prologue, epilogue, block ends");
        let code: Vec<String> = e
            .code
            .iter()
            .map(|[s, t]| format!("{s:#x}..{t:#x}"))
            .collect();
        outln!(
            "{at:>8}  {op:<28} clif {:>2}  vcode {:<16} code {}",
            e.clif.len(),
            compact(&e.vcode),
            code.join(" ")
        );
    }
    Ok(())
}
