//! README's "Where things live" table names files that exist: a move that
//! forgets the table fails here.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn every_file_in_the_where_things_live_table_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = readme
        .split("### Where things live")
        .nth(1)
        .expect("README has a 'Where things live' section")
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2);
    let mut named = 0;
    for row in table {
        let answer = row.split('|').nth(2).unwrap_or_default();
        // Paths are the backticked words with a slash or a dot in them.
        for path in answer.split('`').skip(1).step_by(2).filter(|w| w.contains('/') || w.starts_with('.')) {
            assert!(root.join(path).exists(), "README names {path}, which does not exist (row: {row})");
            named += 1;
        }
    }
    assert!(named >= 20, "only {named} files named: is the table still there?");
}
