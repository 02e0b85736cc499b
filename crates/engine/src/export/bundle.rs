//! A bug bundle for allocator reports: a folder with the function as a CLIF
//! file that compiles on its own (Cranelift's flags and target as `set` and
//! `target` lines), the exact flags, regalloc2's log (whole when short; its
//! first and last records, compressed, when long), the diagnosis in words and
//! as JSON, the allocator's input in regalloc2's own format, and a README
//! with the one-line command that reproduces it. Sized to attach to an issue
//! (under 25 MB for a 110 KB function), made in bounded memory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::capture::raw_log::{HeadTailLog, LogStop};
use crate::error::{EngineError, EngineResult};
use crate::input::Input;
use crate::input::isa::CompilerFlags;
use crate::releases::Release;
use crate::replay::diagnose::{self, Diagnosis};
use crate::session::{self, Route, Settings};

/// What goes into a bundle.
pub struct Bundle<'a> {
    /// Where the function came from: `module.wasm, function 12 (name)`.
    pub source: String,
    /// The function's CLIF as the allocator's input was lowered from it.
    pub clif: &'a str,
    /// The CLIF is Wasmtime's output, already through the e-graph pass: it
    /// is written with `opt_level=none` so Cranelift lowers it as it is.
    pub optimized: bool,
    pub flags: &'a CompilerFlags,
    /// regalloc2's records as env_logger text: the first and the last
    /// [`LOG_KEEP_BYTES`] of them, the allocation stopped at the budget or at
    /// [`LOG_STOP_BYTES`].
    pub log: &'a HeadTailLog,
    pub records_budget: u64,
    pub diagnosis: &'a Diagnosis,
    /// `ok`, `failed: …`, `not run`.
    pub checker: String,
    pub steps: usize,
    /// The release that allocated, and its reproducer file of the function
    /// (regalloc2's own `SerializableFunction`, bincode), when it has one.
    pub release: Release,
    pub reproducer: Option<Vec<u8>>,
}

/// How much of the start and of the end of regalloc2's log a bundle keeps.
/// A log within twice this is kept whole, as text; a longer one keeps its
/// first and last records, compressed (`regalloc2.log.gz`): the setup, and
/// the records before the stop (where a loop repeats itself).
pub const LOG_KEEP_BYTES: usize = 8 << 20;

/// The log at which the export stops the allocation: the log of a big
/// function's whole allocation runs to gigabytes (12 GB for a 105 KB
/// function), which no one reads or mails. The steps and the diagnosis are
/// traced on their own, of the whole allocation.
pub const LOG_STOP_BYTES: u64 = 512 << 20;

/// A text file bigger than this is written compressed (`NAME.gz`).
pub const COMPRESS_ABOVE: usize = 8 << 20;

/// Files a bundle may hold, relative to its folder: each text file as text
/// or, when big, compressed; the reproducer file when the release could
/// write one.
pub const FILES: [&str; 8] = [
    "function.clif",
    "function.clif.gz",
    "flags.txt",
    "regalloc2.log",
    "regalloc2.log.gz",
    "diagnosis.json",
    "README.md",
    REPRODUCER,
];

/// The allocator's input in regalloc2's own reproducer format.
pub const REPRODUCER: &str = "regalloc2-input.bin";

