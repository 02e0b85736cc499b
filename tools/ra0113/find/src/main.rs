//! `ra0113-find`: compile every function of a Wasm module with Wasmtime 31
//! (Cranelift 0.118), one function at a time, and report the first function
//! on which regalloc2 logs more than a budget of trace records, i.e. whose
//! register allocation does not terminate with regalloc2 0.11.3.
//!
//! ```text
//! ra0113-find MODULE.wasm [--budget N] [--clif-out FILE] [--pre-opt] [--dump-dir DIR]
//!                         [--emit-clif DIR] [--trace-for NAME --trace-out FILE] [--stats FILE]
//! ```
//!
//! The function is identified from Cranelift's `Optimizing (opt level ...):`
//! trace record, which carries the function as Wasmtime handed it to
//! Cranelift. Its CLIF is taken from the `After egraph optimization:` record:
//! that is what Wasmtime's `Config::emit_clif` writes (the function after
//! Cranelift's mid-end), and unlike the earlier form it has no
//! `global_value` instructions, which newer Cranelift removed. `--pre-opt`
//! takes the earlier form instead (`ra0113 check --opt-level speed` for it).
//! `--dump-dir` writes every function's CLIF (use it with a build locked at
//! regalloc2 0.11.2 to get all functions). `--trace-for` writes the
//! regalloc2 records of one function (message text only, one per line, up to
//! the budget) so that they can be compared with `ra0113 check --log`'s.
//! `--emit-clif DIR` also turns on Wasmtime's own `Config::emit_clif` (which
//! writes a function only once it compiled), to cross-check the capture.
//! `--stats FILE` writes one line per compiled function: name, regalloc2
//! records, milliseconds (until the next function starts), CLIF bytes.
//!
//! Exit codes: 0 module compiled, 1 error, 3 a function went over budget.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use log::{LevelFilter, Log, Metadata, Record};

const USAGE: &str = "usage: ra0113-find MODULE.wasm [--budget N] [--clif-out FILE] [--pre-opt] [--dump-dir DIR] [--emit-clif DIR] [--trace-for NAME --trace-out FILE] [--stats FILE]";

struct Options {
    module: PathBuf,
    budget: u64,
    clif_out: PathBuf,
    pre_opt: bool,
    dump_dir: Option<PathBuf>,
    trace_for: Option<String>,
    trace_out: Option<PathBuf>,
    stats: Option<PathBuf>,
    emit_clif: Option<PathBuf>,
}

/// State of the function being compiled.
#[derive(Default)]
struct Current {
    name: String,
    clif: String,
    started: Option<Instant>,
    /// Where this function's regalloc2 records go (`--trace-for`).
    trace: Option<BufWriter<File>>,
}

struct Finder {
    opts: Options,
    records: AtomicU64,
    functions: AtomicU64,
    current: Mutex<Current>,
    stats: Mutex<Option<BufWriter<File>>>,
}

static FINDER: OnceLock<Finder> = OnceLock::new();

const OPTIMIZING: &str = "Optimizing (opt level ";
const OPTIMIZED: &str = "After egraph optimization:\n";

impl Finder {
    /// Cranelift is about to compile a new function: `text` is the record
    /// `Optimizing (opt level Speed):\n<function>`.
    fn new_function(&self, text: &str) {
        let clif = text.split_once('\n').map_or("", |(_, f)| f);
        let name = clif
            .strip_prefix("function ")
            .and_then(|s| s.split('(').next())
            .unwrap_or("?")
            .to_string();
        if self.opts.pre_opt {
            self.dump(&name, clif);
        }
        let n = self.functions.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(500) {
            eprintln!("... {n} functions started (now {name})");
        }
        let trace = match (&self.opts.trace_for, &self.opts.trace_out) {
            (Some(want), Some(out)) if *want == name => match File::create(out) {
                Ok(f) => Some(BufWriter::new(f)),
                Err(e) => {
                    eprintln!("warning: creating {}: {e}", out.display());
                    None
                }
            },
            _ => None,
        };
        self.finish_function();
        self.records.store(0, Ordering::Relaxed);
        let mut cur = self.current.lock().unwrap();
        if let Some(t) = cur.trace.as_mut() {
            let _ = t.flush();
        }
        *cur = Current {
            name,
            clif: clif.to_string(),
            started: Some(Instant::now()),
            trace,
        };
    }

    /// Cranelift's mid-end is done: `clif` is the optimized function.
    fn optimized(&self, clif: &str) {
        let mut cur = self.current.lock().unwrap();
        if !self.opts.pre_opt {
            self.dump(&cur.name, clif);
            cur.clif = clif.to_string();
        }
    }

    /// `--dump-dir`: writes one function's CLIF to DIR/NAME.clif.
    fn dump(&self, name: &str, clif: &str) {
        if let Some(dir) = &self.opts.dump_dir {
            let file = dir.join(format!("{}.clif", name.replace([':', '%'], "_")));
            if let Err(e) = std::fs::write(&file, clif) {
                eprintln!("warning: writing {}: {e}", file.display());
            }
        }
    }

