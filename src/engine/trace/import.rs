//! Importing regalloc2 trace logs written by other builds: the text that
//! `RUST_LOG=regalloc2=trace` prints through env_logger (`[TIME LEVEL target]
//! message`, with or without the time) or pretty_env_logger (` LEVEL target >
//! message`). Each record goes to the same [`TraceBuilder`] a live capture
//! feeds, so an imported log replays like a live trace. Lines without a record
//! header continue the previous record (multi-line messages such as VCode).
//! A log may be truncated: the trace then ends in an incomplete step.
//!
//! Logs from regalloc2 0.9 to 0.15 are understood (the differences that
//! matter are listed in [`crate::engine::trace`]); the trace's [`Dialect`] says which
//! releases fit the messages seen. Records no release explains are counted in
//! `trace.unparsed`, with samples, never fatal.

use std::path::Path;

use crate::engine::capture::{CaptureStop, RecordSink, Source, Verdict};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::trace::{Dialect, Trace, TraceBuilder};

/// An imported log.
pub struct ImportedLog {
    pub trace: Trace,
    pub lines: u64,
    /// Records from regalloc2 or Cranelift's compile step.
    pub records: u64,
    /// Records from other targets, skipped.
    pub other_targets: u64,
    /// Lines before the first record header, which no record can own.
    pub stray_lines: u64,
    /// The regalloc2 releases whose messages fit the log (`0.9–0.11`, ...).
    pub dialect: Dialect,
    /// The log stops before the allocation passes ended.
    pub truncated: bool,
}

/// A record header: level, target and where the message starts.
fn header(line: &str) -> Option<(log::Level, &str, &str)> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix('[') {
        // env_logger: `[2025-04-01T12:00:00Z TRACE regalloc2::ion::process] msg`
        let (head, msg) = rest
            .split_once("] ")
            .or_else(|| rest.strip_suffix(']').map(|h| (h, "")))?;
        let mut words = head.split_whitespace().rev();
        let target = words.next()?;
        let level = words.next()?.parse::<log::Level>().ok()?;
        return Some((level, target, msg));
    }
    // pretty_env_logger: ` TRACE regalloc2::ion::process > msg`
    let mut words = t.splitn(3, ' ');
    let level = words.next()?.parse::<log::Level>().ok()?;
    let rest = words.next().zip(words.next())?;
    let (target, msg) = (
        rest.0,
        rest.1.strip_prefix("> ").or(rest.1.strip_prefix('>'))?,
    );
    Some((level, target, msg))
}

/// Parses a log's text (named `path` in errors).
pub fn import_log(path: &Path, text: &str) -> EngineResult<ImportedLog> {
    import(path, text, false)
}

/// [`import_log`] as a live capture would see it: reading stops where the
/// loop detector is sure the allocation loops, and the trace says so
/// ([`CaptureStop::LoopDetected`]).
pub fn import_log_until_loop(path: &Path, text: &str) -> EngineResult<ImportedLog> {
    import(path, text, true)
}

fn import(path: &Path, text: &str, stop_on_loop: bool) -> EngineResult<ImportedLog> {
    let mut builder = TraceBuilder::new();
    if stop_on_loop {
        builder = builder.watching_for_loops();
    }
    let mut stopped = false;
    let mut out = ImportedLog {
        trace: Trace::default(),
        lines: 0,
        records: 0,
        other_targets: 0,
        stray_lines: 0,
        dialect: Dialect::ANY,
        truncated: false,
    };
    let mut pending: Option<(Source, log::Level, String)> = None;
    let mut seen_header = false;
    for line in text.lines() {
        out.lines += 1;
        match header(line) {
            Some((level, target, msg)) => {
                seen_header = true;
                if let Some((s, l, m)) = pending.take()
                    && builder.record(s, l, &m) == Verdict::Stop
                {
                    stopped = true;
                    break;
                }
                match Source::from_target(target) {
                    Some(source) => {
                        out.records += 1;
                        pending = Some((source, level, msg.to_string()));
                    }
                    None => out.other_targets += 1,
                }
            }
            None => match pending.as_mut() {
                Some((_, _, m)) => {
                    m.push('\n');
                    m.push_str(line);
                }
                None if !seen_header => out.stray_lines += 1,
                None => {}
            },
        }
    }
    if !stopped && let Some((s, l, m)) = pending.take() {
        builder.record(s, l, &m);
    }
    if out.records == 0 {
        return Err(EngineError::Unsupported {
            path: path.to_path_buf(),
            message: format!(
                "no regalloc2 records in {} lines (expected `[TRACE regalloc2::ion::process] ...` \
                 or ` TRACE regalloc2::ion::process > ...` lines, as RUST_LOG=regalloc2=trace prints them)",
                out.lines
            ),
        });
    }
    out.trace = builder.finish();
    if stopped {
        out.trace.stopped = Some(CaptureStop::LoopDetected {
            steps: out.trace.steps.len(),
        });
    }
    out.trace.records = out.records;
    out.dialect = out.trace.dialect;
    out.truncated = !out.trace.finished;
    Ok(out)
}
