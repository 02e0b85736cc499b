//! Importing regalloc2 logs as text: a log written by `trace --raw-log`
//! (env_logger's format) or in pretty_env_logger's format replays exactly like
//! the live trace of the same compile; a truncated log still replays.

use crate::common;

use std::path::Path;

use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::compile::realloc::Allocator;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::Target;
use spillscope::engine::replay::Replay;
use spillscope::engine::replay::invariants;
use spillscope::engine::session::{self, Settings};
use spillscope::engine::trace::Outcome;
use spillscope::engine::trace::import;

fn live_and_log(file: &str, func: &str) -> (session::FunctionTrace, String) {
    let input = Input::load(&common::samples_dir().join(file)).unwrap();
    let index = input.select(func).unwrap().index;
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    let live = session::trace_function(&input, index, settings, CaptureLimits::default()).unwrap();
    let log = session::raw_log(
        live.prepared().unwrap(),
        &input.path,
        Allocator::default(),
        CaptureLimits::default(),
        usize::MAX,
    )
    .unwrap();
    (live, log)
}

#[test]
fn an_env_logger_log_replays_like_the_live_trace() {
    for (file, func) in [
        ("pressure.wat", "pressure"),
        ("calls.wat", "calls"),
        ("c/kernels.wasm", "run_vm"),
    ] {
        let (live, log) = live_and_log(file, func);
        let imported = import::import_log(Path::new("x.log"), &log).unwrap();
        assert_eq!(imported.trace.steps, live.traced.trace.steps, "{file}");
        assert_eq!(
            imported.trace.final_state, live.traced.trace.final_state,
            "{file}"
        );
        assert_eq!(
            imported.trace.unparsed, 0,
            "{:?}",
            imported.trace.unparsed_samples
        );
        assert!(
            imported
                .trace
                .vcode_before
                .as_deref()
                .is_some_and(|v| v.contains("Inst 0"))
        );
        let replay = Replay::new(imported.trace.clone());
        assert_eq!(
            replay.state_at(replay.len()),
            live.replay.state_at(live.replay.len())
        );
        assert!(
            imported.trace.finished && !imported.stats.truncated,
            "{file}"
        );
        // The build's own regalloc2: 0.15.2, told apart from 0.9–0.11.
        assert!(
            imported.stats.dialect.fits(15),
            "{}",
            imported.stats.dialect.text()
        );
        assert!(
            !imported.stats.dialect.fits(11),
            "{}",
            imported.stats.dialect.text()
        );
        let broken = invariants::check(&imported.trace, &replay);
        assert!(broken.is_empty(), "{file}: {broken:?}");
    }
}

