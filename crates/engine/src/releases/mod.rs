//! Every regalloc2 release built in: the last of each line from 0.9 to 0.15,
//! each a real crate from the registry under a renamed dependency
//! (`regalloc2-0-9` … `regalloc2-0-14`, and `regalloc2` itself for 0.15.2,
//! the release Cranelift links). Any of them allocates a rebuilt function
//! ([`crate::compile::rebuild`]), traced through the same capture, checked by
//! its own checker, and writes and reads its own reproducer format.
//!
//! - [`port`]: one release behind the engine's types (written once, per
//!   release by a macro)
//! - [`versions`]: one function allocated by every release, compared

mod port;

use std::fmt;
use std::str::FromStr;

use regalloc2::{MachineEnv, Output};

use crate::capture;
use crate::compile::CheckerVerdict;
use crate::compile::rebuild::RebuiltFunction;
use crate::input::isa::Algorithm;

/// A regalloc2 release built into spillscope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Release {
    V0_9,
    V0_10,
    /// The yanked release with the infinite split loop (regalloc2 #218/#219).
    V0_11,
    V0_12,
    V0_13,
    V0_14,
    /// The release Cranelift 0.135 (Wasmtime 48) links.
    #[default]
    V0_15,
}

impl Release {
    /// Oldest first.
    pub const ALL: [Release; 7] = [
        Release::V0_9,
        Release::V0_10,
        Release::V0_11,
        Release::V0_12,
        Release::V0_13,
        Release::V0_14,
        Release::V0_15,
    ];
    /// The release Cranelift allocates with: a compile's trace is this
    /// release's by construction.
    pub const CRANELIFT: Release = Release::V0_15;
    pub const OLDEST: Release = Release::V0_9;
    pub const NEWEST: Release = Release::V0_15;

    /// Its version number, as on crates.io.
    pub fn version(self) -> &'static str {
        match self {
            Release::V0_9 => port::v0_9::VERSION,
            Release::V0_10 => port::v0_10::VERSION,
            Release::V0_11 => port::v0_11::VERSION,
            Release::V0_12 => port::v0_12::VERSION,
            Release::V0_13 => port::v0_13::VERSION,
            Release::V0_14 => port::v0_14::VERSION,
            Release::V0_15 => port::v0_15::VERSION,
        }
    }

    /// Its minor version (0.`minor`.x).
    pub fn minor(self) -> u32 {
        match self {
            Release::V0_9 => 9,
            Release::V0_10 => 10,
            Release::V0_11 => 11,
            Release::V0_12 => 12,
            Release::V0_13 => 13,
            Release::V0_14 => 14,
            Release::V0_15 => 15,
        }
    }

    /// It has the single-pass allocator (`Algorithm::Fastalloc`, from 0.11).
    pub fn has_single_pass(self) -> bool {
        self >= Release::V0_11
    }

    /// What a user should know about it, if anything.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Release::V0_11 => Some(
                "yanked: its backtracking allocator can split without end (regalloc2 #218, #219; fixed by #220 in 0.12.0)",
            ),
            Release::V0_15 => Some("the release Cranelift 0.135 (Wasmtime 48) links"),
            _ => None,
        }
    }

    /// The releases a `--regalloc2` value may name, for messages.
    pub fn choices() -> String {
        let list: Vec<&str> = Release::ALL.iter().map(|r| r.version()).collect();
        format!("{}, oldest or newest", list.join(", "))
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.version())
    }
}

impl FromStr for Release {
    type Err = String;

    /// `0.11.3`, `0.11` or `v0.11.3`; `oldest`, `newest`.
    fn from_str(text: &str) -> Result<Release, String> {
        let t = text.trim();
        match t {
            "oldest" => return Ok(Release::OLDEST),
            "newest" | "latest" => return Ok(Release::NEWEST),
            _ => {}
        }
        let bare = t.strip_prefix('v').unwrap_or(t);
        Release::ALL
            .into_iter()
            .find(|r| bare == r.version() || bare == format!("0.{}", r.minor()))
            .ok_or_else(|| {
                let line = bare
                    .strip_prefix("0.")
                    .and_then(|rest| rest.split('.').next())
                    .and_then(|m| m.parse::<u32>().ok())
                    .and_then(|m| Release::ALL.into_iter().find(|r| r.minor() == m));
                match line {
                    Some(r) => format!(
                        "regalloc2 {bare} is not built in; its line is built in as {r} (built in: {})",
                        Release::choices()
                    ),
                    None => format!(
                        "`{t}` is not a built-in regalloc2 release (built in: {})",
                        Release::choices()
                    ),
                }
            })
    }
}

impl serde::Serialize for Release {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.version())
    }
}

impl<'de> serde::Deserialize<'de> for Release {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Release, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

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
}

impl Refused {
    pub fn text(&self) -> String {
        match self {
            Refused::CannotTake(why) => format!("cannot take the function: {why}"),
            Refused::Error(e) => e.clone(),
            Refused::Panicked(p) => format!("panicked: {p}"),
        }
    }
}

/// `func` allocated in `env` by `release`, untraced, with the release's
/// checker when `check`.
pub fn allocate(
    release: Release,
    func: &RebuiltFunction,
    env: &MachineEnv,
    algorithm: Algorithm,
    check: bool,
) -> Result<Allocated, Refused> {
    let mut held = port(release, func, env).map_err(Refused::CannotTake)?;
    let run = capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            held.allocate(algorithm, false)
        }))
    });
    let output = match run {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(Refused::Error(e)),
        Err(p) => return Err(Refused::Panicked(capture::panic_message(&p))),
    };
    let checker = if check {
        capture::quietly(|| held.check())
    } else {
        CheckerVerdict::NotRun
    };
    Ok(Allocated { output, checker })
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
/// given, otherwise the newest release whose format reads the whole file
/// (several releases share a format; the file does not say which wrote it).
pub fn read_bin(
    release: Option<Release>,
    bytes: &[u8],
) -> Result<(Release, RebuiltFunction), String> {
    if let Some(r) = release {
        return from_bin(r, bytes).map(|f| (r, f));
    }
    let mut first_error = None;
    for r in Release::ALL.into_iter().rev() {
        match from_bin(r, bytes) {
            Ok(f) => return Ok((r, f)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(format!(
        "no built-in regalloc2 release reads it as its reproducer format ({})",
        first_error.unwrap_or_default()
    ))
}
