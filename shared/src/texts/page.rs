//! The Mini App page's words: `shared/locales/<lang>/app.ftl`, beside the
//! bot's catalogue, compiled into the binary and handed to the page as JSON.
//!
//! The page fills in values itself, so each message is rendered with its
//! variables left as `{name}` for the page to replace. Page messages use no
//! selectors: their wording does not depend on a number.

use std::collections::BTreeMap;

use fluent_bundle::{FluentResource, concurrent::FluentBundle};
use fluent_syntax::ast::Entry;

use super::i18n::Lang;

const RU_FTL: &str = include_str!("../../locales/ru/app.ftl");
const EN_FTL: &str = include_str!("../../locales/en/app.ftl");

/// Every message of the page's catalogue in `lang`, by id, with variables as `{name}`.
///
/// # Errors
/// When the catalogue does not parse (the tests render both, so a broken
/// file never ships).
pub fn texts(lang: Lang) -> Result<BTreeMap<String, String>, String> {
    let (locale, source) = match lang {
        Lang::Ru => ("ru", RU_FTL),
        Lang::En => ("en", EN_FTL),
    };
    let resource = FluentResource::try_new(source.to_owned())
        .map_err(|(_, errors)| format!("{locale}/app.ftl does not parse: {errors:?}"))?;
    let ids: Vec<String> = resource
        .entries()
        .filter_map(|entry| match entry {
            Entry::Message(message) => Some(message.id.name.to_owned()),
            _ => None,
        })
        .collect();
    let locale = locale.parse().map_err(|err| format!("{err}"))?;
    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).map_err(|errors| format!("{errors:?}"))?;
    let mut texts = BTreeMap::new();
    for id in ids {
        let Some(pattern) = bundle.get_message(&id).and_then(|message| message.value()) else { continue };
        // With no arguments, Fluent writes each variable as `{$name}`.
        let mut unresolved = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut unresolved).replace("{$", "{");
        texts.insert(id, text);
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_say_the_same_things() {
        let ru = texts(Lang::Ru).unwrap();
        let en = texts(Lang::En).unwrap();
        assert!(ru.len() > 20, "{ru:?}");
        let ru_ids: Vec<_> = ru.keys().collect();
        let en_ids: Vec<_> = en.keys().collect();
        assert_eq!(ru_ids, en_ids, "app.ftl files define different messages");
        for (id, text) in ru.iter().chain(&en) {
            assert!(id.starts_with("page-"), "{id}");
            assert!(!text.trim().is_empty(), "{id} is empty");
            assert!(!text.contains("{$"), "{id}: {text}");
        }
        // The same placeholders in both languages, so the page fills both alike.
        let placeholders = |text: &str| {
            let mut names: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}'))
                .map(|(name, _)| name.to_owned())
                .collect();
            names.sort();
            names
        };
        for id in ru.keys() {
            assert_eq!(placeholders(&ru[id]), placeholders(&en[id]), "{id}");
        }
    }

    #[test]
    fn variables_reach_the_page_as_placeholders() {
        let ru = texts(Lang::Ru).unwrap();
        assert!(ru.values().any(|text| text.contains('{') && text.contains('}')), "no message takes a value");
        assert!(ru.values().any(|text| text.chars().any(|c| matches!(c, 'а'..='я'))), "not Russian");
    }
}
