//! Every built-in regalloc2 release in-process: each allocates a rebuilt
//! function ([`super::rebuild`]) traced through the same capture, checks it
//! with its own checker, and writes and reads its own reproducer format.
//!
//! - [`port`]: one release behind the engine's types (written once, per
//!   release by a macro)
//! - [`tree`]: a user's own regalloc2 source tree, through a runner built
//!   against it

mod port;
pub mod tree;

use regalloc2::{MachineEnv, Output};

use super::CheckerVerdict;
use super::rebuild::RebuiltFunction;
use crate::capture::{self, CaptureLimits, CaptureOutcome, CaptureStop};
use crate::input::isa::Algorithm;
use crate::input::release::Release;

/// One release holding a function in its own types (see [`port`]).
pub(crate) trait Port {
    /// Allocates it; the release's output, in the engine's types. Keeps the
    /// release's own output for [`Port::check`].
    fn allocate(&mut self, algorithm: Algorithm, verbose: bool) -> Result<Output, String>;
    /// The release's checker on the last allocation.
    fn check(&self) -> CheckerVerdict;
    /// The release's `SerializableFunction`, in bincode.
    fn to_bin(&self) -> Result<Vec<u8>, String>;
}

/// `func` in `env`, held by `release`; or why that release cannot take it
/// (an operand constraint it does not have, too many values), in words
/// naming the operand.
pub(crate) fn port(
    release: Release,
    func: &RebuiltFunction,
    env: &MachineEnv,
) -> Result<Box<dyn Port>, String> {
    Ok(match release {
        Release::V0_9 => Box::new(port::v0_9::port(func, env)?),
        Release::V0_10 => Box::new(port::v0_10::port(func, env)?),
        Release::V0_11 => Box::new(port::v0_11::port(func, env)?),
        Release::V0_12 => Box::new(port::v0_12::port(func, env)?),
        Release::V0_13 => Box::new(port::v0_13::port(func, env)?),
        Release::V0_14 => Box::new(port::v0_14::port(func, env)?),
        Release::V0_15 => Box::new(port::v0_15::port(func, env)?),
    })
}

/// An untraced allocation by one release, and its checker's verdict.
#[derive(Debug)]
pub struct Allocated {
    pub output: Output,
    pub checker: CheckerVerdict,
    /// The allocation alone (the checker not included).
    pub elapsed: std::time::Duration,
}

/// How an untraced allocation by one release ended.
#[derive(Debug)]
pub enum Refused {
    /// The release has no way to express the function (see [`port`]).
    CannotTake(String),
    /// It returned an error.
    Error(String),
    /// It panicked, with the message.
    Panicked(String),
    /// Its record budget or time limit ran out (an allocation that does not
    /// end, such as 0.11.3's split loop).
    Stopped(CaptureStop),
}

impl Refused {
    pub fn text(&self) -> String {
        match self {
            Refused::CannotTake(why) => format!("cannot take the function: {why}"),
            Refused::Error(e) => e.clone(),
            Refused::Panicked(p) => format!("panicked: {p}"),
            Refused::Stopped(s) => format!("the allocation {s}"),
        }
    }
}

/// Receives nothing: a capture that only counts records against its limits.
struct Counting;

impl capture::RecordSink for Counting {
    fn record(&mut self, _: capture::Source, _: log::Level, _: &str) -> capture::Verdict {
        capture::Verdict::Continue
    }
}

/// `func` allocated in `env` by `release`, untraced, with the release's
/// checker when `check`. With `limits`, the allocation runs inside a capture
/// that only counts regalloc2's records (none is formatted) and stops it at
/// the budget or the deadline; without, nothing bounds it: only for an
/// allocation known to end (the same one finished before).
pub fn allocate(
    release: Release,
    func: &RebuiltFunction,
    env: &MachineEnv,
    algorithm: Algorithm,
    check: bool,
    limits: Option<CaptureLimits>,
) -> Result<Allocated, Refused> {
    allocate_checking(release, func, env, algorithm, |_| check, limits)
}

