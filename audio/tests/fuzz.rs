//! Fuzzing the entry points with proptest: real files with bytes flipped, runs overwritten,
//! cut short or spliced must give a result or a typed error, never a panic. Any crash found is
//! kept below as a named regression case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use audio::{ChunkingConfig, prepare, probe};
use bytes::Bytes;
use common::load;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Overwrite { at: usize, len: usize, byte: u8 },
    Truncate { keep: usize },
    Duplicate { from: usize, len: usize, to: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), 1usize..64, any::<u8>()).prop_map(|(at, len, byte)| Mutation::Overwrite {
            at,
            len,
            byte
        }),
        any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        (any::<usize>(), 1usize..512, any::<usize>()).prop_map(|(from, len, to)| Mutation::Duplicate {
            from,
            len,
            to
        }),
    ]
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if data.is_empty() {
            break;
        }
        let n = data.len();
        match *m {
            Mutation::Flip { at, mask } => data[at % n] ^= mask,
            Mutation::Overwrite { at, len, byte } => {
                let at = at % n;
                data[at..(at + len).min(n)].fill(byte);
            }
            Mutation::Truncate { keep } => data.truncate(keep % n),
            Mutation::Duplicate { from, len, to } => {
                let from = from % n;
                let piece = data[from..(from + len).min(n)].to_vec();
                let to = to % n;
                data.splice(to..to, piece);
            }
        }
    }
    data
}

fn survives(data: Vec<u8>) {
    let input = Bytes::from(data);
    // Results do not matter here, only that both entry points return.
    let _ = probe(&input, &ChunkingConfig::default());
    let _ = prepare(&input, &ChunkingConfig::default());
}

macro_rules! fuzz_format {
    ($($test:ident => $file:expr),* $(,)?) => {
        $(proptest! {
            #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $test(mutations in prop::collection::vec(mutation(), 1..4)) {
                survives(apply(load($file).to_vec(), &mutations));
            }
        })*
    };
}

fuzz_format! {
    fuzz_ogg_opus => "short.opus",
    fuzz_mp3 => "short.mp3",
    fuzz_m4a => "short.m4a",
    fuzz_flac => "short.flac",
    fuzz_ogg_vorbis => "short_vorbis.ogg",
    fuzz_webm => "short.webm",
    fuzz_wav => "short.wav",
}

#[test]
fn headers_alone_and_tiny_prefixes_are_rejected_cleanly() {
    for name in
        ["short.opus", "short.mp3", "short.m4a", "short.flac", "short_vorbis.ogg", "short.webm", "short.wav"]
    {
        let data = load(name);
        for keep in [1, 4, 12, 27, 44, 64, 200] {
            let cut = data.slice(..keep.min(data.len()));
            assert!(prepare(&cut, &ChunkingConfig::default()).is_err(), "{name} cut to {keep} bytes");
        }
    }
}
