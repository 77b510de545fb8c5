//! `parse_mode` handling: Telegram turns marked-up text into plain text plus entities,
//! counts limits on the plain text, and rejects malformed markup. Doing the same here
//! means a message that is too long or badly escaped fails in tests, not in production.

use serde_json::{Value, json};

/// Text as Telegram stores it: markup removed, entities with UTF-16 offsets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub text: String,
    pub entities: Vec<Value>,
}

/// Length in UTF-16 code units, the unit of every Telegram text limit and offset.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Parses `text` per `parse_mode` (or takes explicit `entities`); the error is the
/// full Telegram description.
pub(crate) fn parse(
    text: &str,
    parse_mode: Option<&str>,
    entities: Option<&Value>,
) -> Result<Parsed, String> {
    let parsed = match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Parsed {
            text: text.to_owned(),
            entities: entities.and_then(Value::as_array).cloned().unwrap_or_default(),
        },
        Some("html") => parse_html(text)?,
        Some("markdownv2") => parse_markdown(text, true)?,
        Some("markdown") => parse_markdown(text, false)?,
        Some(_) => return Err("Bad Request: unsupported parse_mode".to_owned()),
    };
    Ok(trim(parsed))
}

/// Telegram strips leading and trailing whitespace and shifts entities to match.
fn trim(parsed: Parsed) -> Parsed {
    let start = parsed.text.len() - parsed.text.trim_start().len();
    let shift = utf16_len(&parsed.text[..start]);
    let text = parsed.text.trim().to_owned();
    let total = utf16_len(&text);
    let entities = parsed
        .entities
        .into_iter()
        .filter_map(|mut e| {
            let offset = e.get("offset")?.as_u64()? as usize;
            let length = e.get("length")?.as_u64()? as usize;
            let begin = offset.saturating_sub(shift);
            let end = (offset + length).saturating_sub(shift).min(total);
            if end <= begin {
                return None;
            }
            e["offset"] = json!(begin);
            e["length"] = json!(end - begin);
            Some(e)
        })
        .collect();
    Parsed { text, entities }
}

fn cant_parse(detail: impl std::fmt::Display) -> String {
    format!("Bad Request: can't parse entities: {detail}")
}

struct Open {
    tag: String,
    offset: usize,
    entity: Option<Value>,
}

fn parse_html(src: &str) -> Result<Parsed, String> {
    let mut text = String::new();
    let mut utf16 = 0usize;
    let mut stack: Vec<Open> = Vec::new();
    let mut entities = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        let Some(ch) = rest.chars().next() else { break };
        if ch == '<' {
            let Some(close) = rest.find('>') else {
                return Err(cant_parse(format!("Unclosed start tag at byte offset {i}")));
            };
            let inner = &rest[1..close];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                let Some(open) = stack.pop() else {
                    return Err(cant_parse(format!("Unexpected end tag at byte offset {i}")));
                };
                if open.tag != name {
                    return Err(cant_parse(format!(
                        "Unmatched end tag at byte offset {i}, expected \"</{}>\", found \"</{name}>\"",
                        open.tag
                    )));
                }
                if let Some(mut entity) = open.entity {
                    let length = utf16 - open.offset;
                    if length > 0 {
                        entity["offset"] = json!(open.offset);
                        entity["length"] = json!(length);
                        entities.push(entity);
                    }
                }
            } else {
                let (name, attrs) = match inner.find(char::is_whitespace) {
                    Some(sp) => (&inner[..sp], &inner[sp..]),
                    None => (inner, ""),
                };
                let name = name.to_ascii_lowercase();
                let entity = html_entity(&name, attrs, &stack).ok_or_else(|| {
                    cant_parse(format!("Unsupported start tag \"{name}\" at byte offset {i}"))
                })?;
                stack.push(Open { tag: name, offset: utf16, entity });
            }
            i += close + 1;
        } else if ch == '&' {
            let (decoded, used) = decode_html_entity(rest);
            text.push_str(&decoded);
            utf16 += utf16_len(&decoded);
            i += used;
        } else {
            text.push(ch);
            utf16 += ch.len_utf16();
            i += ch.len_utf8();
        }
    }
    if let Some(open) = stack.pop() {
        return Err(cant_parse(format!("Can't find end tag corresponding to start tag \"{}\"", open.tag)));
    }
    entities.sort_by_key(|e| (e["offset"].as_u64(), std::cmp::Reverse(e["length"].as_u64())));
    Ok(Parsed { text, entities })
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    let at = attrs.find(&format!("{name}="))?;
    let value = &attrs[at + name.len() + 1..];
    let value = if let Some(v) = value.strip_prefix('"') {
        &v[..v.find('"')?]
    } else if let Some(v) = value.strip_prefix('\'') {
        &v[..v.find('\'')?]
    } else {
        value.split_whitespace().next().unwrap_or("")
    };
    Some(decode_html_entities(value))
}

