//! The command-line front end: one file per subcommand, all over the engine.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::engine::input::isa::{Algorithm, OptLevel, Target};
use crate::engine::releases::Release;
use crate::engine::session::Settings;

/// `println!` for the command line's output: a write that fails (a full
/// disk, a closed pipe) is an error naming standard output, never a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::stdout_error)?
    }};
}

/// `print!` for the command line's output, as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::stdout_error)?
    }};
}

pub mod compare;
pub mod compile;
pub mod diff;
pub mod export;
pub mod fidelity;
pub mod gate;
pub mod layout;
pub mod list;
pub mod map;
pub mod moves;
pub mod reduce;
pub mod registers;
pub mod scan;
pub mod trace;
pub mod versions;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every function of a module or CLIF file.
    List(list::ListArgs),
    /// Compile one function without tracing; report code size and checker verdict.
    Compile(compile::CompileArgs),
    /// Compile one function with regalloc2 traced; print every allocator step.
    Trace(trace::TraceArgs),
    /// Every move, spill and reload regalloc2 inserted, each with the allocator step that caused it.
    Moves(moves::MovesArgs),
    /// One function's link map: each Wasm operator with its CLIF, VCode instructions and machine code.
    Map(map::MapArgs),
    /// Two runs of one function (algorithm, registers, target, opt, or a log) and their differences.
    Diff(diff::DiffArgs),
    /// One function allocated by every built-in regalloc2 release (0.9.3 to 0.15.2): outcome, steps, spills, checker, time.
    Versions(versions::VersionsArgs),
    /// The chart at a step as SVG or PNG, an HTML report, or a bug bundle.
    Export(export::ExportArgs),
    /// Allocate one function again with fewer registers of a class, count by count: splits, spills, moves.
    Registers(registers::RegistersArgs),
    /// Lay out a module's linear memory under runtime profiles; show where they differ.
    Layout(layout::LayoutArgs),
    /// Compile one function under several memory profiles; compare checks, code and allocator work.
    Compare(compare::CompareArgs),
    /// Shrink a CLIF function while the allocator still runs over budget (or a test command still fails).
    Reduce(reduce::ReduceArgs),
    /// Compile every function of many inputs under a budget; report loops, checker failures, panics.
    Scan(scan::ScanArgs),
    /// A release gate: every function of a corpus allocated by a baseline and a candidate regalloc2 release; new loops, panics and checker failures fail it.
    Gate(gate::GateArgs),
    /// Compare our recompile of every function with Wasmtime's own code.
    Fidelity(fidelity::FidelityArgs),
}

/// Options shared by the subcommands that compile a function.
#[derive(Args, Debug, Clone)]
pub struct FunctionArgs {
    /// Input: .wasm, .wat or .clif
    pub file: PathBuf,
    /// Function: an index in the module's function index space, or a name
    #[arg(long = "func", allow_hyphen_values = true)]
    pub func: String,
    /// Target: host, x86_64, aarch64, riscv64, s390x
    #[arg(long, default_value = "host")]
    pub target: Target,
    /// Cranelift opt level: none, speed, speed_and_size
    #[arg(long, default_value = "speed")]
    pub opt: OptLevel,
    /// Register allocator: backtracking or single_pass
    #[arg(long, default_value = "backtracking", value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// regalloc2 release that allocates: 0.9.3, 0.10.2, 0.11.3, 0.12.2, 0.13.5,
    /// 0.14.0, 0.15.2 (Cranelift's), oldest or newest. Another than Cranelift's
    /// allocates the function Cranelift gave regalloc2 again, without machine code
    #[arg(long = "regalloc2", value_name = "VERSION", default_value = "0.15.2", value_parser = parse_release)]
    pub regalloc2: Release,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// A wall-clock limit given in seconds (`--timeout`): a number above 0 and at
/// most [`Seconds::MAX`], so that adding it to the clock cannot overflow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seconds(pub std::time::Duration);

impl Seconds {
    /// A week: longer than any run of this tool should be left alone.
    pub const MAX: f64 = 7.0 * 24.0 * 3600.0;
}

impl std::str::FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Seconds, String> {
        let bad = || {
            format!(
                "`{s}` is not a number of seconds above 0 and at most {} (a week)",
                Seconds::MAX
            )
        };
        let n: f64 = s.trim().parse().map_err(|_| bad())?;
        if !(n.is_finite() && n > 0.0 && n <= Seconds::MAX) {
            return Err(bad());
        }
        std::time::Duration::try_from_secs_f64(n)
            .map(Seconds)
            .map_err(|_| bad())
    }
}

