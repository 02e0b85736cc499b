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
