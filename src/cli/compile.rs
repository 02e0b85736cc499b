//! `spillscope compile FILE --func SEL`: an untraced compile, for sizes and the
//! checker's verdict.

use clap::Args;

use crate::engine::input::Input;
use crate::engine::session;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope compile sample-modules/pressure.wat --func pressure\n  spillscope compile module.wasm --func 12 --target aarch64 --opt none --json"
)]
pub struct CompileArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
}

#[derive(serde::Serialize)]
pub struct CompileReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    pub code_bytes: usize,
    pub machine_insts: usize,
    pub spill_slots: usize,
    pub checker: String,
}

pub fn run(args: CompileArgs) -> anyhow::Result<()> {
    let a = &args.common;
    a.cranelift_release_only("compile")?;
    let input = Input::load(&a.file)?;
    let index = input.select(&a.func)?.index;
    let c = session::compile_function(&input, index, a.settings(), true)?;
    let report = CompileReport {
        function: c.prepared.label.clone(),
        index,
        target: c.prepared.flags.triple.clone(),
        code_bytes: c.code.code.len(),
        machine_insts: c.code.machine_insts,
        spill_slots: c.spill_slots,
        checker: c.checker.text(),
    };
    if a.json {
        return super::print_json(&report);
    }
    outln!("function     {} (index {})", report.function, report.index);
    outln!("target       {}", report.target);
    outln!("code bytes   {}", report.code_bytes);
    outln!("machine insts {}", report.machine_insts);
    outln!("spill slots  {}", report.spill_slots);
    outln!("checker      {}", report.checker);
    Ok(())
}
