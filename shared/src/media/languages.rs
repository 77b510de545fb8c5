//! The language a recording was heard in, as we keep it: an ISO 639-1 code.
//!
//! OpenAI's Whisper answers `verbose_json` with the language's English name
//! (`"russian"`), other compatible servers with a code (`"ru"`); the Mini App
//! and the `/language` list speak codes, so answers are turned into one.

/// Whisper's language names and their codes (Whisper's own list).
#[rustfmt::skip]
const NAMES: &[(&str, &str)] = &[
    ("afrikaans", "af"), ("albanian", "sq"), ("amharic", "am"), ("arabic", "ar"), ("armenian", "hy"),
    ("assamese", "as"), ("azerbaijani", "az"), ("bashkir", "ba"), ("basque", "eu"), ("belarusian", "be"),
    ("bengali", "bn"), ("bosnian", "bs"), ("breton", "br"), ("bulgarian", "bg"), ("burmese", "my"),
    ("cantonese", "yue"), ("castilian", "es"), ("catalan", "ca"), ("chinese", "zh"), ("croatian", "hr"),
    ("czech", "cs"), ("danish", "da"), ("dutch", "nl"), ("english", "en"), ("estonian", "et"),
    ("faroese", "fo"), ("finnish", "fi"), ("flemish", "nl"), ("french", "fr"), ("galician", "gl"),
    ("georgian", "ka"), ("german", "de"), ("greek", "el"), ("gujarati", "gu"), ("haitian", "ht"),
    ("haitian creole", "ht"), ("hausa", "ha"), ("hawaiian", "haw"), ("hebrew", "he"), ("hindi", "hi"),
    ("hungarian", "hu"), ("icelandic", "is"), ("indonesian", "id"), ("italian", "it"), ("japanese", "ja"),
    ("javanese", "jw"), ("kannada", "kn"), ("kazakh", "kk"), ("khmer", "km"), ("korean", "ko"),
    ("lao", "lo"), ("latin", "la"), ("latvian", "lv"), ("letzeburgesch", "lb"), ("lingala", "ln"),
    ("lithuanian", "lt"), ("luxembourgish", "lb"), ("macedonian", "mk"), ("malagasy", "mg"), ("malay", "ms"),
    ("malayalam", "ml"), ("maltese", "mt"), ("maori", "mi"), ("marathi", "mr"), ("moldavian", "ro"),
    ("moldovan", "ro"), ("mongolian", "mn"), ("myanmar", "my"), ("nepali", "ne"), ("norwegian", "no"),
    ("nynorsk", "nn"), ("occitan", "oc"), ("panjabi", "pa"), ("pashto", "ps"), ("persian", "fa"),
    ("polish", "pl"), ("portuguese", "pt"), ("punjabi", "pa"), ("pushto", "ps"), ("romanian", "ro"),
    ("russian", "ru"), ("sanskrit", "sa"), ("serbian", "sr"), ("shona", "sn"), ("sindhi", "sd"),
    ("sinhala", "si"), ("sinhalese", "si"), ("slovak", "sk"), ("slovenian", "sl"), ("somali", "so"),
    ("spanish", "es"), ("sundanese", "su"), ("swahili", "sw"), ("swedish", "sv"), ("tagalog", "tl"),
    ("tajik", "tg"), ("tamil", "ta"), ("tatar", "tt"), ("telugu", "te"), ("thai", "th"), ("tibetan", "bo"),
    ("turkish", "tr"), ("turkmen", "tk"), ("ukrainian", "uk"), ("urdu", "ur"), ("uzbek", "uz"),
    ("valencian", "ca"), ("vietnamese", "vi"), ("welsh", "cy"), ("yiddish", "yi"), ("yoruba", "yo"),
];

/// The code of the language a provider answered with: a name Whisper uses
/// becomes its code, a code stays (lowercased), an empty answer is none.
pub fn code_of(answer: &str) -> Option<String> {
    let answer = answer.trim().to_lowercase();
    if answer.is_empty() {
        return None;
    }
    Some(NAMES.iter().find(|(name, _)| *name == answer).map_or(answer, |(_, code)| (*code).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whisper_names_become_codes_and_codes_stay() {
        assert_eq!(code_of("russian").as_deref(), Some("ru"));
        assert_eq!(code_of("English").as_deref(), Some("en"));
        assert_eq!(code_of("ru").as_deref(), Some("ru"));
        assert_eq!(code_of("KK").as_deref(), Some("kk"));
        assert_eq!(code_of(" "), None);
    }
}