#[test]
fn a_pretty_env_logger_log_with_timestamps_replays_too() {
    let (live, log) = live_and_log("loop.wat", "loop");
    // ` TRACE regalloc2::ion::process > message`
    let pretty: String = log
        .lines()
        .map(
            |l| match l.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((head, msg)) => format!(" {} > {msg}\n", head),
                None => format!("{l}\n"),
            },
        )
        .collect();
    let imported = import::import_log(Path::new("pretty.log"), &pretty).unwrap();
    assert_eq!(imported.trace.steps, live.traced.trace.steps);
    // `[2025-04-01T12:00:00Z TRACE regalloc2::ion::process] message`
    let stamped: String = log
        .lines()
        .map(|l| match l.strip_prefix('[') {
            Some(rest) => format!("[2025-04-01T12:00:00Z {rest}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    let imported = import::import_log(Path::new("stamped.log"), &stamped).unwrap();
    assert_eq!(imported.trace.steps, live.traced.trace.steps);
}

#[test]
fn a_truncated_log_replays_up_to_where_it_stops() {
    let (live, log) = live_and_log("pressure.wat", "pressure");
    // Cut in the middle of the allocation, mid-line.
    let cut = log.find("process_bundle").unwrap() + log.len() / 3;
    let imported = import::import_log(Path::new("cut.log"), &log[..cut]).unwrap();
    let steps = &imported.trace.steps;
    assert!(!steps.is_empty() && steps.len() < live.replay.len());
    assert_eq!(steps.last().unwrap().outcome, Outcome::Incomplete);
    assert_eq!(
        &steps[..steps.len() - 1],
        &live.traced.trace.steps[..steps.len() - 1]
    );
    assert!(imported.trace.final_state.is_none());
    assert!(imported.stats.truncated);
    let replay = Replay::new(imported.trace.clone());
    assert_eq!(replay.len(), steps.len());
    // Nothing is claimed about the end of a truncated trace.
    assert_eq!(invariants::check(&imported.trace, &replay), vec![]);

    // Cut mid-line, the last line is not read (a number in it may be cut
    // too): the import equals that of the log up to its last whole line, and
    // says the log was cut.
    assert!(imported.stats.cut_mid_line);
    let whole_lines = &log[..=log[..cut].rfind('\n').unwrap()];
    let at_line = import::import_log(Path::new("lines.log"), whole_lines).unwrap();
    assert!(!at_line.stats.cut_mid_line);
    assert_eq!(at_line.trace.steps, imported.trace.steps);

    // `trace --log` warns, naming the file; its JSON says so too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.log");
    std::fs::write(&path, &log[..cut]).unwrap();
    let out = common::spillscope(&["trace", "--log", path.to_str().unwrap(), "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("cut.log: the log ends inside a line"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["import"]["cut_mid_line"], true);
}

/// A log with a byte cap (as a bug bundle keeps at most 256 MiB: a big
/// function's whole log ran to 12 GB) stops the allocation at a whole record
/// past the cap, and reads back as a log cut before the allocation ended.
#[test]
fn a_raw_log_with_a_byte_cap_ends_at_a_whole_record() {
    let input = Input::load(&common::samples_dir().join("c/kernels.wasm")).unwrap();
    let index = input.largest_function().unwrap().index;
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    let prepared = session::prepare(&input, index, settings).unwrap();
    let log_of = |cap| {
        session::raw_log(
            &prepared,
            &input.path,
            Allocator::default(),
            prepared.default_limits(),
            cap,
        )
        .unwrap()
    };
    let whole = log_of(usize::MAX);
    // Half way through the allocation's steps.
    let first_step = whole.find("process_bundle").unwrap();
    let cap = first_step + (whole.len() - first_step) / 2;
    let log = log_of(cap);
    assert!(log.len() < whole.len() && whole.starts_with(&log));
    assert!(
        log.len() >= cap && log.ends_with('\n'),
        "{} bytes",
        log.len()
    );
    let last_record = log[..log.len() - 1].rfind("\n[").unwrap();
    assert!(
        last_record < cap,
        "the log went on past the record that reached the cap"
    );
    let imported = import::import_log(Path::new("capped.log"), &log).unwrap();
    assert!(imported.stats.truncated && !imported.stats.cut_mid_line);
    assert!(!imported.trace.steps.is_empty());
}

#[test]
fn a_file_without_regalloc2_records_is_a_clear_error() {
    let e = import::import_log(Path::new("notes.txt"), "hello\nworld\n")
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(
        msg.starts_with("notes.txt") && msg.contains("no regalloc2 records"),
        "{msg}"
    );
}

/// A real log with the bundle id of one record replaced by 4000000000, and
/// the (1-based) line of that record.
fn log_with_a_huge_bundle_id(kind: &str) -> (String, usize) {
    let path = common::samples_dir()
        .join("..")
        .join("tests/fixtures/regalloc2-logs/regalloc2-0.15.2.log");
    let text = std::fs::read_to_string(path).unwrap();
    let mut at = 0;
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if at == 0 && l.contains(kind) && l.contains("LiveBundleIndex(") {
                at = i + 1;
                let from = l.find("LiveBundleIndex(").unwrap() + "LiveBundleIndex(".len();
                let to = from + l[from..].find(')').unwrap();
                format!("{}4000000000{}", &l[..from], &l[to..])
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(at > 0, "no `{kind}` record");
    (lines.join("\n") + "\n", at)
}

#[test]
fn a_huge_bundle_id_is_an_error_naming_its_line_not_an_abort() {
    for kind in [
        "process_bundle",
        "conflict with bundles",
        "creating new bundle",
    ] {
        let (log, line) = log_with_a_huge_bundle_id(kind);
        let e = import::import_log(Path::new("huge.log"), &log)
            .err()
            .unwrap_or_else(|| panic!("{kind}: imported"));
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!(
                "huge.log: line {line}: bundle id 4000000000 is out of range"
            )),
            "{kind}: {msg}"
        );
    }

    // The CLI says the same and exits with an error, in bounded memory.
    let (log, line) = log_with_a_huge_bundle_id("process_bundle");
    let path = std::env::temp_dir().join(format!("spillscope-huge-id-{}.log", std::process::id()));
    std::fs::write(&path, log).unwrap();
    let out = common::spillscope(&["trace", "--log", path.to_str().unwrap(), "--json"]);
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(&format!(
            "line {line}: bundle id 4000000000 is out of range"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("memory allocation"), "{stderr}");
}
