//! Exports, beside the pipeline: the chart at one step as a scene of shapes
//! written as SVG or rasterized to PNG; a self-contained HTML report of a
//! trace; a bug bundle for allocator reports.
//!
//! - [`scene`]: the chart at step k as rectangles, lines and text
//! - [`svg`]: a scene as SVG
//! - [`png`]: a scene rasterized (rectangles, lines, text from an embedded font)
//! - [`html`]: one file, no network: steps, explanations, chart, linked code
//! - [`bundle`]: CLIF, flags, the log cut at the budget, the diagnosis, a README
//!
//! Every file is written whole or not at all ([`write_whole`]): into a
//! temporary file beside it, renamed into place when complete.

use std::io::Write as _;
use std::path::Path;

use crate::error::{EngineError, EngineResult};

pub mod bundle;
pub mod html;
pub mod png;
pub mod scene;
pub mod svg;

/// The folder a new file at `path` lands in (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` whole or not at all: into a temporary file in
/// the same folder (named `.spillscope-*`), flushed to disk, then renamed
/// over `path`. An interrupted or failed write leaves `path` as it was.
pub fn write_whole(path: &Path, bytes: &[u8]) -> EngineResult<()> {
    let error = |source: std::io::Error| EngineError::Write {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return Err(EngineError::Io {
            path: path.to_path_buf(),
            message: "is a directory; give a file name".into(),
        });
    }
    let mut file = tempfile::Builder::new()
        .prefix(".spillscope-")
        .tempfile_in(parent_of(path))
        .map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.svg");
        write_whole(&path, b"first").unwrap();
        write_whole(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        // A folder where the file should go: refused, nothing left behind.
        let e = write_whole(dir.path(), b"x").unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.svg"]);
    }
}
