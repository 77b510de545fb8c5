//! Computes a fingerprint of the SQL migrations (see `SCHEMA_FINGERPRINT`).

// A build script has no caller to hand errors to: failing loudly is right.
#![allow(clippy::expect_used)]

use std::{
    collections::hash_map::DefaultHasher,
    fs,
    hash::{Hash, Hasher},
};

fn main() {
    println!("cargo::rerun-if-changed=src/sql");
    let mut files: Vec<_> = fs::read_dir("src/sql")
        .expect("src/sql exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    files.sort();
    let mut hasher = DefaultHasher::new();
    for path in files {
        path.file_name().hash(&mut hasher);
        fs::read(&path).expect("readable migration").hash(&mut hasher);
    }
    println!("cargo::rustc-env=SCHEMA_FINGERPRINT={:016x}", hasher.finish());
}
