//! The modules form layers, never a cycle: domain below ports below
//! adapters below handlers, in the library and in the command alike. This
//! test reads every `crate::…`, `super::…` and `self::…` path in shared/src
//! and cli/src and fails on any cycle among the modules, naming it. Every
//! file is a module of its own (`payload::v1`, `lambda::sender::settle`);
//! a module and its own rooms (its ancestors and descendants) are one room
//! seen from outside, so a parent re-exporting a child's type and the child
//! using the parent's are no cycle. Test code may reach anything.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file is: `config`, `payload::v1`, `lambda::sender` (its
/// mod.rs), …; `None` for the crate root and for test files.
fn module_of(root: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let root_file = parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main");
    let test_file = parts.last().is_some_and(|p| p == "tests");
    (!root_file && !test_file && !parts.is_empty()).then_some(parts)
}

/// The text without its test modules: `#[cfg(test)] mod tests { … }` to
/// the end of the file (where they sit), `#[cfg(test)] mod tests;` lines.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && let Some(next) = lines.peek()
        {
            let next = next.trim();
            if next.starts_with("mod ") && next.ends_with(';') {
                lines.next();
                continue;
            }
            if next.starts_with("mod ") && next.ends_with('{') {
                break;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The paths a `use` tree or an inline path names, from after its first
/// `crate::`/`super::`/`self::`: `{a, b::{c, d}}` → `a`, `b::c`, `b::d`.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items.into_iter().flat_map(expand).collect();
    }
    let first = ident(rest);
    if first.is_empty() {
        return vec![Vec::new()];
    }
    let after = &rest[first.len()..];
    match after.strip_prefix("::") {
        Some(more) => expand(more)
            .into_iter()
            .map(|mut tail| {
                tail.insert(0, first.to_owned());
                tail
            })
            .collect(),
        None => vec![vec![first.to_owned()]],
    }
}

/// The modules `text`, the code of module `at`, names, resolved against
/// the known modules (the longest known prefix of each path).
fn uses(text: &str, at: &[String], known: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let code = without_tests(text);
    let mut out = BTreeSet::new();
    for (anchor, base) in [
        ("crate::", Vec::new()),
        ("super::", at[..at.len().saturating_sub(1)].to_vec()),
        ("self::", at.to_vec()),
    ] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(anchor) {
            // `super::` inside `crate::a::super` does not occur; a longer
            // name ending in the anchor (`my_crate::`) is not ours.
            let before = rest[..i].chars().next_back();
            rest = &rest[i + anchor.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            for tail in expand(rest) {
                let mut path = base.clone();
                path.extend(tail);
                if let Some(module) = (1..=path.len())
                    .rev()
                    .map(|n| path[..n].to_vec())
                    .find(|p| known.contains(p))
                {
                    out.insert(module);
                }
            }
        }
    }
    out
}

/// Whether one module is the other or contains it.
fn same_room(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

/// The import graph of the crate whose sources are under `root`.
fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(root, &mut files);
    let modules: Vec<(Vec<String>, &PathBuf)> = files
        .iter()
        .filter_map(|f| module_of(root, f).map(|m| (m, f)))
        .collect();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let deps = graph.entry(module.join("::")).or_default();
        for used in uses(&text, module, &known) {
            if !same_room(&used, module) {
                deps.insert(used.join("::"));
            }
        }
    }
    graph
}

/// Every cycle, one spelling each (starting at its smallest module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    graph
        .keys()
        .filter_map(|m| cycle_from(graph, m))
        .map(|c| {
            let ring = &c[..c.len() - 1];
            let i = ring
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| *m)
                .map_or(0, |(i, _)| i);
            let mut turned: Vec<String> = ring[i..].iter().chain(&ring[..i]).cloned().collect();
            turned.push(turned[0].clone());
            turned.join(" → ")
        })
        .collect()
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn the_library_has_no_import_cycle_between_any_two_modules() {
    let graph = graph(&crate_src("src"));
    // The test sees the rooms inside a module, not only the top level.
    assert!(graph.contains_key("payload::v1") && graph.contains_key("lambda::sender::settle"));
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles in shared/src:\n{}",
        found.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_command_has_no_import_cycle_between_any_two_modules() {
    let graph = graph(&crate_src("../cli/src"));
    assert!(graph.len() > 10, "cli/src read: {:?}", graph.keys());
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles in cli/src:\n{}",
        found.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn paths_resolve_to_the_module_that_holds_them() {
    let known: BTreeSet<Vec<String>> = [
        "payload",
        "payload::v1",
        "payload::v3",
        "lambda::sender",
        "lambda::sender::message",
    ]
    .iter()
    .map(|m| m.split("::").map(str::to_owned).collect())
    .collect();
    let at: Vec<String> = vec!["lambda".into(), "sender".into(), "settle".into()];
    let text = "use crate::payload::v3::CostProposalLine;\n\
                use super::message::{about, span};\n\
                use super::{Outcome, Sender};\n\
                fn f() { crate::payload::render(); my_crate::x(); }\n\
                #[cfg(test)]\nmod tests {\n use crate::payload::v1::X;\n}\n";
    let got: Vec<String> = uses(text, &at, &known)
        .into_iter()
        .map(|m| m.join("::"))
        .collect();
    assert_eq!(
        got,
        [
            "lambda::sender",
            "lambda::sender::message",
            "payload",
            "payload::v3"
        ]
    );
}
