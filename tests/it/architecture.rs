//! The map in ARCHITECTURE.md, checked against the source: the engine imports
//! no egui, its stages depend on each other one way only, no two files of a
//! folder import each other, and every engine folder is named in the map.

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

/// The module path of a file: `src/engine/trace/model.rs` → `engine::trace::model`.
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
fn referenced_paths(module: &[String], is_mod_rs: bool, code: &str) -> Vec<Vec<String>> {
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
            Vec::new()
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
    /// Module path of each file.
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// File → files it imports (module paths).
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    code: BTreeMap<Vec<String>, String>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| !f.ends_with("main.rs"));
    let mut modules = BTreeMap::new();
    let mut code = BTreeMap::new();
    for f in &files {
        let m = module_of(&src, f);
        code.insert(m.clone(), code_only(&std::fs::read_to_string(f).unwrap()));
        modules.insert(m, f.clone());
    }
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, f) in &modules {
        let is_mod_rs = f.ends_with("mod.rs") || f.ends_with("lib.rs");
        let set = edges.entry(m.clone()).or_default();
        for path in referenced_paths(m, is_mod_rs, &code[m]) {
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
    Graph {
        modules,
        edges,
        code,
    }
}

fn name(m: &[String]) -> String {
    m.join("::")
}

#[test]
fn the_engine_imports_no_egui() {
    let g = graph();
    let offenders: Vec<String> = g
        .modules
        .keys()
        .filter(|m| m.first().is_some_and(|s| s == "engine"))
        .filter(|m| {
            let code = &g.code[*m];
            ["egui", "eframe", "crate::gui", "crate::cli"]
                .iter()
                .any(|w| code.contains(&format!("{w}::")))
        })
        .map(|m| name(m))
        .collect();
    assert!(
        offenders.is_empty(),
        "engine modules naming the front ends: {offenders:?}"
    );
}

/// No two files import each other, nor a parent folder's `mod.rs` and its child.
#[test]
fn no_two_modules_import_each_other() {
    let g = graph();
    let mut pairs = Vec::new();
    for (a, targets) in &g.edges {
        for b in targets {
            if a < b && g.edges.get(b).is_some_and(|t| t.contains(a)) {
                pairs.push(format!("{} <-> {}", name(a), name(b)));
            }
        }
    }
    assert!(
        pairs.is_empty(),
        "modules that import each other:\n{}",
        pairs.join("\n")
    );
}

/// The engine's stages (its folders and top-level files) form no cycle.
#[test]
fn engine_stages_depend_one_way() {
    let g = graph();
    let stage = |m: &[String]| -> Option<String> {
        (m.first().map(String::as_str) == Some("engine") && m.len() >= 2).then(|| m[1].clone())
    };
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, targets) in &g.edges {
        let Some(sa) = stage(a) else { continue };
        for b in targets {
            if let Some(sb) = stage(b)
                && sb != sa
            {
                deps.entry(sa.clone()).or_default().insert(sb);
            }
        }
    }
    // Depth-first search for a cycle, reporting its stages.
    fn visit(
        s: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == s) {
            let mut cycle = path[i..].to_vec();
            cycle.push(s.to_string());
            return Some(cycle);
        }
        if done.contains(s) {
            return None;
        }
        path.push(s.to_string());
        for d in deps.get(s).into_iter().flatten() {
            if let Some(c) = visit(d, deps, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(s.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for s in deps.keys() {
        if let Some(cycle) = visit(s, &deps, &mut Vec::new(), &mut done) {
            panic!("engine stages in a cycle: {}", cycle.join(" -> "));
        }
    }
}

/// ARCHITECTURE.md names every engine folder and every file of the engine and
/// the front ends, so a newcomer finds each in one hop.
#[test]
fn the_map_names_every_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let g = graph();
    let src = root.join("src");
    let missing: Vec<String> = g
        .modules
        .values()
        .map(|f| f.strip_prefix(&src).unwrap().to_string_lossy().to_string())
        .filter(|rel| rel != "lib.rs" && !rel.ends_with("/mod.rs") && rel.contains('/'))
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