/// `Some(None)` is a supported tag that makes no entity of its own (`code` inside `pre`).
fn html_entity(name: &str, attrs: &str, stack: &[Open]) -> Option<Option<Value>> {
    let simple = |t: &str| Some(Some(json!({ "type": t })));
    match name {
        "b" | "strong" => simple("bold"),
        "i" | "em" => simple("italic"),
        "u" | "ins" => simple("underline"),
        "s" | "strike" | "del" => simple("strikethrough"),
        "tg-spoiler" => simple("spoiler"),
        "span" if attr(attrs, "class").as_deref() == Some("tg-spoiler") => simple("spoiler"),
        "a" => {
            let href = attr(attrs, "href").unwrap_or_default();
            Some(Some(json!({ "type": "text_link", "url": href })))
        }
        "code" => {
            if stack.last().is_some_and(|o| o.tag == "pre") {
                let language =
                    attr(attrs, "class").and_then(|c| c.strip_prefix("language-").map(str::to_owned));
                if let Some(lang) = language {
                    return Some(Some(json!({ "type": "pre", "language": lang })));
                }
                return Some(None);
            }
            simple("code")
        }
        "pre" => simple("pre"),
        "blockquote" => {
            if attrs.split_whitespace().any(|a| a == "expandable") {
                simple("expandable_blockquote")
            } else {
                simple("blockquote")
            }
        }
        "tg-emoji" => {
            let id = attr(attrs, "emoji-id").unwrap_or_default();
            Some(Some(json!({ "type": "custom_emoji", "custom_emoji_id": id })))
        }
        _ => None,
    }
}

fn decode_html_entity(rest: &str) -> (String, usize) {
    let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
        return ("&".to_owned(), 1);
    };
    let name = &rest[1..end];
    let decoded = match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32),
    };
    match decoded {
        Some(c) => (c.to_string(), end + 1),
        None => ("&".to_owned(), 1),
    }
}

