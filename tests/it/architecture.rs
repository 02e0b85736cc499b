//! The map in ARCHITECTURE.md, checked against the source: the engine crate's
//! dependency tree holds no front-end crate, its stages depend on each other
//! one way only, no files import each other in a circle of any length, and
//! every file is named in the map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The source without comments and string literals, so that words in docs
/// (`//! … egui …`) and messages are not taken for imports.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                kept.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The module path of a file: `trace/model.rs` under the engine root → `engine::trace::model`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every `crate::…` and `super::…` path a file names, as module paths, with
/// `use crate::a::{b, c::d}` groups expanded one level.
fn referenced_paths(
    module: &[String],
    crate_root: &[String],
    is_mod_rs: bool,
    code: &str,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let word = |i: usize| {
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        j
    };
    for (start, root) in code
        .match_indices("crate::")
        .map(|(i, _)| (i, "crate"))
        .chain(code.match_indices("super::").map(|(i, _)| (i, "super")))
    {
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let mut base: Vec<String> = if root == "crate" {
            crate_root.to_vec()
        } else {
            // `super` of `a/b/mod.rs` is `a`; of `a/b/c.rs` it is `a::b`.
            let mut m = module.to_vec();
            if !is_mod_rs || !m.is_empty() {
                m.pop();
            }
            m
        };
        let mut i = start + root.len() + 2;
        loop {
            if bytes.get(i) == Some(&b'{') {
                let end = code[i..].find('}').map_or(code.len(), |e| i + e);
                for item in code[i + 1..end].split(',') {
                    let item = item.trim();
                    let first: Vec<String> = item
                        .split("::")
                        .take_while(|s| {
                            !s.is_empty()
                                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        })
                        .map(str::to_string)
                        .collect();
                    let mut p = base.clone();
                    p.extend(first);
                    out.push(p);
                }
                break;
            }
            let j = word(i);
            if j == i {
                out.push(base.clone());
                break;
            }
            base.push(code[i..j].to_string());
            if code[j..].starts_with("::") {
                i = j + 2;
            } else {
                out.push(base.clone());
                break;
            }
        }
    }
    out
}

struct Graph {
    /// Module path of each file (the engine crate's files under `engine`).
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// File → files it imports (module paths).
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

/// The two source roots: the engine crate, whose `crate::x` is `engine::x`
/// here, and the front ends, which name it `crate::engine`.
fn roots() -> [(PathBuf, Vec<String>); 2] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        (root.join("crates/engine/src"), vec!["engine".to_string()]),
        (root.join("src"), Vec::new()),
    ]
}

fn graph() -> Graph {
    let mut modules = BTreeMap::new();
    let mut code = BTreeMap::new();
    let mut crate_of = BTreeMap::new();
    for (src, prefix) in roots() {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        files.retain(|f| !f.ends_with("main.rs"));
        for f in &files {
            let mut m = prefix.clone();
            m.extend(module_of(&src, f));
            code.insert(m.clone(), code_only(&std::fs::read_to_string(f).unwrap()));
            crate_of.insert(m.clone(), prefix.clone());
            modules.insert(m, f.clone());
        }
    }
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, f) in &modules {
        let is_mod_rs = f.ends_with("mod.rs") || f.ends_with("lib.rs");
        let set = edges.entry(m.clone()).or_default();
        for path in referenced_paths(m, &crate_of[m], is_mod_rs, &code[m]) {
            // The longest prefix that is a file's module.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p));
            if let Some(t) = target
                && &t != m
            {
                set.insert(t);
            }
        }
    }
    Graph { modules, edges }
}

fn name(m: &[String]) -> String {
    m.join("::")
}

/// The GUI crates a headless build must not link.
const FRONT_END_CRATES: [&str; 8] = [
    "egui",
    "eframe",
    "epaint",
    "winit",
    "rfd",
    "glow",
    "egui_plot",
    "egui-winit",
];

