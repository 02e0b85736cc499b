//! Shard reports of `scan --shard I/N`, run on several machines, combined into
//! the report one machine would have made: every file once, in the order one
//! scan lists them, its functions in index order, the counts recomputed. Timing
//! fields add up the shards' work; `jobs` is the largest shard's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::input::file::{self, FileKind};
use crate::triage::scan::{
    FileReport, InputDigest, ScanConditions, ScanReport, ScanSummary, Shard, units_of,
};

/// Why shard reports cannot be combined; each names the report at fault.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Input(crate::error::EngineError),
    #[error("{path}: not a `spillscope scan --json` report: {message}")]
    NotAReport { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
    #[error("the shards do not cover the work: {0}")]
    Incomplete(String),
}

/// Reads one `scan --json` report.
pub fn read_report(path: &Path) -> Result<ScanReport, MergeError> {
    let bytes = file::read(path, FileKind::Report).map_err(MergeError::Input)?;
    serde_json::from_slice(&bytes).map_err(|e| MergeError::NotAReport {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// At most this many missing shards are named in an error.
const NAMED: usize = 8;

/// Combines the reports of shards 1/N … N/N into one. Refused, naming the
/// report at fault: reports of different N, of different inputs (by path,
/// content hash and function count), of different conditions (target, opt,
/// algorithm, budget, timeout, test command), a shard given twice or
/// missing, a number of reports other than N, a report whose summary does
/// not match its own functions, and a shard that does not hold exactly the
/// functions the deal gives it.
pub fn merge(reports: Vec<(PathBuf, ScanReport)>) -> Result<ScanReport, MergeError> {
    let Some((first_path, first)) = reports.first() else {
        return Err(MergeError::Incomplete("no reports given".into()));
    };
    let count = shard_of(first_path, &first.summary)?.count;
    let Some(conditions) = &first.summary.conditions else {
        return Err(older(first_path));
    };
    let mut seen: BTreeMap<usize, &Path> = BTreeMap::new();
    for (path, report) in &reports {
        let shard = shard_of(path, &report.summary)?;
        let mismatch = |message: String| MergeError::Mismatch {
            path: path.clone(),
            message,
        };
        if shard.count != count {
            return Err(mismatch(format!(
                "shard {shard} is one of {} shards, but {} is one of {count}",
                shard.count,
                first_path.display()
            )));
        }
        let Some(these) = &report.summary.conditions else {
            return Err(older(path));
        };
        if these != conditions {
            return Err(mismatch(format!(
                "run under other conditions than {}: {}",
                first_path.display(),
                differences(these, conditions)
            )));
        }
        if let Some(why) = inputs_differ(&report.summary.inputs, &first.summary.inputs) {
            return Err(mismatch(format!(
                "scanned other inputs than {}: {why}",
                first_path.display()
            )));
        }
        if let Some(other) = seen.insert(shard.index, path) {
            return Err(mismatch(format!(
                "shard {shard} is also {}",
                other.display()
            )));
        }
        let mut recounted = report.summary.clone();
        recounted.count(&report.files);
        if (recounted.functions, recounted.ok, recounted.modules)
            != (
                report.summary.functions,
                report.summary.ok,
                report.summary.modules,
            )
        {
            return Err(mismatch(format!(
                "its summary says {} functions ({} ok) in {} modules, but it lists {} ({} ok) in {}: the report was changed after the scan",
                report.summary.functions,
                report.summary.ok,
                report.summary.modules,
                recounted.functions,
                recounted.ok,
                recounted.modules
            )));
        }
    }
    if seen.len() < count {
        // Named without walking all of 0..count (a count can be huge).
        let mut missing = Vec::new();
        let mut index = 0;
        while missing.len() < NAMED && index < count {
            if !seen.contains_key(&index) {
                missing.push(Shard { index, count }.to_string());
            }
            index += 1;
        }
        let more = match (count - seen.len()).saturating_sub(missing.len()) {
            0 => String::new(),
            n => format!(" … and {n} more"),
        };
        return Err(MergeError::Incomplete(format!(
            "{} reports given for {count} shards; missing shard{} {}{more}",
            reports.len(),
            if count - seen.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    // Each input's place in the scan's own order.
    let order: BTreeMap<String, usize> = first
        .summary
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.path.clone(), i))
        .collect();
    check_deal(&reports, &first.summary.inputs, &order, count)?;

    // A gate's summary is counted again from the merged functions.
    let gate_of_first = first.gate.clone();
    let mut summary = ScanSummary {
        shard: Shard::default().to_string(),
        test: first.summary.test.clone(),
        conditions: first.summary.conditions.clone(),
        inputs: first.summary.inputs.clone(),
        ..ScanSummary::default()
    };
    let mut files: BTreeMap<usize, FileReport> = BTreeMap::new();
    for (_, report) in reports {
        let s = &report.summary;
        summary.elapsed_ms += s.elapsed_ms;
        summary.load_ms += s.load_ms;
        summary.translate_ms += s.translate_ms;
        summary.compile_ms += s.compile_ms;
        summary.jobs = summary.jobs.max(s.jobs);
        for file in report.files {
            let at = order[file.path.as_str()];
            match files.get_mut(&at) {
                None => {
                    files.insert(at, file);
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
    let mut merged = ScanReport {
        files,
        summary,
        gate: gate_of_first,
    };
    merged.recount();
    Ok(merged)
}

fn older(path: &Path) -> MergeError {
    MergeError::NotAReport {
        path: path.to_path_buf(),
        message: "it records neither its conditions nor its inputs' content hashes (a report of an older spillscope); scan the shards again".into(),
    }
}

/// The conditions that differ, in words.
fn differences(a: &ScanConditions, b: &ScanConditions) -> String {
    let (a, b) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    );
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return "they differ".into();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, v)| {
            let other = b.get(k).cloned().unwrap_or_default();
            format!("{k} {v} here, {other} there")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How two shards' lists of inputs differ, if they do.
fn inputs_differ(a: &[InputDigest], b: &[InputDigest]) -> Option<String> {
    if a.is_empty() {
        return Some("it lists no inputs".into());
    }
    if a.len() != b.len() {
        return Some(format!("{} inputs here, {} there", a.len(), b.len()));
    }
    let (x, y) = a.iter().zip(b).find(|(x, y)| x != y)?;
    let hash = |d: &InputDigest| d.sha256.clone().unwrap_or_else(|| "unread".into());
    Some(if x.path != y.path {
        format!("input `{}` here, `{}` there", x.path, y.path)
    } else if x.sha256 != y.sha256 {
        format!(
            "`{}` has content hash {} here, {} there (not the same file)",
            x.path,
            hash(x),
            hash(y)
        )
    } else {
        format!(
            "`{}` defines {} functions here, {} there",
            x.path, x.functions, y.functions
        )
    })
}

/// Checks that every shard holds exactly the functions the deal gives it
/// (one unit per defined function, dealt round-robin in scan order), and
/// no function twice.
fn check_deal(
    reports: &[(PathBuf, ScanReport)],
    inputs: &[InputDigest],
    order: &BTreeMap<String, usize>,
    count: usize,
) -> Result<(), MergeError> {
    let mut expected: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (unit, file) in units_of(inputs) {
        *expected.entry((unit % count, file)).or_default() += 1;
    }
    let mut taken: BTreeMap<(usize, u32), &Path> = BTreeMap::new();
    for (path, report) in reports {
        let shard = shard_of(path, &report.summary)?;
        let wrong = |message: String| MergeError::Mismatch {
            path: path.clone(),
            message: format!("shard {shard} {message}: the report was changed after the scan"),
        };
        let mut listed = BTreeMap::new();
        for file in &report.files {
            let Some(&at) = order.get(file.path.as_str()) else {
                return Err(wrong(format!(
                    "lists `{}`, which is not among its inputs",
                    file.path
                )));
            };
            if listed.insert(at, ()).is_some() {
                return Err(wrong(format!("lists `{}` twice", file.path)));
            }
            let functions = inputs[at].functions;
            let want = if functions == 0 {
                0
            } else {
                expected.get(&(shard.index, at)).copied().unwrap_or(0)
            };
            if file.functions.len() != want && file.error.is_none() {
                return Err(wrong(format!(
                    "holds {} functions of `{}` where the deal gives it {want}",
                    file.functions.len(),
                    file.path
                )));
            }
            for f in &file.functions {
                if let Some(other) = taken.insert((at, f.index), path) {
                    return Err(wrong(format!(
                        "holds function {} of `{}`, which {} holds too",
                        f.index,
                        file.path,
                        other.display()
                    )));
                }
            }
        }
        for &(s, at) in expected.keys() {
            if s == shard.index && !listed.contains_key(&at) {
                return Err(wrong(format!(
                    "lists no report of `{}`, which the deal gives it",
                    inputs[at].path
                )));
            }
        }
    }
    Ok(())
}

fn shard_of(path: &Path, summary: &ScanSummary) -> Result<Shard, MergeError> {
    Shard::parse(&summary.shard).map_err(|message| MergeError::NotAReport {
        path: path.to_path_buf(),
        message,
    })
}