/// The CLIF file: Cranelift's flags as `set` lines, the target with its ISA
/// flags, then the function (without `set`/`target` lines of its own).
pub fn standalone_clif(clif: &str, flags: &CompilerFlags, optimized: bool) -> String {
    let mut out = String::new();
    out.push_str(
        "; Written by spillscope: Wasmtime's Cranelift flags and target, then the function.\n",
    );
    if optimized {
        out.push_str(
            "; Wasmtime's CLIF is already optimized: opt_level=none lowers it as it is.\n",
        );
    }
    for f in &flags.shared {
        let value = if optimized && f.name == "opt_level" {
            "none"
        } else {
            f.value.as_str()
        };
        out.push_str(&format!("set {}={value}\n", f.name));
    }
    let arch = flags.triple.split('-').next().unwrap_or(&flags.triple);
    out.push_str(&format!("target {arch}"));
    for f in &flags.isa {
        match f.value.as_str() {
            "true" => out.push_str(&format!(" {}", f.name)),
            "false" => {}
            v => out.push_str(&format!(" {}={v}", f.name)),
        }
    }
    out.push_str("\n\n");
    for line in clif.lines() {
        let t = line.trim_start();
        if t.starts_with("set ") || t.starts_with("target ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn write_file(dir: &Path, name: &str, text: &str) -> EngineResult<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| EngineError::Write { path, source })
}

/// Writes the bundle into `dir` whole or not at all; the files written.
///
/// The files are written into a hidden folder beside `dir`
/// (`.spillscope-bundle-*`), which is then renamed to `dir`. An existing
/// `dir` may hold only an earlier bundle's files: it is moved aside, the new
/// one put in its place, and the old one removed; a folder holding anything
/// else is refused untouched. An interrupt leaves `dir` as it was (and at
/// most the hidden folder beside it).
pub fn write(dir: &Path, b: &Bundle) -> EngineResult<Vec<PathBuf>> {
    let error = |source: std::io::Error| EngineError::Write {
        path: dir.to_path_buf(),
        source,
    };
    let refuse = |message: String| EngineError::Io {
        path: dir.to_path_buf(),
        message,
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(refuse("is a file; a bundle is a folder".into()));
        }
        for entry in std::fs::read_dir(dir).map_err(error)? {
            let entry = entry.map_err(error)?;
            let name = entry.file_name();
            let is_bundle_file =
                entry.file_type().is_ok_and(|t| t.is_file()) && FILES.iter().any(|f| name == *f);
            if !is_bundle_file {
                return Err(refuse(format!(
                    "holds `{}`, which is not a bundle file; choose a new folder (nothing was written)",
                    name.to_string_lossy()
                )));
            }
        }
    }
    let parent = super::parent_of(dir);
    std::fs::create_dir_all(parent).map_err(error)?;
    let staging = tempfile::Builder::new()
        .prefix(".spillscope-bundle-")
        .tempdir_in(parent)
        .map_err(error)?;
    let written = write_into(staging.path(), b)?;
    let aside = if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".spillscope-old-bundle-")
            .tempdir_in(parent)
            .map_err(error)?;
        // Renamed over the empty folder just made for its name.
        std::fs::rename(dir, old.path()).map_err(error)?;
        Some(old)
    } else {
        None
    };
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        // Put the old bundle back; drop the new one.
        if let Some(old) = aside {
            let _ = std::fs::rename(old.keep(), dir);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(error(e));
    }
    // The old bundle, moved aside, goes when `aside` drops.
    drop(aside);
    Ok(written.iter().map(|f| dir.join(f)).collect())
}

/// Writes `text` as `name`, or compressed as `name.gz` when it is bigger than
/// [`COMPRESS_ABOVE`] (or `compress`); the name written.
fn write_text(dir: &Path, name: &str, text: &str, compress: bool) -> EngineResult<String> {
    if !compress && text.len() <= COMPRESS_ABOVE {
        write_file(dir, name, text)?;
        return Ok(name.to_string());
    }
    let gz = format!("{name}.gz");
    let path = dir.join(&gz);
    let written = std::fs::File::create(&path).and_then(|f| {
        let mut e = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(f),
            flate2::Compression::default(),
        );
        e.write_all(text.as_bytes())?;
        e.finish()?.flush()
    });
    written.map_err(|source| EngineError::Write { path, source })?;
    Ok(gz)
}

