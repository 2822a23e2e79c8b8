//! The library's modules form layers, never a cycle: domain below ports
//! below adapters below handlers. This test reads every `crate::…` path in
//! shared/src and fails on any cycle among the modules, naming it. Modules
//! are the top-level ones, with `lambda` and `adapters` split into their
//! children (each handler and adapter is a module of its own).
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

/// The module a file belongs to: `config`, `lambda::router`, …
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    let first = parts.first()?.clone();
    if first == "lib" {
        return None;
    }
    if (first == "lambda" || first == "adapters") && parts.len() > 1 && parts[1] != "mod" {
        return Some(format!("{first}::{}", parts[1]));
    }
    Some(first)
}

/// Modules named by `crate::a::b` paths in `text` (tests excluded: a test
/// may reach anything).
fn uses(text: &str) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = BTreeSet::new();
    // `use crate::{a, b::c}` and `crate::a::b` anywhere.
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let mut names: Vec<String> = Vec::new();
        if rest.starts_with('{') {
            let end = rest.find('}').unwrap_or(rest.len());
            // Top-level names of a group; nested groups are rare here.
            for item in rest[1..end].split(',') {
                let item = item.trim().trim_start_matches('{');
                if let Some(first) = item.split("::").next() {
                    let path: Vec<&str> = item.split("::").map(str::trim).collect();
                    names.push(if first == "lambda" || first == "adapters" {
                        path.iter().take(2).copied().collect::<Vec<_>>().join("::")
                    } else {
                        first.trim().to_owned()
                    });
                }
            }
        } else {
            let ident = |s: &str| {
                s.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            };
            let first = ident(rest);
            if first == "lambda" || first == "adapters" {
                let second = ident(rest[first.len()..].trim_start_matches("::"));
                names.push(if second.is_empty() {
                    first
                } else {
                    format!("{first}::{second}")
                });
            } else {
                names.push(first);
            }
        }
        out.extend(names.into_iter().filter(|n| !n.is_empty()));
    }
    out
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

#[test]
fn the_library_has_no_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&root, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for used in uses(&text) {
            if used != module && !module.starts_with(&format!("{used}::")) {
                deps.insert(used);
            }
        }
    }
    let modules: Vec<String> = graph.keys().cloned().collect();
    let cycles: BTreeSet<String> = modules
        .iter()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| {
            // One spelling per cycle: start at its smallest module.
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
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles in shared/src:\n{}",
        cycles.into_iter().collect::<Vec<_>>().join("\n")
    );
}
