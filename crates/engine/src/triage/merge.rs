//! Shard reports of `scan --shard I/N`, run on several machines, combined into
//! the report one machine would have made: every file once, in the order one
//! scan lists them, its functions in index order, the counts recomputed. Timing
//! fields add up the shards' work; `jobs` is the largest shard's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::triage::scan::{FileReport, ScanReport, ScanSummary, Shard};

/// Why shard reports cannot be combined; each names the report at fault.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: cannot read the report: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: not a `spillscope scan --json` report: {message}")]
    NotAReport { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
    #[error("the shards do not cover the work: {0}")]
    Incomplete(String),
}

/// What judged a shard's functions, in words.
fn judge(test: &Option<String>) -> String {
    match test {
        Some(command) => format!("the command `{command}`"),
        None => "spillscope's own compile".into(),
    }
}

/// Reads one `scan --json` report.
pub fn read_report(path: &Path) -> Result<ScanReport, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|e| MergeError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| MergeError::NotAReport {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Combines the reports of shards 1/N … N/N (each exactly once, all of the
/// same N and the same test command) into one.
pub fn merge(reports: Vec<(PathBuf, ScanReport)>) -> Result<ScanReport, MergeError> {
    let Some((first_path, first)) = reports.first() else {
        return Err(MergeError::Incomplete("no reports given".into()));
    };
    let count = shard_of(first_path, &first.summary)?.count;
    let mut seen: Vec<Option<&Path>> = vec![None; count];
    for (path, report) in &reports {
        let shard = shard_of(path, &report.summary)?;
        if shard.count != count {
            return Err(MergeError::Mismatch {
                path: path.clone(),
                message: format!(
                    "shard {shard} is one of {} shards, but {} is one of {count}",
                    shard.count,
                    first_path.display()
                ),
            });
        }
        if report.summary.test != first.summary.test {
            return Err(MergeError::Mismatch {
                path: path.clone(),
                message: format!(
                    "judged by {}, but {} by {}",
                    judge(&report.summary.test),
                    first_path.display(),
                    judge(&first.summary.test)
                ),
            });
        }
        if let Some(other) = seen[shard.index] {
            return Err(MergeError::Mismatch {
                path: path.clone(),
                message: format!("shard {shard} is also {}", other.display()),
            });
        }
        seen[shard.index] = Some(path);
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| seen[i].is_none())
        .map(|index| Shard { index, count }.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Incomplete(format!(
            "missing shard{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }

    let mut summary = ScanSummary {
        shard: Shard::default().to_string(),
        test: first.summary.test.clone(),
        ..ScanSummary::default()
    };
    // One scan lists its inputs sorted as paths (`collect_inputs`).
    let mut files: BTreeMap<PathBuf, FileReport> = BTreeMap::new();
    for (_, report) in reports {
        let s = &report.summary;
        summary.elapsed_ms += s.elapsed_ms;
        summary.load_ms += s.load_ms;
        summary.translate_ms += s.translate_ms;
        summary.compile_ms += s.compile_ms;
        summary.jobs = summary.jobs.max(s.jobs);
        for file in report.files {
            match files.get_mut(Path::new(&file.path)) {
                None => {
                    files.insert(PathBuf::from(&file.path), file);
                }
                Some(have) => {
                    // A module whose functions fell in several shards.
                    have.kind = have.kind.or(file.kind);
                    have.error = have.error.take().or(file.error);
                    have.functions.extend(file.functions);
                }
            }
        }
    }
    let mut files: Vec<FileReport> = files.into_values().collect();
    for f in &mut files {
        f.functions.sort_by_key(|func| func.index);
    }
    summary.count(&files);
    Ok(ScanReport { files, summary })
}

fn shard_of(path: &Path, summary: &ScanSummary) -> Result<Shard, MergeError> {
    Shard::parse(&summary.shard).map_err(|message| MergeError::NotAReport {
        path: path.to_path_buf(),
        message,
    })
}
