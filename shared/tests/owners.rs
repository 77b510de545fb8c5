//! The owners inside `shared` (billing, payments, jobs, media, telegram, people, platform, texts)
//! depend on each other downwards only: this test reads every `crate::<owner>` path in each
//! owner's folder and fails on an import loop, naming it. `config`, `metrics` and `operations` sit on top and
//! may use every owner; no owner may use them. `entities` (the database schema) is shared ground.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

const OWNERS: [&str; 8] = ["billing", "jobs", "media", "payments", "people", "platform", "telegram", "texts"];
const TOP: [&str; 3] = ["config", "metrics", "operations"];

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(fs::read_to_string(&path).unwrap());
        }
    }
}

/// The owners (and top modules) a piece of code names through `crate::`, in paths or `use` trees.
fn named(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        // `crate::{a::x, b::{y, z}}`: the first segment of every top-level element.
        let heads: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += i32::from(c == '{') - i32::from(c == '}');
                    depth < 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut heads = Vec::new();
            let (mut depth, mut start) = (0, 0);
            for (i, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        heads.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            heads.push(&group[start..end]);
            heads
        } else {
            vec![rest]
        };
        for head in heads {
            let name: String =
                head.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if OWNERS.contains(&name.as_str()) || TOP.contains(&name.as_str()) || name == "Settings" {
                found.insert(if name == "Settings" { "config".to_owned() } else { name });
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    OWNERS
        .iter()
        .map(|owner| {
            let mut files = Vec::new();
            sources(&src.join(owner), &mut files);
            let mut uses: BTreeSet<String> = files.iter().flat_map(|code| named(code)).collect();
            uses.remove(*owner);
            ((*owner).to_owned(), uses)
        })
        .collect()
}

#[test]
fn owners_use_no_top_module() {
    for (owner, uses) in graph() {
        for top in TOP {
            assert!(!uses.contains(top), "{owner} uses crate::{top}; only the binaries and tests may");
        }
    }
}

/// The first import loop of `graph`, as `a -> b -> a`, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    // Depth-first search; a node met again on the current path closes a loop.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(format!("{} -> {node}", path[at..].join(" -> ")));
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|owner| visit(owner, graph, &mut Vec::new(), &mut done))
}

#[test]
fn owners_form_no_import_loop() {
    let graph = graph();
    if let Some(found) = find_loop(&graph) {
        panic!("import loop between owners: {found}");
    }
    // The picture, printed with `--nocapture`, is the one the README draws.
    for (owner, uses) in &graph {
        println!("{owner} -> {}", uses.iter().cloned().collect::<Vec<_>>().join(", "));
    }
}

#[test]
fn a_loop_is_named() {
    let edges = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(from, to)| ((*from).to_owned(), to.iter().map(|t| (*t).to_owned()).collect()))
            .collect()
    };
    let downwards =
        edges(&[("payments", &["billing", "platform"]), ("billing", &["platform"]), ("platform", &[])]);
    assert_eq!(find_loop(&downwards), None);
    let looped = edges(&[("billing", &["payments"]), ("payments", &["billing"])]);
    assert_eq!(find_loop(&looped).as_deref(), Some("billing -> payments -> billing"));
}

#[test]
fn crate_paths_are_read_in_use_trees_and_in_code() {
    assert_eq!(
        named("use crate::{billing::money::Credits, jobs::{self, NewJob}};"),
        ["billing", "jobs"].map(String::from).into()
    );
    assert_eq!(
        named("let x = crate::texts::i18n::Lang::Ru; use crate::Settings;"),
        ["config", "texts"].map(String::from).into()
    );
}
