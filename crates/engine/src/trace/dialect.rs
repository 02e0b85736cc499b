//! Which regalloc2 release wrote a trace: the messages that differ between
//! 0.9 and 0.15, and [`Dialect`], the set of releases whose messages fit.
//!
//! # Older releases (imported logs)
//!
//! Logs written by other builds ([`super::import`]) may come from regalloc2 0.9
//! to 0.15. The `trace!` format strings of `src/ion/*.rs` were compared release
//! by release (0.9.0–0.9.3, 0.10.0–0.10.2, 0.11.0–0.11.3, 0.12.0/0.12.2, 0.13.1,
//! 0.14.0, 0.15.0–0.15.2) against 0.15.2. `ion/dump.rs`, `ion/spill.rs`,
//! `ion/merge.rs` output and the `Debug`/`Display` forms the messages use
//! (`PReg` as `p3i` / `PReg(hw = 3, class = Int, index = 3)`, `VReg` `v7i`,
//! `ProgPoint` `progpoint12-pre`, `CodeRange`, `LiveRangeIndex(n)`,
//! `LiveBundleIndex(n)`, `SpillSetIndex(n)`, operand constraints) are the same
//! in every one of them. What differs, and what the parser does about it:
//!
//! | releases | difference from 0.15.2 | matters? / handling |
//! |---|---|---|
//! | 0.9–0.11 | no state dump after allocation (`dump_state` only before) | yes: no final state to compare; the end of allocation is recognised by `spillslot allocator done` ([`Trace::finished`](super::model::Trace::finished)) |
//! | 0.9–0.11 | minimal splitting (`split_into_minimal_bundles`) may put a second LR in the bundle created for the same instruction: `created new LR L but adding to existing bundle B` (the previous LR of B is cut at the use) | yes: applied from the preceding `-> use Use { .. pos: .. } (last_live_pos ..)` record and the removed LR's end |
//! | 0.9–0.11 | `-> use {:?} (last_live_pos {:?})`, `-> appended to last LR`, `-> first range has range` (bundle properties) | use position read; the others carry nothing new |
//! | 0.9–0.11 | `Splitting bundle B into minimal bundles with reg hint p3i` (hint `Display`, not `Option` `Debug`) | no: only the bundle is read |
//! | 0.9 | no `-> advancing split point to` (split point never moved to a fixed use) | no: the split point is computed as before |
//! | 0.9 | safepoint records (`inst N is safepoint`, `stackmap.rs`) | no: not allocator steps, ignored |
//! | 0.9, 0.13–0.15 | `-> stack operand at P: op` in bundle properties (absent 0.10–0.12) | no: ignored |
//! | 0.9–0.11 | `-> created new LR L range R with new bundle B for this use` | same words as 0.12+, parsed alike |
//! | 0.12–0.15 | `bundle_start = .. bundle_end = ..`, `-> spans only one inst; splitting into minimal bundles` (absent before) | used when present |
//! | 0.14–0.15 | `limit(0..=N)` constraints, `Requirement::Limit`, `-> limited(N) and minimal` | parsed; absent before |
//! | 0.9–0.10 | `-> lowest cost evict: set Some([LiveBundleIndex(1)]), cost ..` (an `Option`; a plain list from 0.11) | no: the bundles are read alike |
//! | 0.9–0.14 | `process_bundle`/`split bundle`/`Splitting bundle` use positional `{:?}` instead of named arguments | no: same text |
//!
//! Which of these show up in a log narrows the release down ([`Dialect`]).

/// The regalloc2 releases (0.9 to 0.15, by minor version) whose `trace!`
/// messages fit a trace, narrowed by the messages that changed between them
/// (see the table at the top of this module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(into = "String")]
pub struct Dialect {
    /// Bit `m` set: release 0.m fits.
    minors: u32,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::ANY
    }
}

impl Dialect {
    pub const FIRST_MINOR: u32 = 9;
    pub const LAST_MINOR: u32 = 15;
    /// Nothing seen that tells the releases apart.
    pub const ANY: Dialect = Dialect::range(Dialect::FIRST_MINOR, Dialect::LAST_MINOR);
    /// 0.9–0.11: old minimal splitting, no final dump.
    pub(super) const UP_TO_0_11: Dialect = Dialect::range(9, 11);
    pub(super) const UP_TO_0_10: Dialect = Dialect::range(9, 10);
    pub(super) const FROM_0_10: Dialect = Dialect::range(10, 15);
    pub(super) const FROM_0_11: Dialect = Dialect::range(11, 15);
    pub(super) const FROM_0_12: Dialect = Dialect::range(12, 15);
    pub(super) const FROM_0_14: Dialect = Dialect::range(14, 15);
    pub(super) const ONLY_0_9: Dialect = Dialect::range(9, 9);
    /// `-> stack operand at`: in 0.9, gone in 0.10–0.12, back in 0.13.
    pub(super) const STACK_OPERAND: Dialect = Dialect {
        minors: Dialect::range(9, 9).minors | Dialect::range(13, 15).minors,
    };

    const fn range(first: u32, last: u32) -> Dialect {
        Dialect {
            minors: ((1u32 << (last + 1)) - 1) & !((1u32 << first) - 1),
        }
    }

    /// Release 0.`minor` alone (a trace of an allocation made here, by a
    /// known release).
    pub fn only(minor: u32) -> Dialect {
        if (Dialect::FIRST_MINOR..=Dialect::LAST_MINOR).contains(&minor) {
            Dialect::range(minor, minor)
        } else {
            Dialect::ANY
        }
    }

    /// Does release 0.`minor` fit?
    pub fn fits(self, minor: u32) -> bool {
        minor < 32 && self.minors & (1 << minor) != 0
    }

    /// The minor versions that fit, oldest first.
    pub fn minors(self) -> Vec<u32> {
        (Dialect::FIRST_MINOR..=Dialect::LAST_MINOR)
            .filter(|&m| self.fits(m))
            .collect()
    }

    /// Keeps only the releases `evidence` allows; evidence that contradicts
    /// everything seen so far is ignored.
    pub(super) fn narrow(&mut self, evidence: Dialect) {
        let both = self.minors & evidence.minors;
        if both != 0 {
            self.minors = both;
        }
    }

    /// `0.9–0.11`, `0.9, 0.13–0.15`, `0.15`.
    pub fn text(self) -> String {
        let minors = self.minors();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < minors.len() {
            let mut j = i;
            while j + 1 < minors.len() && minors[j + 1] == minors[j] + 1 {
                j += 1;
            }
            parts.push(if i == j {
                format!("0.{}", minors[i])
            } else {
                format!("0.{}\u{2013}0.{}", minors[i], minors[j])
            });
            i = j + 1;
        }
        parts.join(", ")
    }
}

impl From<Dialect> for String {
    fn from(d: Dialect) -> String {
        d.text()
    }
}
