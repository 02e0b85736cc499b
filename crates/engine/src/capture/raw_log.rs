//! A record sink that keeps the text of every record, in the format
//! `env_logger` prints (`[TRACE target] message`): for exporting a log.

use crate::capture::{RecordSink, Source, Verdict};

/// Collects records as `env_logger`-style lines.
#[derive(Default)]
pub struct RawLogSink {
    pub text: String,
    pub max_bytes: usize,
}

impl RawLogSink {
    pub fn new(max_bytes: usize) -> RawLogSink {
        RawLogSink {
            text: String::new(),
            max_bytes,
        }
    }
}

fn target_of(source: Source) -> &'static str {
    match source {
        Source::Dump => "regalloc2::ion::dump",
        Source::Process => "regalloc2::ion::process",
        Source::Spill => "regalloc2::ion::spill",
        Source::Merge => "regalloc2::ion::merge",
        Source::LiveRanges => "regalloc2::ion::liveranges",
        Source::Requirement => "regalloc2::ion::requirement",
        Source::Moves => "regalloc2::ion::moves",
        Source::Checker => "regalloc2::checker",
        Source::Other => "regalloc2",
        Source::Compile | Source::CompileErrors => "cranelift_codegen::machinst::compile",
        Source::Lower => "cranelift_codegen::machinst::lower",
    }
}

impl RecordSink for RawLogSink {
    fn record(&mut self, source: Source, level: log::Level, message: &str) -> Verdict {
        use std::fmt::Write as _;
        let _ = writeln!(self.text, "[{} {}] {}", level, target_of(source), message);
        if self.text.len() < self.max_bytes {
            Verdict::Continue
        } else {
            Verdict::Stop
        }
    }
}

/// Keeps the first `head_max` and the last `tail_max` bytes of a log (whole
/// lines), counting everything: a long allocation's log in bounded memory.
/// `progress` sees the bytes and records so far every 65,536 records and
/// may ask to stop (a cancel).
pub struct HeadTailLog {
    pub head: String,
    /// The latest lines past the head, oldest first.
    tail: std::collections::VecDeque<u8>,
    tail_lines: std::collections::VecDeque<usize>,
    head_max: usize,
    tail_max: usize,
    /// Every byte and record written, kept or not.
    pub total_bytes: u64,
    pub records: u64,
    /// Stop the allocation once this many bytes were written.
    pub stop_at: u64,
    /// The sink asked to stop: `stop_at` was reached or `progress` said so.
    pub stopped: Option<LogStop>,
    line: String,
    progress: Option<Box<dyn FnMut(u64, u64) -> bool + Send>>,
}

/// Why a [`HeadTailLog`] asked the allocation to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStop {
    /// It reached its `stop_at` bytes.
    Cap,
    /// Its progress callback asked it to.
    Cancelled,
}

impl HeadTailLog {
    pub fn new(head_max: usize, tail_max: usize, stop_at: u64) -> HeadTailLog {
        HeadTailLog {
            head: String::new(),
            tail: Default::default(),
            tail_lines: Default::default(),
            head_max,
            tail_max,
            total_bytes: 0,
            records: 0,
            stop_at,
            stopped: None,
            line: String::new(),
            progress: None,
        }
    }

    /// Calls `progress(bytes, records)` now and then; `false` stops the log.
    pub fn with_progress(
        mut self,
        progress: impl FnMut(u64, u64) -> bool + Send + 'static,
    ) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Whether lines were left out between the head and the tail.
    pub fn cut(&self) -> bool {
        self.total_bytes > (self.head.len() + self.tail.len()) as u64
    }

    /// The bytes left out between the head and the tail.
    pub fn left_out(&self) -> u64 {
        self.total_bytes - (self.head.len() + self.tail.len()) as u64
    }

    /// The head, a line saying what was left out (when anything was), and
    /// the tail.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.head.len() + self.tail.len() + 200);
        out.push_str(&self.head);
        if self.cut() {
            out.push_str(&format!(
                "[spillscope] … {} of regalloc2's log left out here; the first {} and the last {} are kept …\n",
                crate::error::size_text(self.left_out()),
                crate::error::size_text(self.head.len() as u64),
                crate::error::size_text(self.tail.len() as u64),
            ));
        }
        let (a, b) = self.tail.as_slices();
        out.push_str(&String::from_utf8_lossy(a));
        out.push_str(&String::from_utf8_lossy(b));
        out
    }
}

impl RecordSink for HeadTailLog {
    fn record(&mut self, source: Source, level: log::Level, message: &str) -> Verdict {
        use std::fmt::Write as _;
        self.line.clear();
        let _ = writeln!(self.line, "[{} {}] {}", level, target_of(source), message);
        self.total_bytes += self.line.len() as u64;
        self.records += 1;
        if self.head.len() + self.line.len() <= self.head_max && self.tail.is_empty() {
            self.head.push_str(&self.line);
        } else {
            self.tail.extend(self.line.as_bytes());
            self.tail_lines.push_back(self.line.len());
            while self.tail.len() > self.tail_max && self.tail_lines.len() > 1 {
                let n = self.tail_lines.pop_front().unwrap_or(0);
                self.tail.drain(..n.min(self.tail.len()));
            }
        }
        if self.records.is_multiple_of(65_536)
            && let Some(p) = self.progress.as_mut()
            && !p(self.total_bytes, self.records)
        {
            self.stopped = Some(LogStop::Cancelled);
            return Verdict::Stop;
        }
        if self.total_bytes >= self.stop_at {
            self.stopped = Some(LogStop::Cap);
            return Verdict::Stop;
        }
        Verdict::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_and_the_tail_are_kept_whole_lines() {
        let mut log = HeadTailLog::new(100, 100, u64::MAX);
        for i in 0..1000 {
            log.record(Source::Process, log::Level::Trace, &format!("record {i}"));
        }
        let text = log.text();
        assert!(text.starts_with("[TRACE regalloc2::ion::process] record 0\n"));
        assert!(text.ends_with("record 999\n"));
        assert!(text.contains("left out here"));
        assert!(log.cut() && log.records == 1000);
        assert!(log.head.len() <= 100);
        for line in text.lines() {
            assert!(line.starts_with('['), "{line}");
        }
    }
}
