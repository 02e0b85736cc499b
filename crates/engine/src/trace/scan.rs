//! The small text scanners every record parser uses: numbers after a key,
//! program points (`progpoint12-pre`), registers (`p3i`, `PReg(hw = ..)`,
//! `PRegIndex(n)`), bundle and range indices, requirements, operands and
//! range lists, in the `Debug`/`Display` forms regalloc2 0.9–0.15 print.
//! Numbers that no real allocation reaches (a point past
//! [`Point::MAX_INST`], a register number past [`PReg::MAX_HW`], anything past
//! `u32`) are not read, so nothing downstream computes with them.

use super::model::{BundleId, Constraint, PReg, Point, RegClass, Requirement, Seg, VRegId};

pub(super) fn number_at(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Position of `key` in `s` (SIMD substring search; the scanners below run on
/// every record).
fn find(s: &str, key: &str) -> Option<usize> {
    memchr::memmem::find(s.as_bytes(), key.as_bytes())
}

/// Every number that directly follows `key` in `s`.
pub(super) fn all_after(s: &str, key: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, key) {
        rest = &rest[i + key.len()..];
        if let Some((n, r)) = number_at(rest) {
            out.push(n);
            rest = r;
        }
    }
    out
}

/// `s.split_once(key)`, with the SIMD search.
pub(super) fn split_key<'a>(s: &'a str, key: &str) -> Option<(&'a str, &'a str)> {
    let i = find(s, key)?;
    Some((&s[..i], &s[i + key.len()..]))
}

/// `s.contains(key)`, with the SIMD search.
pub(super) fn has(s: &str, key: &str) -> bool {
    find(s, key).is_some()
}

pub(super) fn first_after(s: &str, key: &str) -> Option<u32> {
    let i = find(s, key)?;
    number_at(&s[i + key.len()..]).map(|(n, _)| n)
}

pub(super) fn bundles_in(s: &str) -> Vec<BundleId> {
    all_after(s, "LiveBundleIndex(")
}

pub(super) fn bundle_in(s: &str) -> Option<BundleId> {
    first_after(s, "LiveBundleIndex(").or_else(|| first_after(s, "bundle"))
}

pub(super) fn points_in(s: &str) -> Vec<Point> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, "progpoint") {
        rest = &rest[i + "progpoint".len()..];
        if let Some((n, r)) = number_at(rest) {
            let post = r.starts_with("-post");
            // Past regalloc2's largest instruction: not a point (the record
            // then fails to parse rather than wrapping around).
            if let Some(p) = Point::checked(n, post) {
                out.push(p);
            }
            rest = r;
        }
    }
    out
}

/// The first program point in `s` (reads no further: a record such as
/// fastalloc's `Final edits` holds a hundred thousand).
pub(super) fn point_in(s: &str) -> Option<Point> {
    let mut rest = s;
    while let Some(i) = find(rest, "progpoint") {
        rest = &rest[i + "progpoint".len()..];
        if let Some((n, r)) = number_at(rest)
            && let Some(p) = Point::checked(n, r.starts_with("-post"))
        {
            return Some(p);
        }
    }
    None
}

/// Parses `PReg(hw = 3, class = Int, index = 3)`, `PRegIndex(67)` or `p3i`;
/// `None` for regalloc2's invalid register.
pub(super) fn preg_in(s: &str) -> Option<PReg> {
    if let Some(i) = find(s, "PReg(hw = ") {
        let rest = &s[i + "PReg(hw = ".len()..];
        let (hw, rest) = number_at(rest)?;
        let class_start = find(rest, "class = ")? + "class = ".len();
        let class_name: String = rest[class_start..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let class = RegClass::from_name(&class_name)?;
        if hw > PReg::MAX_HW || (hw == PReg::MAX_HW && class == RegClass::Int) {
            return None;
        }
        return Some(PReg {
            hw: hw as u8,
            class,
        });
    }
    if let Some(idx) = first_after(s, "PRegIndex(") {
        return Some(PReg {
            hw: (idx & PReg::MAX_HW) as u8,
            class: RegClass::from_index(idx >> 6)?,
        });
    }
    short_preg(s)
}

/// `p3i`-style register anywhere in `s` (word-bounded).
pub(super) fn short_preg(s: &str) -> Option<PReg> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices('p') {
        if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        if let Some((hw, rest)) = number_at(&s[i + 1..])
            && let Some(c) = rest.chars().next()
            && let Some(class) = RegClass::from_name(&c.to_string())
            && !rest[1..].starts_with(|c: char| c.is_ascii_alphanumeric())
            && hw <= PReg::MAX_HW
        {
            return Some(PReg {
                hw: hw as u8,
                class,
            });
        }
    }
    None
}