/// [`allocate`], with the checker run when `check` says so of the output
/// (a gate skips the candidate's checker on an allocation identical to one
/// already checked).
pub fn allocate_checking(
    release: Release,
    func: &RebuiltFunction,
    env: &MachineEnv,
    algorithm: Algorithm,
    check: impl FnOnce(&Output) -> bool,
    limits: Option<CaptureLimits>,
) -> Result<Allocated, Refused> {
    let mut held = port(release, func, env).map_err(Refused::CannotTake)?;
    let started = std::time::Instant::now();
    let output = match limits {
        Some(limits) => {
            let (outcome, _, _) =
                capture::capture_sources(Counting, limits, capture::Sources(0), || {
                    held.allocate(algorithm, false)
                });
            match outcome {
                CaptureOutcome::Finished(Ok(out)) => out,
                CaptureOutcome::Finished(Err(e)) | CaptureOutcome::NoLogger(e) => {
                    return Err(Refused::Error(e));
                }
                CaptureOutcome::Panicked(p) => return Err(Refused::Panicked(p)),
                CaptureOutcome::Stopped(s) => return Err(Refused::Stopped(s)),
            }
        }
        None => {
            let run = capture::quietly(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    held.allocate(algorithm, false)
                }))
            });
            match run {
                Ok(Ok(out)) => out,
                Ok(Err(e)) => return Err(Refused::Error(e)),
                Err(p) => return Err(Refused::Panicked(capture::panic_message(&p))),
            }
        }
    };
    let elapsed = started.elapsed();
    let checker = if check(&output) {
        capture::quietly(|| held.check())
    } else {
        CheckerVerdict::NotRun
    };
    Ok(Allocated {
        output,
        checker,
        elapsed,
    })
}

/// `func` in `env` as `release`'s reproducer file: its
/// `serialize::SerializableFunction` in bincode 1, what `regalloc2-tool` of
/// that release reads.
pub fn to_bin(
    release: Release,
    func: &RebuiltFunction,
    env: &MachineEnv,
) -> Result<Vec<u8>, String> {
    port(release, func, env)
        .map_err(|why| format!("regalloc2 {release} cannot take the function: {why}"))?
        .to_bin()
}

/// A reproducer file read by `release`'s own deserializer. The whole file
/// must be one function; the error says what was wrong.
pub fn from_bin(release: Release, bytes: &[u8]) -> Result<RebuiltFunction, String> {
    let read = std::panic::catch_unwind(|| match release {
        Release::V0_9 => port::v0_9::from_bin(bytes),
        Release::V0_10 => port::v0_10::from_bin(bytes),
        Release::V0_11 => port::v0_11::from_bin(bytes),
        Release::V0_12 => port::v0_12::from_bin(bytes),
        Release::V0_13 => port::v0_13::from_bin(bytes),
        Release::V0_14 => port::v0_14::from_bin(bytes),
        Release::V0_15 => port::v0_15::from_bin(bytes),
    });
    let func = match read {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            return Err(format!(
                "not a regalloc2 {release} reproducer (SerializableFunction in bincode): {e}"
            ));
        }
        Err(p) => {
            return Err(format!(
                "not a regalloc2 {release} reproducer: {}",
                capture::panic_message(&p)
            ));
        }
    };
    func.validate().map_err(|e| {
        format!("a regalloc2 {release} reproducer that does not hold together: {e}")
    })?;
    Ok(func)
}

/// A reproducer file read by the release that wrote it: `release` when
/// given. Otherwise every release's deserializer tries it (the file does not
/// say which wrote it, and several releases share a format): when all that
/// read it read the same function, the newest of them is named; when they
/// read different ones, the error names them and asks which.
pub fn read_bin(
    release: Option<Release>,
    bytes: &[u8],
) -> Result<(Release, RebuiltFunction), String> {
    if let Some(r) = release {
        return from_bin(r, bytes).map(|f| (r, f));
    }
    let mut read: Vec<(Release, RebuiltFunction)> = Vec::new();
    let mut last_error = None;
    for r in Release::ALL.into_iter().rev() {
        match from_bin(r, bytes) {
            Ok(f) => read.push((r, f)),
            Err(e) => last_error = Some(e),
        }
    }
    let Some((newest, first)) = read.first() else {
        return Err(format!(
            "no built-in regalloc2 release reads it as its reproducer format (regalloc2 {}: {})",
            Release::OLDEST,
            last_error.unwrap_or_default()
        ));
    };
    let differ: Vec<String> = read
        .iter()
        .filter(|(_, f)| !f.same_input(first))
        .map(|(r, _)| r.to_string())
        .collect();
    if !differ.is_empty() {
        let all: Vec<String> = read.iter().map(|(r, _)| r.to_string()).collect();
        return Err(format!(
            "regalloc2 {} read it as different functions; say which release wrote it (--written-by VERSION)",
            all.join(", ")
        ));
    }
    let newest = *newest;
    Ok((newest, read.swap_remove(0).1))
}