    /// Writes the `--stats` line of the function compiled so far, if any.
    fn finish_function(&self) {
        let cur = self.current.lock().unwrap();
        if let (Some(out), Some(t)) = (self.stats.lock().unwrap().as_mut(), cur.started) {
            let _ = writeln!(
                out,
                "{} {} {:.3} {}",
                cur.name,
                self.records.load(Ordering::Relaxed),
                t.elapsed().as_secs_f64() * 1e3,
                cur.clif.len()
            );
        }
    }

    fn over_budget(&self) -> ! {
        let mut cur = self.current.lock().unwrap();
        if let Some(t) = cur.trace.as_mut() {
            let _ = t.flush();
        }
        let secs = cur.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        if let Some(out) = self.stats.lock().unwrap().as_mut() {
            let _ = out.flush();
        }
        let saved = std::fs::write(&self.opts.clif_out, &cur.clif);
        eprintln!(
            "over budget: function {} exceeded {} regalloc2 records after {secs:.1} s \
             (allocation does not terminate?)",
            cur.name, self.opts.budget
        );
        match saved {
            Ok(()) => eprintln!(
                "its CLIF ({} bytes) is in {}",
                cur.clif.len(),
                self.opts.clif_out.display()
            ),
            Err(e) => eprintln!("writing {}: {e}", self.opts.clif_out.display()),
        }
        std::process::exit(3);
    }
}

impl Log for Finder {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.target().starts_with("regalloc2") || metadata.target().starts_with("cranelift")
    }

    fn log(&self, record: &Record) {
        let target = record.target();
        if target.starts_with("regalloc2") {
            // Counted only, never formatted (unless traced): that keeps the
            // search fast.
            if self.records.fetch_add(1, Ordering::Relaxed) + 1 > self.opts.budget {
                self.over_budget();
            }
            if self.opts.trace_for.is_some() {
                if let Some(t) = self.current.lock().unwrap().trace.as_mut() {
                    let _ = writeln!(t, "{}", record.args());
                }
            }
        } else if target == "cranelift_codegen::context" {
            let text = record.args().to_string();
            if text.starts_with(OPTIMIZING) {
                self.new_function(&text);
            } else if let Some(clif) = text.strip_prefix(OPTIMIZED) {
                self.optimized(clif);
            }
        }
    }

    fn flush(&self) {}
}

fn parse_args() -> Result<Options> {
    let mut module = None;
    let mut opts = Options {
        module: PathBuf::new(),
        budget: 2_000_000,
        clif_out: PathBuf::from("looping.clif"),
        pre_opt: false,
        dump_dir: None,
        trace_for: None,
        trace_out: None,
        stats: None,
        emit_clif: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--budget" => opts.budget = value()?.parse().context("--budget")?,
            "--clif-out" => opts.clif_out = value()?.into(),
            "--pre-opt" => opts.pre_opt = true,
            "--dump-dir" => opts.dump_dir = Some(value()?.into()),
            "--trace-for" => opts.trace_for = Some(value()?),
            "--trace-out" => opts.trace_out = Some(value()?.into()),
            "--stats" => opts.stats = Some(value()?.into()),
            "--emit-clif" => opts.emit_clif = Some(value()?.into()),
            s if s.starts_with("--") => bail!("unknown option {s}\n{USAGE}"),
            _ if module.is_none() => module = Some(PathBuf::from(&arg)),
            s => bail!("unexpected argument {s}\n{USAGE}"),
        }
    }
    opts.module = module.context(USAGE)?;
    Ok(opts)
}

fn run() -> Result<()> {
    let opts = parse_args()?;
    let bytes = std::fs::read(&opts.module)
        .with_context(|| format!("reading {}", opts.module.display()))?;
    if let Some(dir) = &opts.dump_dir {
        std::fs::create_dir_all(dir)?;
    }
    let stats = match &opts.stats {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let finder = FINDER.get_or_init(|| Finder {
        opts,
        stats: Mutex::new(stats),
        records: AtomicU64::new(0),
        functions: AtomicU64::new(0),
        current: Mutex::default(),
    });
    log::set_logger(finder).map_err(|e| anyhow::anyhow!("{e}"))?;
    log::set_max_level(LevelFilter::Trace);

    // Wasmtime 31's defaults (host CPU features, opt_level=speed). This
    // crate is built without Wasmtime's `parallel-compilation` feature, so
    // functions are compiled one after the other on this thread.
    let mut config = wasmtime::Config::new();
    if let Some(dir) = &finder.opts.emit_clif {
        std::fs::create_dir_all(dir)?;
        config.emit_clif(dir);
    }
    let engine = wasmtime::Engine::new(&config)?;
    let start = Instant::now();
    engine.precompile_module(&bytes)?;
    finder.finish_function();
    if let Some(out) = finder.stats.lock().unwrap().as_mut() {
        out.flush()?;
    }
    eprintln!(
        "module compiled: {} functions, none over budget, {:.1} s",
        finder.functions.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ra0113-find: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
