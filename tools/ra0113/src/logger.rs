//! A `log` logger that counts regalloc2's trace records per function, stops
//! the process once a function exceeds its budget, and optionally writes the
//! records in env_logger's default text format:
//!
//! ```text
//! [2026-01-01T00:00:00Z TRACE regalloc2::ion::process] message
//! ```
//!
//! (timestamp in RFC 3339 seconds, level padded to five columns, the record's
//! target, and continuation lines of multi-line messages indented by four
//! spaces, as env_logger 0.11 does by default).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};
use log::{LevelFilter, Log, Metadata, Record};

struct Counter {
    budget: u64,
    /// regalloc2 records logged for the current function.
    records: AtomicU64,
    /// Name of the function being compiled, for the over-budget message.
    function: Mutex<String>,
    out: Mutex<Option<BufWriter<File>>>,
}

static LOGGER: OnceLock<Counter> = OnceLock::new();

/// Only regalloc2's records are counted and written.
fn is_regalloc2(target: &str) -> bool {
    target == "regalloc2" || target.starts_with("regalloc2::")
}

impl Log for Counter {
    fn enabled(&self, metadata: &Metadata) -> bool {
        is_regalloc2(metadata.target())
    }

    fn log(&self, record: &Record) {
        // Cranelift's own trace records (whole-function dumps) are skipped
        // before their arguments are ever formatted.
        if !is_regalloc2(record.target()) {
            return;
        }
        let n = self.records.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(out) = self.out.lock().unwrap().as_mut() {
            // A write error (disk full) must not hide the loop: ignore it.
            let _ = write_env_logger_line(out, record);
        }
        if n > self.budget {
            let function = self.function.lock().unwrap().clone();
            flush();
            eprintln!(
                "over budget: function {function} exceeded {} regalloc2 records \
                 (allocation does not terminate?)",
                self.budget
            );
            std::process::exit(3);
        }
    }

    fn flush(&self) {
        if let Some(out) = self.out.lock().unwrap().as_mut() {
            let _ = out.flush();
        }
    }
}

/// One record as env_logger's default format prints it (without colours).
fn write_env_logger_line(out: &mut impl Write, record: &Record) -> std::io::Result<()> {
    let ts = humantime::format_rfc3339_seconds(SystemTime::now());
    write!(out, "[{ts} {:<5} {}] ", record.level(), record.target())?;
    let msg = record.args().to_string();
    let mut lines = msg.split('\n');
    if let Some(first) = lines.next() {
        out.write_all(first.as_bytes())?;
    }
    for line in lines {
        write!(out, "\n    {line}")?;
    }
    out.write_all(b"\n")
}

/// Installs the logger; `log_path`, when given, receives the records.
pub fn install(budget: u64, log_path: Option<&Path>) -> Result<()> {
    let out = match log_path {
        Some(p) => Some(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let logger = LOGGER.get_or_init(|| Counter {
        budget,
        records: AtomicU64::new(0),
        function: Mutex::new(String::new()),
        out: Mutex::new(out),
    });
    log::set_logger(logger).map_err(|e| anyhow::anyhow!("{e}"))?;
    log::set_max_level(LevelFilter::Trace);
    Ok(())
}

/// Resets the record count for a new function.
pub fn start_function(name: &str) {
    if let Some(l) = LOGGER.get() {
        *l.function.lock().unwrap() = name.to_string();
        l.records.store(0, Ordering::Relaxed);
    }
}

/// regalloc2 records logged so far for the current function.
pub fn records() -> u64 {
    LOGGER
        .get()
        .map_or(0, |l| l.records.load(Ordering::Relaxed))
}

/// Flushes the log file, if any.
pub fn flush() {
    if let Some(l) = LOGGER.get() {
        l.flush();
    }
}

/// Exits with code 4 if the process is still running after `limit`.
pub fn start_watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let (function, records) = LOGGER.get().map_or((String::new(), 0), |l| {
            (l.function.lock().unwrap().clone(), records())
        });
        flush();
        eprintln!(
            "timeout: function {function} still allocating after {} s ({records} regalloc2 records)",
            limit.as_secs()
        );
        std::process::exit(4);
    });
}
