//! Reading a user's file, bounded: only a regular file is opened (a FIFO, a
//! device or a directory is refused by name before anything reads it, so
//! `/dev/zero` cannot fill memory and a FIFO cannot hang a reader), and it is
//! read up to a limit per kind of input, which the user can raise with an
//! environment variable named in the error.

use std::io::Read as _;
use std::path::Path;

use crate::error::{EngineError, EngineResult, size_text};

/// The kinds of file spillscope reads, each with its own size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A `.wasm`, `.wat` or `.clif` input.
    Module,
    /// A regalloc2 trace log.
    Log,
    /// A `scan --json` report given to `scan --merge`.
    Report,
}

impl FileKind {
    /// What the file is, in words.
    pub fn what(self) -> &'static str {
        match self {
            FileKind::Module => "a module or CLIF file",
            FileKind::Log => "a regalloc2 log",
            FileKind::Report => "a scan report",
        }
    }

    /// The environment variable that raises the limit.
    pub fn variable(self) -> &'static str {
        match self {
            FileKind::Module => "SPILLSCOPE_MAX_MODULE",
            FileKind::Log => "SPILLSCOPE_MAX_LOG",
            FileKind::Report => "SPILLSCOPE_MAX_REPORT",
        }
    }

    /// The limit when the variable is not set. A module is held whole,
    /// translated and compiled (its CLIF is tens of times its size); a log is
    /// held whole as text while it is parsed; a report is parsed whole.
    pub fn default_limit(self) -> u64 {
        match self {
            FileKind::Module => 512 << 20,
            FileKind::Log => 1 << 30,
            FileKind::Report => 256 << 20,
        }
    }

    /// The limit in force: the variable's size when it is set and readable,
    /// else the default (an unreadable value is an error naming it).
    pub fn limit(self) -> Result<u64, String> {
        match std::env::var(self.variable()) {
            Ok(text) => parse_size(&text).map_err(|e| format!("{}: {e}", self.variable())),
            Err(std::env::VarError::NotPresent) => Ok(self.default_limit()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{}: not a size (not UTF-8)", self.variable()))
            }
        }
    }
}

/// A size in bytes, as a user writes it: `1000000`, `800K`, `512M`, `2G`
/// (powers of 1024; `KiB`, `MiB`, `GiB` and `B` suffixes read the same).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = t[digits.len()..].to_ascii_lowercase();
    let shift = match unit.as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("`{text}` is not a size (such as 800M or 2G)")),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size (such as 800M or 2G)"))?;
    n.checked_mul(1u64 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("`{text}` is not a size above 0 that fits in 64 bits"))
}

/// What a path that is not a regular file is, in words; `None` for a
/// regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Checks that `path` is a regular file (following symbolic links) without
/// opening it; returns its metadata.
pub fn regular_file(path: &Path) -> EngineResult<std::fs::Metadata> {
    let meta = std::fs::metadata(path).map_err(|source| EngineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    match not_regular(&meta) {
        None => Ok(meta),
        Some(what) => Err(EngineError::Io {
            path: path.to_path_buf(),
            message: format!("is {what}; spillscope reads only regular files"),
        }),
    }
}

/// Reads `path` whole if it is a regular file within `kind`'s limit.
pub fn read(path: &Path, kind: FileKind) -> EngineResult<Vec<u8>> {
    let limit = kind.limit().map_err(|message| EngineError::Io {
        path: path.to_path_buf(),
        message,
    })?;
    let meta = regular_file(path)?;
    let too_large = |size_bytes: u64| EngineError::TooLarge {
        path: path.to_path_buf(),
        what: kind.what(),
        variable: kind.variable(),
        size_bytes,
        limit_bytes: limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|source| EngineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // The length can change under us (a file still being written): the read
    // stops one byte past the limit whatever the metadata said.
    let mut bytes = Vec::new();
    crate::memory::fallibly(|| bytes.try_reserve_exact(meta.len() as usize)).map_err(|_| {
        EngineError::Io {
            path: path.to_path_buf(),
            message: format!("not enough memory to read its {}", size_text(meta.len())),
        }
    })?;
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| EngineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_users_write_them() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("800K"), Ok(800 << 10));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size(" 2g "), Ok(2 << 30));
        for bad in ["", "0", "-1", "2X", "G", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad:?} was read as a size");
        }
        assert_eq!(size_text(512 << 20), "512 MiB");
        assert_eq!(size_text(77), "77 bytes");
        assert_eq!(size_text(5_368_709_120 + (512 << 20)), "5.5 GiB");
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_directories_are_refused_by_name_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.wasm");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Opening a FIFO with no writer would block: the check must not open.
        let e = read(&fifo, FileKind::Module).unwrap_err().to_string();
        assert!(e.contains("pipe.wasm") && e.contains("FIFO"), "{e}");
        let e = read(Path::new("/dev/zero"), FileKind::Log)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/zero: is a character device"), "{e}");
        let e = read(dir.path(), FileKind::Report).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[test]
    fn a_file_over_its_kinds_limit_is_refused_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        // Sparse: the size is refused before a byte is read.
        let big = dir.path().join("big.log");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(FileKind::Log.default_limit() + 1).unwrap();
        let e = read(&big, FileKind::Log).unwrap_err().to_string();
        assert!(
            e.contains("big.log") && e.contains("SPILLSCOPE_MAX_LOG") && e.contains("1 GiB"),
            "{e}"
        );
    }
}
