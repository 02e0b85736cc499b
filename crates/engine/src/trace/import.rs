//! Importing regalloc2 trace logs written by other builds: the text that
//! `RUST_LOG=regalloc2=trace` prints through env_logger (`[TIME LEVEL target]
//! message`, with or without the time) or pretty_env_logger (` LEVEL target >
//! message`). Each record goes to the same [`TraceBuilder`] a live capture
//! feeds, so an imported log replays like a live trace. Lines without a record
//! header continue the previous record (multi-line messages such as VCode).
//! A log may be truncated: the trace then ends in an incomplete step.
//!
//! Logs from regalloc2 0.9 to 0.15 are understood (the differences that
//! matter are listed in [`super::dialect`]); the trace's [`Dialect`] says which
//! releases fit the messages seen. Records no release explains are counted in
//! `trace.unparsed`, with samples, never fatal.

use std::path::Path;

use super::builder::TraceBuilder;
use super::model::{Dialect, Trace};
use super::observe::StepObserver;
use crate::capture::{RecordSink, Source, Verdict};
use crate::error::{EngineError, EngineResult};

/// An imported log: the trace and what reading it found.
pub struct ImportedLog {
    pub trace: Trace,
    pub stats: LogStats,
}

/// What reading a log found, beside the trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
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
    /// Reading stopped because the observer asked to (see [`import_log_observed`]).
    pub stopped_by_observer: bool,
    /// The text ends inside a line (a log cut while it was being written):
    /// that last, incomplete line was not read.
    pub cut_mid_line: bool,
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
    import(path, text, TraceBuilder::new())
}

/// [`import_log`] as a live capture would see it with `observer` attached:
/// reading stops where the observer asks to stop
/// ([`LogStats::stopped_by_observer`]); what that means is the caller's to say.
pub fn import_log_observed(
    path: &Path,
    text: &str,
    observer: impl StepObserver + 'static,
) -> EngineResult<ImportedLog> {
    import(path, text, TraceBuilder::new().observed_by(observer))
}

fn import(path: &Path, text: &str, mut builder: TraceBuilder) -> EngineResult<ImportedLog> {
    let mut stopped = false;
    // A record names an id no allocation can have: say where, rather than
    // build a replay sized by it.
    let rejected = |builder: &TraceBuilder, line: u64| match builder.rejected() {
        Some(why) => Err(EngineError::Unsupported {
            path: path.to_path_buf(),
            message: format!("line {line}: {why}"),
        }),
        None => Ok(()),
    };
    let mut out = LogStats {
        dialect: Dialect::ANY,
        ..LogStats::default()
    };
    // The pending record, with the line its header is on.
    let mut pending: Option<(Source, log::Level, String, u64)> = None;
    let mut seen_header = false;
    // A cut log's last line is not a record: a number in it may be cut too.
    let whole = match text.rfind('\n') {
        Some(end) if end + 1 < text.len() => {
            out.cut_mid_line = true;
            &text[..=end]
        }
        _ => text,
    };
    for line in whole.lines() {
        out.lines += 1;
        match header(line) {
            Some((level, target, msg)) => {
                seen_header = true;
                if let Some((s, l, m, at)) = pending.take() {
                    let verdict = builder.record(s, l, &m);
                    rejected(&builder, at)?;
                    if verdict == Verdict::Stop {
                        stopped = true;
                        break;
                    }
                }
                match Source::from_target(target) {
                    Some(source) => {
                        out.records += 1;
                        pending = Some((source, level, msg.to_string(), out.lines));
                    }
                    None => out.other_targets += 1,
                }
            }
            None => match pending.as_mut() {
                Some((_, _, m, _)) => {
                    m.push('\n');
                    m.push_str(line);
                }
                None if !seen_header => out.stray_lines += 1,
                None => {}
            },
        }
    }
    if !stopped && let Some((s, l, m, at)) = pending.take() {
        builder.record(s, l, &m);
        rejected(&builder, at)?;
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
    out.stopped_by_observer = stopped && builder.stopped_by_observer();
    let mut trace = builder.finish();
    trace.records = out.records;
    out.dialect = trace.dialect;
    out.truncated = !trace.finished;
    Ok(ImportedLog { trace, stats: out })
}
