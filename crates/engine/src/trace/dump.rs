//! Records of regalloc2's `ion/dump.rs` (`dump_state`): the state dumps
//! before allocation (every release) and after it (0.12 and later). Bundle and
//! range ids in a dump are positions in its lists.

use super::builder::{DumpSection, TraceBuilder};
use super::model::{BundleDump, Constraint, Dialect, RangeDump, Seg, UseInfo};
use super::scan::{first_after, number_at, operand_in, point_in, points_in, split_key};

impl TraceBuilder {
    pub(super) fn close_dump(&mut self) {
        if self.dump_section == DumpSection::None {
            return;
        }
        self.dump_section = DumpSection::None;
        let dump = std::mem::take(&mut self.dump);
        if self.dumps_seen == 1 {
            for (i, b) in dump.bundles.iter().enumerate() {
                self.segs.set(i as u32, b.segs.clone());
                self.spillset_of.insert(i as u32, b.spillset);
            }
            for (i, r) in dump.ranges.iter().enumerate() {
                if let Some(v) = r.vreg {
                    self.vreg_of_range.insert(i as u32, v);
                }
            }
            self.trace.initial = dump;
        } else {
            self.trace.final_state = Some(dump);
            self.trace.finished = true;
            self.trace.dialect.narrow(Dialect::FROM_0_12);
        }
    }

    pub(super) fn dump_record(&mut self, message: &str) {
        let t = message.trim_start();
        match t {
            "Bundles:" => {
                self.close_dump();
                self.dumps_seen += 1;
                self.dump_section = DumpSection::Bundles;
                return;
            }
            "VRegs:" => {
                self.dump_section = DumpSection::VRegs;
                return;
            }
            "Ranges:" => {
                self.dump_section = DumpSection::Ranges;
                return;
            }
            _ => {}
        }
        if let Some(rest) = t.strip_prefix("* range ") {
            // ` * range progpointA -- progpointB: rangeN`
            let pts = points_in(rest);
            let range = memchr::memmem::rfind(rest.as_bytes(), b"range")
                .and_then(|i| number_at(&rest[i + "range".len()..]))
                .map(|(n, _)| n);
            if let (2, Some(range)) = (pts.len(), range) {
                let seg = Seg {
                    from: pts[0],
                    to: pts[1],
                    range,
                };
                match self.dump_section {
                    DumpSection::Bundles => {
                        if let Some(b) = self.dump.bundles.last_mut() {
                            b.segs.push(seg);
                        }
                    }
                    // The per-vreg lists repeat the ranges (each range names its
                    // vreg); that call site is skipped from now on.
                    DumpSection::VRegs => self.ignore_site = true,
                    _ => self.unparsed(message),
                }
                return;
            }
        }
        if let Some(rest) = t.strip_prefix("* use at ") {
            let pos = point_in(rest);
            let slot = first_after(rest, "(slot ").unwrap_or(0) as u16;
            let operand = split_key(rest, "): ").and_then(|(_, o)| operand_in(o));
            if let (Some(pos), Some((def, late, vreg, constraint))) = (pos, operand)
                && let Some(r) = self.dump.ranges.last_mut()
            {
                if let Constraint::Limit(_) = constraint {
                    self.trace.dialect.narrow(Dialect::FROM_0_14);
                }
                r.uses.push(UseInfo {
                    pos,
                    slot,
                    def,
                    late,
                    vreg,
                    constraint,
                });
                return;
            }
            self.unparsed(message);
            return;
        }
        match self.dump_section {
            DumpSection::Bundles if t.starts_with("bundle") => {
                let spillset = first_after(t, "SpillSetIndex(").unwrap_or(0);
                let alloc = split_key(t, "alloc=")
                    .map(|(_, a)| a.trim().to_string())
                    .unwrap_or_default();
                self.dump.bundles.push(BundleDump {
                    spillset,
                    alloc,
                    segs: Vec::new(),
                });
            }
            DumpSection::VRegs if t.starts_with("vreg") => self.ignore_site = true,
            DumpSection::Ranges if t.starts_with("range") => {
                let pts = points_in(t);
                let vreg = first_after(t, "VRegIndex(");
                let bundle = first_after(t, "LiveBundleIndex(");
                let weight = split_key(t, "weight=")
                    .map(|(_, w)| {
                        w.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-')
                            .split(|c: char| {
                                !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')
                            })
                            .next()
                            .unwrap_or("0")
                            .parse::<f32>()
                            .unwrap_or(0.0)
                    })
                    .unwrap_or(0.0);
                if pts.len() == 2 {
                    self.dump.ranges.push(RangeDump {
                        from: pts[0],
                        to: pts[1],
                        vreg: vreg.filter(|&v| v != (1 << 30) - 1 && v != u32::MAX),
                        bundle: bundle.filter(|&b| b != u32::MAX),
                        weight,
                        uses: Vec::new(),
                    });
                } else {
                    self.unparsed(message);
                }
            }
            _ => self.unparsed(message),
        }
    }
}
