//! Exports, beside the pipeline: the chart at one step as a scene of shapes
//! written as SVG or rasterized to PNG; a self-contained HTML report of a
//! trace; a bug bundle for allocator reports.
//!
//! - [`scene`]: the chart at step k as rectangles, lines and text
//! - [`svg`]: a scene as SVG
//! - [`png`]: a scene rasterized (rectangles, lines, text from an embedded font)
//! - [`html`]: one file, no network: steps, explanations, chart, linked code
//! - [`bundle`]: CLIF, flags, the log cut at the budget, the diagnosis, a README
//! - [`gate`]: a release gate's report as one page with its plots
//!
//! Every file is written whole or not at all ([`write_whole`]): into a
//! temporary file beside it, renamed into place when complete.

use std::io::Write as _;
use std::path::Path;

use crate::error::{EngineError, EngineResult};

pub mod bundle;
pub mod gate;
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
///
/// A stream is written in place, as there is nothing to rename: a path that
/// is not a regular file (a device, a FIFO, `/dev/stdout` on a pipe) or that
/// names one through `/dev` or `/proc` (`/dev/stdout`, `/dev/fd/3`), which
/// another writer may share. Through any other symbolic link, the file it
/// names is replaced, not the link.
pub fn write_whole(path: &Path, bytes: &[u8]) -> EngineResult<()> {
    let error = |source: std::io::Error| EngineError::Write {
        path: path.to_path_buf(),
        source,
    };
    let stream = path.starts_with("/dev") || path.starts_with("/proc");
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(EngineError::Io {
                path: path.to_path_buf(),
                message: "is a directory; give a file name".into(),
            });
        }
        Ok(meta) if stream || !meta.is_file() => {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .truncate(meta.is_file())
                .open(path)
                .map_err(error)?;
            return out
                .write_all(bytes)
                .and_then(|_| out.flush())
                .map_err(error);
        }
        _ => {}
    }
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path).map_err(error)?,
        _ => path.to_path_buf(),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".spillscope-")
        .tempfile_in(parent_of(&target))
        .map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    // A temporary file is private (0600); the file it becomes keeps the
    // permissions of the one it replaces, or gets a new file's usual ones.
    let permissions = match std::fs::metadata(&target) {
        Ok(meta) => meta.permissions(),
        Err(_) => new_file_permissions(file.as_file()).map_err(error)?,
    };
    file.as_file().set_permissions(permissions).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(&target).map_err(|e| error(e.error))?;
    Ok(())
}

/// Read and write for the owner, read for the rest (0644), as a file made
/// under the usual umask; on other systems, the file's own.
fn new_file_permissions(file: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = file;
        Ok(std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        file.metadata().map(|m| m.permissions())
    }
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
        // Through a link, the file it names is replaced and the link kept.
        #[cfg(unix)]
        {
            let link = dir.path().join("link.svg");
            std::os::unix::fs::symlink(&path, &link).unwrap();
            write_whole(&link, b"third").unwrap();
            assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read(&path).unwrap(), b"third");
        }
        // A new file is readable by others, as a file made under the usual
        // umask; a replaced one keeps its permissions.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| p.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o644);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            write_whole(&path, b"fourth").unwrap();
            assert_eq!(mode(&path), 0o600);
        }
        // A device is written in place, never replaced.
        write_whole(Path::new("/dev/null"), b"gone").unwrap();
        assert!(!Path::new("/dev/null").metadata().unwrap().is_file());
    }
}
