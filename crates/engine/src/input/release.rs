//! Which regalloc2 release allocates: the last of each line from 0.9 to
//! 0.15, each a real crate from the registry under a renamed dependency
//! (`regalloc2-0-9` … `regalloc2-0-14`, and `regalloc2` itself for 0.15.2,
//! the release Cranelift links). A plain value, chosen like the target and
//! the algorithm; [`crate::compile::releases`] runs them.

use std::fmt;
use std::str::FromStr;

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
            Release::V0_9 => "0.9.3",
            Release::V0_10 => "0.10.2",
            Release::V0_11 => "0.11.3",
            Release::V0_12 => "0.12.2",
            Release::V0_13 => "0.13.5",
            Release::V0_14 => "0.14.0",
            Release::V0_15 => "0.15.2",
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
