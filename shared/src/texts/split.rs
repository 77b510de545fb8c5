//! Splitting long texts into Telegram messages.

/// Telegram's limit for one message, in UTF-16 code units.
pub const TELEGRAM_MESSAGE_LIMIT: usize = 4096;

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Splits `text` into parts of at most `limit` UTF-16 code units, breaking at
/// the last line break or space before the limit (a single word longer than
/// the limit is cut). Parts carry no leading or trailing whitespace.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if utf16_len(rest) <= limit {
            parts.push(rest.to_owned());
            break;
        }
        // The longest prefix within the limit, on a char boundary.
        let mut units = 0;
        let mut end = 0;
        for (index, ch) in rest.char_indices() {
            if units + ch.len_utf16() > limit {
                break;
            }
            units += ch.len_utf16();
            end = index + ch.len_utf8();
        }
        let window = &rest[..end];
        let cut = if rest[end..].starts_with(char::is_whitespace) {
            // The window ends at a word's end: take it whole.
            end
        } else {
            window.rfind('\n').or_else(|| window.rfind(' ')).filter(|&at| at > 0).unwrap_or(end)
        };
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    parts
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_texts_stay_whole() {
        assert_eq!(split_message("привет мир", 4096), vec!["привет мир"]);
        assert!(split_message("   ", 10).is_empty());
    }

    #[test]
    fn long_texts_break_at_words() {
        assert_eq!(split_message("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(split_message("aaa\nbbb ccc dd", 9), vec!["aaa", "bbb ccc", "dd"]);
        assert_eq!(split_message("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn emoji_count_as_two_units() {
        let parts = split_message("😀😀😀", 4);
        assert_eq!(parts, vec!["😀😀", "😀"]);
    }

    proptest! {
        #[test]
        fn parts_fit_and_keep_every_word(words in proptest::collection::vec("[a-zа-я😀]{1,12}", 0..200), limit in 12usize..200) {
            let text = words.join(" ");
            let parts = split_message(&text, limit);
            for part in &parts {
                prop_assert!(utf16_len(part) <= limit);
                prop_assert!(!part.is_empty());
            }
            let joined: String = parts.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(joined, original);
        }
    }
}