/// Writes the bundle's files into the folder `dir`; their names.
fn write_into(dir: &Path, b: &Bundle) -> EngineResult<Vec<String>> {
    let clif_file = write_text(
        dir,
        "function.clif",
        &standalone_clif(b.clif, b.flags, b.optimized),
        false,
    )?;
    let mut flags = format!("triple {}\n", b.flags.triple);
    for f in &b.flags.shared {
        flags.push_str(&format!("{}={}\n", f.name, f.value));
    }
    flags.push_str("# ISA flags\n");
    for f in &b.flags.isa {
        flags.push_str(&format!("{}={}\n", f.name, f.value));
    }
    write_file(dir, "flags.txt", &flags)?;
    let log = b.log;
    let log_file = write_text(dir, "regalloc2.log", &log.text(), log.cut())?;
    let mut written = vec![clif_file.clone(), "flags.txt".to_string(), log_file.clone()];
    if let Some(bin) = &b.reproducer {
        let path = dir.join(REPRODUCER);
        std::fs::write(&path, bin).map_err(|source| EngineError::Write { path, source })?;
        written.push(REPRODUCER.into());
    }
    let stopped_at_cap = log.stopped == Some(LogStop::Cap);
    let json = serde_json::json!({
        "source": b.source,
        "steps": b.steps,
        "checker": b.checker,
        "regalloc2": b.release,
        "records_budget": b.records_budget,
        "log": {
            "file": log_file,
            "records": log.records,
            "bytes": log.total_bytes,
            "left_out_bytes": log.left_out(),
            "stopped_at_bytes": stopped_at_cap.then_some(LOG_STOP_BYTES),
        },
        "diagnosis": b.diagnosis,
    });
    write_file(
        dir,
        "diagnosis.json",
        &serde_json::to_string_pretty(&json).unwrap_or_default(),
    )?;
    written.push("diagnosis.json".into());
    let size = |n: u64| crate::error::size_text(n);
    let stop = if stopped_at_cap {
        format!(
            "the export stopped the allocation when its log reached {} (the steps and the \
             diagnosis are of the whole allocation)",
            size(LOG_STOP_BYTES)
        )
    } else {
        "the allocation ran to its end or to the record budget".to_string()
    };
    let log_end = if log.cut() {
        format!(
            "{} records, {}: {stop}. Kept, compressed: the first {} and the last {}; the {} \
             between are left out (a line in the file marks the place). `gunzip` it to read it",
            crate::capture::digits_grouped(log.records),
            size(log.total_bytes),
            size(log.head.len() as u64),
            size(log.total_bytes - log.head.len() as u64 - log.left_out()),
            size(log.left_out())
        )
    } else {
        format!(
            "all {} records ({}): {stop}; `spillscope trace --log regalloc2.log` replays it",
            crate::capture::digits_grouped(log.records),
            size(log.total_bytes)
        )
    };
    let clif_note = if clif_file.ends_with(".gz") {
        " (compressed: `gunzip function.clif.gz` first)"
    } else {
        ""
    };
    let release_arg = if b.release == Release::CRANELIFT {
        String::new()
    } else {
        format!(" --regalloc2 {}", b.release)
    };
    let reproducer = if b.reproducer.is_some() {
        // The tool names the algorithm since the single-pass allocator came.
        let algorithm = if b.release.has_single_pass() {
            " ion"
        } else {
            ""
        };
        format!(
            "\nregalloc2 alone, from its own reproducer format: in a checkout of regalloc2 at \
             tag v{r}, `cargo run -p regalloc2-tool -- path/to/{REPRODUCER}{algorithm}`; or \
             `spillscope trace --reproducer {REPRODUCER} --written-by {r}`.\n",
            r = b.release
        )
    } else {
        String::new()
    };
    let reproducer_file = if b.reproducer.is_some() {
        format!(
            "- `{REPRODUCER}`: the allocator's input (instructions, operands, blocks, machine \
             environment) as regalloc2 {}'s `SerializableFunction` in bincode\n",
            b.release
        )
    } else {
        String::new()
    };
    let readme = format!(
        "# regalloc2 allocation report\n\n\
         From {source}, made by spillscope with regalloc2's `trace-log` records.\n\n\
         **Diagnosis:** {diag}\n\n\
         Steps traced: {steps}; checker: {checker}; record budget: {budget}.\n\n\
         ## Reproduce\n\n\
         ```sh\n\
         spillscope trace function.clif --func 0 --budget {budget}{release_arg}\n\
         ```\n\
         {reproducer}\n\
         `function.clif` carries Wasmtime's Cranelift flags and target as `set` and `target` lines, so \
         Cranelift's own tools read it too (`clif-util compile -D function.clif`).\n\n\
         ## Files\n\n\
         - `{clif_file}`: the function, as the allocator's input was lowered from it{clif_note}\n\
         - `flags.txt`: the target triple, Cranelift's shared flags and the ISA flags\n\
         - `{log_file}`: regalloc2's records (env_logger text), {log_end}\n\
         - `diagnosis.json`: the loop diagnosis and the checker's verdict\n\
         {reproducer_file}",
        source = b.source,
        diag = b.diagnosis.description,
        steps = b.steps,
        checker = b.checker,
        budget = b.records_budget,
    );
    write_file(dir, "README.md", &readme)?;
    written.push("README.md".into());
    Ok(written)
}