/// The crates in the normal (not dev, not build) dependency tree of
/// `package`, as `cargo tree` lists them; `extra` are more arguments.
fn dependency_tree(package: &str, extra: &[&str]) -> BTreeSet<String> {
    let mut args = vec![
        "tree",
        "--offline",
        "--locked",
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ];
    args.extend_from_slice(extra);
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The engine is a crate of its own whose dependency tree holds no GUI or
/// command-line crate: a headless build links none of them.
#[test]
fn the_engine_crate_depends_on_no_front_end() {
    let crates = dependency_tree("spillscope-engine", &[]);
    // The tree is real: the engine's own pinned dependencies are in it.
    for needed in [
        "spillscope-engine",
        "wasmtime",
        "regalloc2",
        "cranelift-codegen",
    ] {
        assert!(crates.contains(needed), "{needed} missing from {crates:?}");
    }
    let front: Vec<&String> = crates
        .iter()
        .filter(|c| FRONT_END_CRATES.contains(&c.as_str()) || *c == "clap")
        .collect();
    assert!(
        front.is_empty(),
        "the engine's dependency tree holds front-end crates: {front:?}"
    );
}

/// `cargo build --no-default-features` gives the command line alone: its
/// tree holds no GUI crate, and no command-line file names the GUI (the
/// command line compiles the same with or without it, so the default build's
/// check covers the headless one without building Wasmtime again).
#[test]
fn the_command_line_builds_without_the_gui() {
    let headless = dependency_tree("spillscope", &["--no-default-features"]);
    assert!(headless.contains("clap") && headless.contains("spillscope-engine"));
    let gui: Vec<&String> = headless
        .iter()
        .filter(|c| FRONT_END_CRATES.contains(&c.as_str()))
        .collect();
    assert!(gui.is_empty(), "the headless build links {gui:?}");
    // The full build does link them, so the check above can fail.
    let full = dependency_tree("spillscope", &[]);
    assert!(full.contains("eframe") && full.contains("egui"));

    let g = graph();
    let crossing: Vec<String> = g
        .edges
        .iter()
        .filter(|(a, _)| a.first().is_some_and(|s| s == "cli"))
        .flat_map(|(a, targets)| {
            targets
                .iter()
                .filter(|b| b.first().is_some_and(|s| s == "gui"))
                .map(move |b| format!("{} -> {}", name(a), name(b)))
        })
        .collect();
    assert!(
        crossing.is_empty(),
        "the command line names the GUI: {crossing:?}"
    );
    let main = code_only(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs"))
            .unwrap(),
    );
    // The one use of the GUI in main.rs is the function behind the feature.
    let uses = main.matches("spillscope::gui").count();
    // (`code_only` drops string literals: `#[cfg(feature = "gui")]` reads
    // `#[cfg(feature = )]` here.)
    let gated = main.matches("#[cfg(feature = )]").count();
    assert_eq!(uses, 1, "main.rs names the GUI {uses} times");
    assert!(
        gated >= 1,
        "main.rs opens the app outside `#[cfg(feature = \"gui\")]`"
    );
}

/// Strongly connected components of the import graph with more than one file:
/// every import cycle, whatever its length (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a [String], usize>,
        low: BTreeMap<&'a [String], usize>,
        stack: Vec<&'a [String]>,
        on_stack: BTreeSet<&'a [String]>,
        out: Vec<Vec<Vec<String>>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a [String]) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_slice();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(w);
                    component.push(w.to_vec());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_slice()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn the_cycle_finder_sees_long_cycles() {
    let m = |s: &str| vec![s.to_string()];
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    // a → b → c → d → a is one cycle of four; e → a hangs off it.
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("e", "a")] {
        edges.entry(m(a)).or_default().insert(m(b));
    }
    assert_eq!(cycles(&edges), vec![vec![m("a"), m("b"), m("c"), m("d")]]);
    edges.get_mut(&m("d")).unwrap().clear();
    assert!(cycles(&edges).is_empty());
}

/// No files import each other in a circle of any length, in the engine or the
/// front ends.
#[test]
fn no_import_cycles() {
    let g = graph();
    let found: Vec<String> = cycles(&g.edges)
        .iter()
        .map(|c| c.iter().map(|m| name(m)).collect::<Vec<_>>().join(", "))
        .collect();
    assert!(
        found.is_empty(),
        "files that import each other in a circle:\n{}",
        found.join("\n")
    );
}

/// The engine's stages (its folders and top-level files) form no cycle.
#[test]
fn engine_stages_depend_one_way() {
    let g = graph();
    let stage = |m: &[String]| -> Option<String> {
        (m.first().map(String::as_str) == Some("engine") && m.len() >= 2).then(|| m[1].clone())
    };
    let mut deps: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (a, targets) in &g.edges {
        let Some(sa) = stage(a) else { continue };
        for b in targets {
            if let Some(sb) = stage(b)
                && sb != sa
            {
                deps.entry(vec![sa.clone()]).or_default().insert(vec![sb]);
            }
        }
    }
    let found: Vec<String> = cycles(&deps)
        .iter()
        .map(|c| c.iter().map(|m| name(m)).collect::<Vec<_>>().join(", "))
        .collect();
    assert!(found.is_empty(), "engine stages in a cycle: {found:?}");
}

/// ARCHITECTURE.md names every engine folder and every file of the engine and
/// the front ends, so a newcomer finds each in one hop.
#[test]
fn the_map_names_every_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let g = graph();
    // The engine crate's files are named as `engine/trace/model.rs`, short for
    // `crates/engine/src/trace/model.rs`.
    let engine_src = root.join("crates/engine/src");
    let src = root.join("src");
    let missing: Vec<String> = g
        .modules
        .values()
        .map(|f| match f.strip_prefix(&engine_src) {
            Ok(rel) => format!("engine/{}", rel.to_string_lossy()),
            Err(_) => f.strip_prefix(&src).unwrap().to_string_lossy().to_string(),
        })
        .filter(|rel| !rel.ends_with("lib.rs") && !rel.ends_with("/mod.rs") && rel.contains('/'))
        .filter(|rel| {
            // Named as `engine/trace/model.rs`, or as `model.rs` in its folder's line.
            let file = rel.rsplit('/').next().unwrap();
            !map.contains(rel.as_str()) && !map.contains(&format!("`{file}`"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files ARCHITECTURE.md does not name: {missing:?}"
    );
}
