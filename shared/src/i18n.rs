//! User-facing texts in Russian (first) and English.
//!
//! Every message a user can see is a variant of [`Text`]; this is the one
//! place where it becomes words, so no handler builds user text itself.

use std::{fmt, str::FromStr};

use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};

/// A language the bot speaks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Lang {
    /// Russian: the default for everyone who is not using Telegram in English.
    #[default]
    #[sea_orm(string_value = "ru")]
    Ru,
    /// English.
    #[sea_orm(string_value = "en")]
    En,
}

impl Lang {
    /// Picks the language from Telegram's `language_code` (an IETF tag such as
    /// `en`, `en-GB` or `ru`). English users get English; everyone else Russian,
    /// because our audience is mostly Russian-speaking.
    pub fn from_telegram(code: Option<&str>) -> Self {
        match code {
            Some(code) if code.eq_ignore_ascii_case("en") || code.to_ascii_lowercase().starts_with("en-") => {
                Self::En
            }
            _ => Self::Ru,
        }
    }

    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ru" => Ok(Self::Ru),
            "en" => Ok(Self::En),
            other => Err(format!("unknown language `{other}`")),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Everything the bot can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    /// Answer to `/start`.
    Welcome {
        /// The user's first name, as Telegram gives it.
        first_name: String,
        /// Free minutes of transcription per day.
        free_minutes: u32,
    },
    /// Answer to `/help`.
    Help {
        /// Price of one minute of audio, in credits.
        price_per_minute: String,
        /// Free minutes of transcription per day.
        free_minutes: u32,
    },
    /// A text the bot does not understand.
    Unknown,
}

impl Text {
    /// The text in `lang`, as Telegram plain text.
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Welcome { first_name, free_minutes }, Lang::Ru) => format!(
                "Здравствуйте, {first_name}!\n\n\
                 Я превращаю голосовые сообщения, аудио и видео в текст, а ещё рисую и редактирую картинки.\n\n\
                 Пришлите голосовое сообщение — каждый день {free_minutes} мин. бесплатно.\n\
                 Все команды: /help"
            ),
            (Self::Welcome { first_name, free_minutes }, Lang::En) => format!(
                "Hello, {first_name}!\n\n\
                 I turn voice messages, audio and video into text, and I draw and edit pictures.\n\n\
                 Send me a voice message: {free_minutes} min. a day are free.\n\
                 All commands: /help"
            ),
            (Self::Help { price_per_minute, free_minutes }, Lang::Ru) => format!(
                "Что я умею:\n\
                 • расшифровка голосовых, аудио, видео и кружочков — просто пришлите файл;\n\
                 • /image <описание> — нарисовать картинку;\n\
                 • фото с подписью — отредактировать фото;\n\
                 • /balance — баланс, /buy — пополнить, /history — история.\n\n\
                 Цена: {price_per_minute} кредитов за минуту, первые {free_minutes} мин. в день бесплатно."
            ),
            (Self::Help { price_per_minute, free_minutes }, Lang::En) => format!(
                "What I can do:\n\
                 • transcribe voice messages, audio, video and video notes: just send the file;\n\
                 • /image <description>: draw a picture;\n\
                 • a photo with a caption: edit the photo;\n\
                 • /balance: balance, /buy: top up, /history: history.\n\n\
                 Price: {price_per_minute} credits a minute, the first {free_minutes} min. a day are free."
            ),
            (Self::Unknown, Lang::Ru) => {
                "Не понял. Пришлите голосовое сообщение или аудио, или посмотрите /help.".to_owned()
            }
            (Self::Unknown, Lang::En) => {
                "I did not get that. Send a voice message or audio, or see /help.".to_owned()
            }
        }
    }
}

/// The bot's command menu in `lang`, as (command, description) pairs.
pub fn command_menu(lang: Lang) -> Vec<(&'static str, &'static str)> {
    match lang {
        Lang::Ru => vec![("start", "Начать"), ("help", "Что умеет бот и сколько это стоит")],
        Lang::En => vec![("start", "Start"), ("help", "What the bot does and what it costs")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_only_for_english_users() {
        assert_eq!(Lang::from_telegram(Some("en")), Lang::En);
        assert_eq!(Lang::from_telegram(Some("en-GB")), Lang::En);
        assert_eq!(Lang::from_telegram(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_telegram(Some("uk")), Lang::Ru);
        assert_eq!(Lang::from_telegram(Some("eng")), Lang::Ru);
        assert_eq!(Lang::from_telegram(None), Lang::Ru);
    }

    #[test]
    fn welcome_is_translated() {
        let text = Text::Welcome { first_name: "Анна".into(), free_minutes: 3 };
        assert!(text.render(Lang::Ru).starts_with("Здравствуйте, Анна!"));
        assert!(text.render(Lang::En).starts_with("Hello, Анна!"));
        assert!(text.render(Lang::Ru).contains("3 мин."));
    }
}