pub(super) fn option_number(s: &str) -> Option<u32> {
    // `Some(12)` or `None`.
    first_after(s, "Some(")
}

pub(super) fn requirement_in(s: &str) -> Option<Requirement> {
    let s = s.trim();
    Some(if s.starts_with("Any") {
        Requirement::Any
    } else if s.starts_with("Register") {
        Requirement::Register
    } else if s.starts_with("FixedReg") {
        Requirement::FixedReg(preg_in(s)?)
    } else if s.starts_with("FixedStack") {
        Requirement::FixedStack(preg_in(s)?)
    } else if s.starts_with("Limit") {
        Requirement::Limit(first_after(s, "(")?)
    } else if s.starts_with("Stack") {
        Requirement::Stack
    } else {
        return None;
    })
}

/// Parses an operand as regalloc2 displays it: `Def: v3i reg`,
/// `Use@Late: v7i fixed(p0i)`, `Fixed: p5i`.
pub(super) fn operand_in(s: &str) -> Option<(bool, bool, Option<VRegId>, Constraint)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("Fixed: ") {
        let p = short_preg(rest)?;
        return Some((false, false, None, Constraint::Fixed(p)));
    }
    let (head, rest) = split_key(s, ": ")?;
    let (kind, pos) = match head.split_once('@') {
        Some((k, p)) => (k, Some(p)),
        None => (head, None),
    };
    let def = kind == "Def";
    let late = match pos {
        Some(p) => p == "Late",
        None => def,
    };
    let rest = rest.trim();
    let vreg = rest.strip_prefix('v').and_then(number_at).map(|(n, _)| n);
    let constraint_text = rest.split_once(' ').map(|(_, c)| c.trim()).unwrap_or("");
    let constraint = if constraint_text.starts_with("any") {
        Constraint::Any
    } else if constraint_text.starts_with("reg") {
        Constraint::Reg
    } else if constraint_text.starts_with("stack") {
        Constraint::Stack
    } else if constraint_text.starts_with("fixed") {
        Constraint::FixedReg(short_preg(constraint_text)?)
    } else if constraint_text.starts_with("reuse") {
        Constraint::Reuse(first_after(constraint_text, "(")?)
    } else if constraint_text.starts_with("limit") {
        Constraint::Limit(first_after(constraint_text, "..=")? + 1)
    } else {
        return None;
    };
    Some((def, late, vreg, constraint))
}

/// `LiveRangeListEntry { range: CodeRange { from: .., to: .. }, index: LiveRangeIndex(n) }` lists.
pub(super) fn segs_in(s: &str) -> Vec<Seg> {
    let points = points_in(s);
    let ranges = all_after(s, "LiveRangeIndex(");
    points
        .chunks(2)
        .zip(ranges)
        .filter(|(p, _)| p.len() == 2)
        .map(|(p, r)| Seg {
            from: p[0],
            to: p[1],
            range: r,
        })
        .collect()
}

/// The scanners on record text copied from real logs (tests/fixtures/regalloc2-logs/
/// and sample-modules/hang/loop-0.11.3.log), the message after env_logger's header.
#[cfg(test)]
mod tests {
    use super::*;

    fn pre(i: u32) -> Point {
        Point::new(i, false)
    }
    fn post(i: u32) -> Point {
        Point::new(i, true)
    }

