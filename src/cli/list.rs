//! `spillscope list FILE`: every function with its index, name, and size.

use std::path::PathBuf;

use clap::Args;

use crate::engine::input::Input;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope list sample-modules/calls.wat\n  spillscope list module.wasm --json"
)]
pub struct ListArgs {
    /// Input: .wasm, .wat or .clif
    pub file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ListArgs) -> anyhow::Result<()> {
    let input = Input::load(&args.file)?;
    if args.json {
        // Each function's index, name (demangled), `raw_name` (the symbol
        // as written, when demangled), whether imported, and body size.
        return super::print_json(&input.functions);
    }
    outln!("{:>6}  {:>8}  {:<8}  name", "index", "bytes", "kind");
    for f in &input.functions {
        outln!(
            "{:>6}  {:>8}  {:<8}  {}",
            f.index,
            f.body_bytes,
            if f.imported { "import" } else { "defined" },
            super::terminal_safe(f.name.as_deref().unwrap_or("-"))
        );
    }
    Ok(())
}
