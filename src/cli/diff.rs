//! `spillscope diff FILE --func SEL --a SPEC --b SPEC`: two runs of one
//! function (algorithm, register counts, target, opt level, or a regalloc2
//! log from another build) and their differences in words.

use clap::Args;

use crate::engine::input::Input;
use crate::engine::replay::diff::DiffReport;
use crate::engine::runs::{self, RunSpec};

#[derive(Args, Debug)]
#[command(
    after_help = "SPEC is KEY=VALUE,... with keys algorithm (backtracking, single_pass), \
regalloc2 (a built-in release, e.g. 0.11.3), registers (int:4+float:8; int=4 alone also works), target, opt (none, speed, speed_and_size) \
and log (a regalloc2 log, given alone); what a SPEC leaves out comes from --target, --opt and \
--algorithm.\n\nExamples:\n  spillscope diff sample-modules/lessons/pressure.wat --func 0 --target x86_64 --a '' --b int=6\n  \
spillscope diff module.wasm --func 12 --a target=x86_64 --b target=aarch64 --json\n  \
spillscope diff module.wasm --func 12 --a opt=none --b opt=speed"
)]
pub struct DiffArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
    /// The first run (empty: the defaults)
    #[arg(long = "a", allow_hyphen_values = true)]
    pub a: String,
    /// The second run
    #[arg(long = "b", allow_hyphen_values = true)]
    pub b: String,
}

#[derive(serde::Serialize)]
pub struct DiffOutput {
    pub function: String,
    pub index: u32,
    #[serde(flatten)]
    pub report: DiffReport,
}

pub fn run(args: DiffArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let spec = |name: &str, text: &str| {
        RunSpec::parse(text).map_err(|e| anyhow::anyhow!("--{name} `{text}`: {e}"))
    };
    let (sa, sb) = (spec("a", &args.a)?, spec("b", &args.b)?);
    let input = Input::load(&c.file)?;
    let info = input.select(&c.func)?;
    let (index, label) = (info.index, info.label());
    let a = runs::run(&input, index, c.settings(), &sa)?;
    let b = runs::run(&input, index, c.settings(), &sb)?;
    let out = DiffOutput {
        function: label,
        index,
        report: runs::compare(&a, &b),
    };
    if c.json {
        return super::print_json(&out);
    }
    let r = &out.report;
    outln!("{} (index {})", out.function, out.index);
    outln!("  a: {}", r.a.label);
    outln!("  b: {}", r.b.label);
    outln!("{:>22} {:>9} {:>9}", "", "a", "b");
    for (what, x, y) in r.a.rows(&r.b) {
        outln!("{what:>22} {x:>9} {y:>9}");
    }
    if let Some(note) = &r.note {
        outln!("note: {note}");
    }
    if r.differences.is_empty() {
        outln!("no differences");
    }
    for d in &r.differences {
        outln!("- {}", d.text);
    }
    if r.not_listed > 0 {
        outln!("… and {} more differences (see --json)", r.not_listed);
    }
    Ok(())
}