    #[test]
    fn numbers_stop_at_the_first_non_digit_and_never_wrap() {
        assert_eq!(number_at("12) hint"), Some((12, ") hint")));
        assert_eq!(number_at("x12"), None);
        // Past u32: not a number at all, rather than a wrapped one.
        assert_eq!(number_at("4294967296)"), None);
        assert_eq!(number_at("4000000000)"), Some((4_000_000_000, ")")));
    }

    #[test]
    fn bundles_and_points_of_process_records() {
        // 0.15.2
        let t = "process_bundle: bundle LiveBundleIndex(12) hint PReg(hw = 63, class = Int, index = 63)";
        assert_eq!(bundle_in(t), Some(12));
        // hw 63 of class Int is regalloc2's invalid register: no hint.
        assert_eq!(split_key(t, "hint").and_then(|(_, h)| preg_in(h)), None);
        let t =
            " -> conflict with bundles [LiveBundleIndex(12)], first conflict at progpoint2-post";
        let (set, at) = split_key(t, "first conflict at").unwrap();
        assert_eq!(bundles_in(set), vec![12]);
        assert_eq!(point_in(at), Some(post(2)));
        let t = "bundle_start = progpoint1-post bundle_end = progpoint15-post";
        assert_eq!(points_in(t), vec![post(1), post(15)]);
    }

    #[test]
    fn lowest_cost_evict_sets_read_alike_in_every_release() {
        // 0.9–0.10 print an `Option`, 0.11 and later a plain list.
        let old = " -> lowest cost evict: set Some([LiveBundleIndex(1)]), cost Some(764)";
        let new = " -> lowest cost evict: set [LiveBundleIndex(1)], cost Some(764)";
        for t in [old, new] {
            let rest = split_key(t, "set ").unwrap().1;
            let (set, cost) = split_key(rest, "cost").unwrap();
            assert_eq!(bundles_in(set), vec![1]);
            assert_eq!(option_number(cost), Some(764));
        }
    }

    #[test]
    fn registers_in_all_their_printed_forms() {
        let vector0 = PReg {
            hw: 0,
            class: RegClass::Vector,
        };
        // `PRegIndex(n)`: class in the bits above 6.
        assert_eq!(preg_in("trying preg PRegIndex(128)"), Some(vector0));
        let t = " -> lowest cost split: cost Some(5764), point progpoint7-post, reg PReg(hw = 0, class = Vector, index = 128)";
        let (_, rest) = split_key(t, "point").unwrap();
        let (point, reg) = split_key(rest, "reg").unwrap();
        assert_eq!(
            (point_in(point), preg_in(reg)),
            (Some(post(7)), Some(vector0))
        );
        let t = "evicting bundle LiveBundleIndex(1): alloc p0v";
        assert_eq!(
            split_key(t, "alloc").and_then(|(_, a)| short_preg(a)),
            Some(vector0)
        );
        // 0.9–0.11 print the minimal-splitting hint with `Display`, later
        // releases as an `Option`; only the bundle is read either way.
        let old = "Splitting bundle LiveBundleIndex(21) into minimal bundles with reg hint p1v";
        let new = "Splitting bundle LiveBundleIndex(15) into minimal bundles with reg hint PReg(hw = 24, class = Vector, index = 152)";
        assert_eq!((bundle_in(old), bundle_in(new)), (Some(21), Some(15)));
        assert_eq!(preg_in(old).map(|p| p.text()), Some("p1v".into()));
        assert_eq!(preg_in(new).map(|p| p.text()), Some("p24v".into()));
        // Numbers no register has: not registers.
        assert_eq!(preg_in("PRegIndex(255)"), None);
        assert_eq!(preg_in("PReg(hw = 300, class = Float, index = 3)"), None);
        assert_eq!(short_preg("alloc p300i"), None);
        // Word-bounded: `preg` is not a register.
        assert_eq!(short_preg("trying preg"), None);
    }