fn decode_html_entities(s: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with('&') {
            let (d, used) = decode_html_entity(rest);
            out.push_str(&d);
            i += used;
        } else if let Some(c) = rest.chars().next() {
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

const RESERVED_V2: &str = "_*[]()~`>#+-=|{}.!";

struct MdOpen {
    marker: &'static str,
    offset: usize,
    byte: usize,
}

/// MarkdownV2 (`v2`) or legacy Markdown.
fn parse_markdown(src: &str, v2: bool) -> Result<Parsed, String> {
    let mut text = String::new();
    let mut utf16 = 0usize;
    let mut stack: Vec<MdOpen> = Vec::new();
    let mut entities = Vec::new();
    let mut i = 0;
    let in_code = |stack: &[MdOpen]| stack.last().is_some_and(|o| o.marker == "`" || o.marker == "```");
    while i < src.len() {
        let rest = &src[i..];
        let Some(ch) = rest.chars().next() else { break };
        if ch == '\\' {
            let escapable = |c: char| if v2 { c.is_ascii() } else { "_*`[".contains(c) };
            if let Some(next) = rest[1..].chars().next().filter(|&c| escapable(c)) {
                text.push(next);
                utf16 += next.len_utf16();
                i += 1 + next.len_utf8();
                continue;
            }
            if v2 {
                return Err(cant_parse(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'",
                ));
            }
        }
        if in_code(&stack) {
            let marker = stack.last().map_or("`", |o| o.marker);
            if rest.starts_with(marker) {
                close_md(&mut stack, &mut entities, utf16);
                i += marker.len();
            } else {
                text.push(ch);
                utf16 += ch.len_utf16();
                i += ch.len_utf8();
            }
            continue;
        }
        let marker: Option<&'static str> = if rest.starts_with("```") {
            Some("```")
        } else if v2 && rest.starts_with("__") {
            Some("__")
        } else if v2 && rest.starts_with("||") {
            Some("||")
        } else {
            match ch {
                '*' => Some("*"),
                '_' => Some("_"),
                '`' => Some("`"),
                '~' if v2 => Some("~"),
                _ => None,
            }
        };
        if let Some(marker) = marker {
            if stack.last().is_some_and(|o| o.marker == marker) {
                close_md(&mut stack, &mut entities, utf16);
            } else if stack.iter().any(|o| o.marker == marker) {
                return Err(cant_parse(format!("Can't find end of the entity starting at byte offset {i}")));
            } else {
                stack.push(MdOpen { marker, offset: utf16, byte: i });
                if marker == "```" {
                    // The rest of the opening line names the language.
                    let line_end = rest[3..].find('\n').map(|p| p + 3);
                    if let Some(end) = line_end {
                        let lang = rest[3..end].trim();
                        if !lang.is_empty() {
                            entities.push(json!({ "type": "_lang", "language": lang }));
                        }
                        i += end + 1;
                        continue;
                    }
                }
            }
            i += marker.len();
            continue;
        }
        if ch == '[' || (v2 && rest.starts_with("![")) {
            let start = if ch == '!' { 2 } else { 1 };
            if let Some((label, url, used)) = md_link(&rest[start..]) {
                let inner = parse_markdown(label, v2)?;
                let offset = utf16;
                for mut e in inner.entities {
                    let o = e["offset"].as_u64().unwrap_or(0) as usize;
                    e["offset"] = json!(o + offset);
                    entities.push(e);
                }
                text.push_str(&inner.text);
                utf16 += utf16_len(&inner.text);
                let length = utf16 - offset;
                if length > 0 {
                    if ch == '!' {
                        let id = url.rsplit_once("id=").map(|(_, id)| id.to_owned()).unwrap_or_default();
                        entities.push(json!({ "type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": id }));
                    } else {
                        entities.push(
                            json!({ "type": "text_link", "offset": offset, "length": length, "url": url }),
                        );
                    }
                }
                i += start + used;
                continue;
            }
        }
        if v2 && ch == '>' && (i == 0 || src[..i].ends_with('\n')) {
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let inner = parse_markdown(&rest[1..line_end], v2)?;
            let offset = utf16;
            text.push_str(&inner.text);
            utf16 += utf16_len(&inner.text);
            entities.push(json!({ "type": "blockquote", "offset": offset, "length": utf16 - offset }));
            i += line_end;
            continue;
        }
        if v2 && RESERVED_V2.contains(ch) {
            return Err(cant_parse(format!(
                "Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )));
        }
        text.push(ch);
        utf16 += ch.len_utf16();
        i += ch.len_utf8();
    }
    if let Some(open) = stack.first() {
        return Err(cant_parse(format!(
            "Can't find end of the entity starting at byte offset {}",
            open.byte
        )));
    }
    // Fold the language markers of ``` blocks into their pre entities.
    let mut out: Vec<Value> = Vec::new();
    let mut pending_lang: Option<Value> = None;
    for e in entities {
        if e["type"] == "_lang" {
            pending_lang = Some(e["language"].clone());
        } else if e["type"] == "pre" {
            let mut e = e;
            if let Some(lang) = pending_lang.take() {
                e["language"] = lang;
            }
            out.push(e);
        } else {
            out.push(e);
        }
    }
    out.retain(|e| e["length"].as_u64().is_some_and(|l| l > 0));
    out.sort_by_key(|e| (e["offset"].as_u64(), std::cmp::Reverse(e["length"].as_u64())));
    Ok(Parsed { text, entities: out })
}

fn close_md(stack: &mut Vec<MdOpen>, entities: &mut Vec<Value>, utf16: usize) {
    let Some(open) = stack.pop() else { return };
    let kind = match open.marker {
        "*" => "bold",
        "_" => "italic",
        "__" => "underline",
        "~" => "strikethrough",
        "||" => "spoiler",
        "`" => "code",
        _ => "pre",
    };
    entities.push(json!({ "type": kind, "offset": open.offset, "length": utf16 - open.offset }));
}

/// `label](url)` after the opening bracket: the label, the URL and the bytes used.
fn md_link(rest: &str) -> Option<(&str, String, usize)> {
    let mut depth = 0usize;
    let mut close = None;
    let mut chars = rest.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => depth += 1,
            ']' if depth == 0 => {
                close = Some(at);
                break;
            }
            ']' => depth -= 1,
            _ => {}
        }
    }
    let close = close?;
    let after = rest[close + 1..].strip_prefix('(')?;
    let mut url = String::new();
    let mut chars = after.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    url.push(n);
                }
            }
            ')' => return Some((&rest[..close], url, close + 2 + at + 1)),
            _ => url.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(p: &Parsed) -> Vec<(String, u64, u64)> {
        p.entities
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap_or("").to_owned(),
                    e["offset"].as_u64().unwrap_or(0),
                    e["length"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    #[test]
    fn html_is_stripped_and_measured_in_utf16() -> Result<(), String> {
        let p = parse("<b>жир</b> &amp; 😀<a href=\"https://x.y\">link</a>", Some("HTML"), None)?;
        assert_eq!(p.text, "жир & 😀link");
        assert_eq!(types(&p), vec![("bold".into(), 0, 3), ("text_link".into(), 8, 4)]);
        Ok(())
    }

    #[test]
    fn html_errors_use_telegram_wording() {
        let unclosed = parse("<b>x", Some("HTML"), None).unwrap_err();
        assert!(unclosed.starts_with("Bad Request: can't parse entities: Can't find end tag"), "{unclosed}");
        let unknown = parse("<foo>x</foo>", Some("HTML"), None).unwrap_err();
        assert!(unknown.contains("Unsupported start tag \"foo\""), "{unknown}");
    }

    #[test]
    fn markdown_v2_requires_escaping() -> Result<(), String> {
        let err = parse("Price: 5.00", Some("MarkdownV2"), None).unwrap_err();
        assert!(err.contains("Character '.' is reserved"), "{err}");
        let p = parse("*bold* \\. __u__ [t](https://a.b/c\\)) `c*d`", Some("MarkdownV2"), None)?;
        assert_eq!(p.text, "bold . u t c*d");
        assert_eq!(
            types(&p),
            vec![
                ("bold".into(), 0, 4),
                ("underline".into(), 7, 1),
                ("text_link".into(), 9, 1),
                ("code".into(), 11, 3)
            ]
        );
        assert_eq!(p.entities[2]["url"], "https://a.b/c)");
        Ok(())
    }

    #[test]
    fn whitespace_is_trimmed() -> Result<(), String> {
        let p = parse("  <b>x</b>  ", Some("HTML"), None)?;
        assert_eq!(p.text, "x");
        assert_eq!(types(&p), vec![("bold".into(), 0, 1)]);
        Ok(())
    }
}
