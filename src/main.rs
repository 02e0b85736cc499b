//! `spillscope`: with no subcommand, the desktop app; otherwise the CLI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Counts the bytes in use (the memory budget) and says in one line when an
/// allocation fails, instead of aborting.
#[global_allocator]
static ALLOCATOR: spillscope::engine::memory::Guarded = spillscope::engine::memory::Guarded;

#[derive(Parser, Debug)]
#[command(
    name = "spillscope",
    version,
    about = "Step the regalloc2 register allocator bundle by bundle on the code Wasmtime compiles",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<spillscope::cli::Command>,
    /// Open this .wasm, .wat, .clif file or regalloc2 log in the app (default: an embedded sample)
    path: Option<PathBuf>,
    /// Function to select first: an index or a name
    #[arg(long = "func")]
    func: Option<String>,
    /// Put the replay cursor after this many steps once the trace is ready
    #[arg(long)]
    step: Option<usize>,
    /// Allocate the function again with fewer registers, e.g. int=6
    #[arg(long, value_parser = |s: &str| s.parse::<spillscope::engine::compile::realloc::RegisterCounts>())]
    registers: Option<spillscope::engine::compile::realloc::RegisterCounts>,
    /// Write the app's exports into this folder without asking
    #[arg(long)]
    export_dir: Option<PathBuf>,
    /// Time limit of a traced allocation in the app, in seconds (0: no
    /// limit, only Stop ends it; default: scaled to the function's size)
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Register allocator to start with: backtracking or single_pass
    #[arg(long, value_parser = spillscope::cli::parse_algorithm)]
    algorithm: Option<spillscope::engine::input::isa::Algorithm>,
    /// Memory one function's trace may use, such as 4G (default: three
    /// quarters of this machine's memory, less under `ulimit -v`)
    #[arg(long, global = true, value_parser = spillscope::cli::parse_memory)]
    memory: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(bytes) = cli.memory {
        spillscope::engine::memory::set_budget(bytes);
    }
    let result = match cli.command {
        Some(command) => {
            spillscope::cli::end_quietly_on_closed_pipe();
            spillscope::cli::run(command).and_then(|()| spillscope::cli::flush_stdout())
        }
        None => open_app(cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: {}",
                spillscope::cli::terminal_safe(&spillscope::cli::error_text(&e))
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "gui")]
fn open_app(cli: Cli) -> anyhow::Result<()> {
    spillscope::gui::run(
        cli.path,
        cli.func,
        cli.step,
        cli.registers,
        cli.export_dir,
        cli.algorithm,
        cli.timeout,
    )
}

/// A build without the `gui` feature is the command line alone.
#[cfg(not(feature = "gui"))]
fn open_app(_cli: Cli) -> anyhow::Result<()> {
    anyhow::bail!(
        "this spillscope was built without the app (the `gui` feature); \
         run a subcommand, e.g. `spillscope scan FILE` (see `spillscope --help`)"
    )
}