    #[test]
    fn requirements_as_the_requirement_records_print_them() {
        let t = "     -> req FixedReg(PReg(hw = 31, class = Int, index = 31))";
        let req = split_key(t, "req ").and_then(|(_, r)| requirement_in(r));
        assert_eq!(req.map(|r| r.text()), Some("fixed register p31i".into()));
        assert_eq!(requirement_in("Register"), Some(Requirement::Register));
        assert_eq!(requirement_in("Any"), Some(Requirement::Any));
        assert_eq!(requirement_in("Unknown"), None);
        let t = "attempt 1, req Register";
        assert_eq!(number_at(t.strip_prefix("attempt ").unwrap()).unwrap().0, 1);
    }

    #[test]
    fn operands_of_dump_uses() {
        let cases = [
            // 0.15.2
            (
                " * use at progpoint11-pre (slot 1): Use: v1v fixed(p61v)",
                pre(11),
                1,
                (false, false, Some(1), "fixed(p61v)"),
            ),
            (
                " * use at progpoint8-pre (slot 0): Def@Early: v8i any",
                pre(8),
                0,
                (true, false, Some(8), "any"),
            ),
            // 0.9.3 and 0.11.2
            (
                " * use at progpoint1-post (slot 0): Def: v1v reuse(1)",
                post(1),
                0,
                (true, true, Some(1), "reuse(1)"),
            ),
            (
                " * use at progpoint18-pre (slot 0): Def@Early: v16f fixed(p57f)",
                pre(18),
                0,
                (true, false, Some(16), "fixed(p57f)"),
            ),
            (
                " * use at progpoint17-pre (slot 3): Use: v18i reg",
                pre(17),
                3,
                (false, false, Some(18), "reg"),
            ),
        ];
        for (t, pos, slot, (def, late, vreg, constraint)) in cases {
            let rest = t.trim_start().strip_prefix("* use at ").unwrap();
            assert_eq!(point_in(rest), Some(pos), "{t}");
            assert_eq!(first_after(rest, "(slot "), Some(slot), "{t}");
            let op = split_key(rest, "): ").and_then(|(_, o)| operand_in(o));
            let op = op.map(|(d, l, v, c)| (d, l, v, c.text()));
            assert_eq!(op, Some((def, late, vreg, constraint.to_string())), "{t}");
        }
        // 0.14 and later: `limit(0..=N)` means the first N + 1 registers (no
        // fixture log uses one; the form is regalloc2's `OperandConstraint` Display).
        assert_eq!(
            operand_in("Use: v3i limit(0..=7)").map(|o| o.3),
            Some(Constraint::Limit(8))
        );
    }

    #[test]
    fn range_lists_of_split_records() {
        let t = " -> LRs: [LiveRangeListEntry { range: CodeRange { from: progpoint1-post, to: progpoint18-post }, index: LiveRangeIndex(5) }]";
        assert_eq!(
            segs_in(t),
            vec![Seg {
                from: post(1),
                to: post(18),
                range: 5
            }]
        );
        let t = " -> splitting LR LiveRangeIndex(5) into LiveRangeIndex(20)";
        assert_eq!(all_after(t, "LiveRangeIndex("), vec![5, 20]);
        let t = "   -> added spill range CodeRange { from: progpoint6-pre, to: progpoint18-post } in new LR LiveRangeIndex(24) in spill bundle LiveBundleIndex(22)";
        assert_eq!(points_in(t), vec![pre(6), post(18)]);
        assert_eq!(first_after(t, "LiveRangeIndex("), Some(24));
        assert_eq!(
            t.split_once("spill bundle").and_then(|(_, b)| bundle_in(b)),
            Some(22)
        );
        // 0.9–0.11: the use whose position cuts a shared minimal bundle.
        let t = "   -> use Use { operand: Use: v1v any, pos: progpoint6-pre, slot: 1, weight: 35316 } (last_live_pos progpoint6-pre)";
        assert_eq!(
            split_key(t, "pos: ").and_then(|(_, p)| point_in(p)),
            Some(pre(6))
        );
    }

    #[test]
    fn points_past_the_last_instruction_are_not_read() {
        let t = "bundle_start = progpoint4294967295-post bundle_end = progpoint15-post";
        assert_eq!(points_in(t), vec![post(15)]);
        let max = Point::MAX_INST;
        assert_eq!(points_in(&format!("progpoint{max}-post")), vec![post(max)]);
    }
}
