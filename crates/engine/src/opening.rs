//! Opening a file as both front ends do: telling a regalloc2 trace log from a
//! module, reading a log into a trace ready to replay (one implementation for
//! `trace --log` and the app), and the CLIF file that often lies beside a log,
//! allocated by this build's regalloc2 to show how the same function ends here.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::capture::CaptureLimits;
use crate::error::{EngineError, EngineResult};
use crate::input::Input;
use crate::session::{self, FunctionTrace, Settings};
use crate::trace::import::{self, LogStats};

/// The regalloc2 this build links (Cargo.toml pins it exactly).
pub const REGALLOC2_VERSION: &str = "0.15.2";

/// How many leading bytes the sniffing looks at.
const SNIFF_BYTES: usize = 4096;

/// Whether a file is a regalloc2 trace log rather than a module: by its
/// extension, else by regalloc2's `log` targets in its first bytes. `head` is
/// the start of the file when it is already in memory; otherwise the file is
/// read (an unreadable file is not a log: opening it as a module reports why).
pub fn is_regalloc2_log(path: &Path, head: Option<&[u8]>) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ["log", "txt"].contains(&ext.as_str()) {
        return true;
    }
    if ["wasm", "wat", "wast", "clif"].contains(&ext.as_str()) {
        return false;
    }
    let read;
    let head = match head {
        Some(h) => &h[..h.len().min(SNIFF_BYTES)],
        None => {
            // Not opened unless regular: a FIFO would block the open.
            let mut buf = vec![0u8; SNIFF_BYTES];
            let n = crate::input::file::regular_file(path)
                .ok()
                .and_then(|_| std::fs::File::open(path).ok())
                .and_then(|mut f| f.read(&mut buf).ok())
                .unwrap_or(0);
            buf.truncate(n);
            read = buf;
            &read
        }
    };
    !head.starts_with(b"\0asm") && memchr::memmem::find(head, b"regalloc2::").is_some()
}

/// Whether a file is regalloc2's reproducer format (a `SerializableFunction`
/// in bincode, which has no magic number): by its `.bin` extension.
pub fn is_reproducer(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("bin"))
}

/// A CLIF file beside a log, by the log's stem or the part of it before the
/// first `-` (`loop-0.11.3.log` → `loop.clif`).
pub fn clif_beside(log: &Path) -> Option<PathBuf> {
    let dir = log.parent()?;
    let stem = log.file_stem()?.to_str()?;
    let short = stem.split('-').next().unwrap_or(stem);
    [stem, short]
        .iter()
        .map(|s| dir.join(format!("{s}.clif")))
        .find(|p| p.is_file())
}

/// A regalloc2 log read into a trace, with what the import made of it.
pub struct OpenedLog {
    pub path: PathBuf,
    pub stats: LogStats,
    /// The steps with their replay; labelled with the log's file name.
    pub trace: FunctionTrace,
}

impl OpenedLog {
    /// Reads and imports the log at `path`.
    pub fn read(path: &Path) -> EngineResult<OpenedLog> {
        let bytes = crate::input::file::read(path, crate::input::file::FileKind::Log)?;
        OpenedLog::from_bytes(path, &bytes)
    }

    /// Imports a log already in memory (`path` names it in messages). Bytes
    /// that are not UTF-8 are replaced: a log cut mid-character still reads.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> EngineResult<OpenedLog> {
        let text = String::from_utf8_lossy(bytes);
        let imported = import::import_log(path, &text)?;
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(OpenedLog {
            path: path.to_path_buf(),
            stats: imported.stats,
            trace: session::trace_from_log(label, imported.trace),
        })
    }

    /// What the log says about regalloc2's checker, in words.
    pub fn checker_text(&self) -> String {
        if self.stats.truncated {
            return "not run (log)".into();
        }
        self.trace
            .traced
            .trace
            .checker_error
            .clone()
            .unwrap_or_else(|| "not in log".into())
    }
}

/// Allocates the default function of the CLIF file `clif` with this build's
/// regalloc2 (traced, under `limits_for` its default limits) and says in one
/// sentence how it went, to set beside a log from another release.
pub fn allocate_here(
    clif: &Path,
    settings: Settings,
    limits_for: impl FnOnce(CaptureLimits) -> CaptureLimits,
) -> EngineResult<String> {
    let input = Input::load(clif)?;
    let f = input
        .default_function()
        .ok_or_else(|| EngineError::Unsupported {
            path: clif.to_path_buf(),
            message: "defines no function".into(),
        })?;
    let prepared = session::prepare(&input, f.index, settings)?;
    let limits = limits_for(prepared.default_limits());
    let t = session::trace_prepared(&input, prepared, settings, limits)?;
    let c = t.traced.trace.counts();
    Ok(match &t.traced.trace.stopped {
        Some(stop) => format!(
            "regalloc2 {REGALLOC2_VERSION} does not finish either: {stop} ({} steps)",
            c.steps
        ),
        None => format!(
            "regalloc2 {REGALLOC2_VERSION} allocates it in {} steps ({} splits, {} spilled) and finishes in {} ms; checker: {}",
            c.steps,
            c.splits,
            c.spilled,
            t.trace_elapsed.as_millis(),
            t.checker().text()
        ),
    })
}