/// Traces function `func_index` of `input` (its log cut at `budget` records,
/// or the function's default budget) and writes its bundle into `dir`.
pub fn write_function(
    input: &Input,
    func_index: u32,
    settings: Settings,
    budget: Option<u64>,
    dir: &Path,
) -> EngineResult<Vec<PathBuf>> {
    write_function_watched(input, func_index, settings, budget, dir, |_, _| true)
}

/// [`write_function`], telling `progress` the log's bytes and records so far
/// while the allocation runs; when it returns `false` the export stops and
/// writes nothing.
pub fn write_function_watched(
    input: &Input,
    func_index: u32,
    settings: Settings,
    budget: Option<u64>,
    dir: &Path,
    progress: impl FnMut(u64, u64) -> bool + Send + 'static,
) -> EngineResult<Vec<PathBuf>> {
    let prepared = session::prepare(input, func_index, settings)?;
    let mut limits = prepared.default_limits();
    if let Some(b) = budget {
        limits.max_records = b;
    }
    let sink =
        HeadTailLog::new(LOG_KEEP_BYTES, LOG_KEEP_BYTES, LOG_STOP_BYTES).with_progress(progress);
    let log = session::raw_log_into(&prepared, &input.path, settings.allocator(), limits, sink)?;
    if log.stopped == Some(LogStop::Cancelled) {
        return Err(EngineError::Io {
            path: dir.to_path_buf(),
            message: "the export was cancelled; nothing was written".into(),
        });
    }
    // The allocator's input in the release's own format (a release that
    // cannot take the function has none to write).
    let reproducer = session::rebuild_function(input, &prepared)
        .ok()
        .and_then(|f| crate::releases::to_bin(settings.release, &f, &f.env).ok());
    let t = session::trace_prepared(input, prepared, settings, limits)?;
    let diagnosis = diagnose::diagnose(&t.traced.trace);
    // `trace_prepared` compiles: its trace always has the function.
    let Some(prepared) = t.prepared() else {
        return Err(EngineError::Compile {
            path: input.path.clone(),
            function: t.label().to_string(),
            message: "the trace has no compiled function".into(),
        });
    };
    // Wasmtime's CLIF (Wasm route, or a CLIF file it wrote) is already optimized.
    let optimized = matches!(
        prepared.route,
        Route::Wasm { .. }
            | Route::Clif {
                optimized: true,
                ..
            }
    );
    write(
        dir,
        &Bundle {
            source: format!("{}, function {}", input.path.display(), t.label()),
            clif: &prepared.clif,
            optimized,
            flags: &prepared.flags,
            log: &log,
            records_budget: limits.max_records,
            diagnosis: &diagnosis,
            checker: t.checker().text(),
            steps: t.replay.len(),
            release: settings.release,
            reproducer,
        },
    )
}