/// `text` with control characters other than newline and tab (an ANSI
/// escape in a function's name, say) shown escaped, so that printing it
/// cannot drive the terminal.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A failed write to standard output, in words.
pub fn stdout_error(e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write to standard output: {e}")
}

/// Flushes standard output; a failure is an error, as for every write.
pub fn flush_stdout() -> anyhow::Result<()> {
    use std::io::Write as _;
    std::io::stdout().flush().map_err(stdout_error)
}

/// A record budget (`--budget`): a whole number of allocator records, at
/// least 1, the same rule in every subcommand.
pub fn parse_budget(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number of allocator records (a whole number, at least 1)"
        )),
    }
}

/// A memory budget (`--memory`): a size such as `800M` or `4G`, at least
/// 64 MiB (less cannot hold Wasmtime's compiler itself).
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let bytes = crate::engine::input::file::parse_size(s)?;
    if bytes < 64 << 20 {
        return Err(format!(
            "`{s}` is less than the 64M a trace needs at the least"
        ));
    }
    Ok(bytes)
}

/// A process exit code (`--expect-exit`): 0 to 255, what a process can
/// really exit with.
pub fn parse_exit_code(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(n) if (0..=255).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not an exit code (0 to 255)")),
    }
}

pub fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name() == s)
        .ok_or_else(|| format!("unknown algorithm `{s}` (backtracking, single_pass)"))
}

/// A built-in regalloc2 release (`--regalloc2`).
pub fn parse_release(s: &str) -> Result<Release, String> {
    s.parse()
}

/// A built-in regalloc2 release, or a regalloc2 source tree (`trace
/// --regalloc2`).
#[derive(Clone, Debug)]
pub enum RegallocArg {
    Release(Release),
    Tree(PathBuf),
}

impl RegallocArg {
    /// The built-in release (Cranelift's for a tree: the function is lowered
    /// by Cranelift either way).
    pub fn release(&self) -> Release {
        match self {
            RegallocArg::Release(r) => *r,
            RegallocArg::Tree(_) => Release::CRANELIFT,
        }
    }
}

/// `--regalloc2 VERSION|PATH`: a folder that exists is a source tree.
pub fn parse_regalloc(s: &str) -> Result<RegallocArg, String> {
    match s.parse::<Release>() {
        Ok(r) => Ok(RegallocArg::Release(r)),
        Err(_) if std::path::Path::new(s).is_dir() => Ok(RegallocArg::Tree(PathBuf::from(s))),
        Err(e) => Err(format!("{e}; or the path of a regalloc2 source tree")),
    }
}

impl FunctionArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            target: self.target,
            opt: self.opt,
            algorithm: self.algorithm,
            release: self.regalloc2,
        }
    }

    /// Machine code is Cranelift's: a subcommand that shows it refuses
    /// another release.
    pub fn cranelift_release_only(&self, what: &str) -> anyhow::Result<()> {
        if self.regalloc2 != Release::CRANELIFT {
            anyhow::bail!(
                "{what} shows Cranelift's machine code, allocated by its own regalloc2 {}; \
                 regalloc2 {} allocates without emitting code (try `trace` or `moves`)",
                Release::CRANELIFT,
                self.regalloc2
            );
        }
        Ok(())
    }
}

/// Runs a subcommand; errors go to stderr from `main`.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List(a) => list::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Trace(a) => trace::run(a),
        Command::Moves(a) => moves::run(a),
        Command::Map(a) => map::run(a),
        Command::Registers(a) => registers::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Versions(a) => versions::run(a),
        Command::Export(a) => export::run(a),
        Command::Layout(a) => layout::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Reduce(a) => reduce::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Gate(a) => gate::run(a),
        Command::Fidelity(a) => fidelity::run(a),
    }
}

/// Writes `value` as pretty JSON to stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The error and its causes in one line, each cause once: an engine error that
/// already quotes its cause (`cannot read file: No such file…`) is not followed
/// by the same cause again.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Lets a closed stdout end the process the way other Unix tools end
/// (`spillscope layout m.wasm --json | head`): Rust ignores SIGPIPE, so the
/// next `println!` would panic with "Broken pipe" instead.
pub fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; restores the
    // default disposition of one signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
