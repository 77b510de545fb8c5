//! What a user chose in the Mini App's settings beyond the interface language
//! (which lives on the user, see `users::set_language`): the language their
//! recordings are transcribed in.

use std::{fmt, str::FromStr};

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::ids::UserId;

/// The language recordings are transcribed in: detected by the provider, or
/// one the user chose (an ISO 639-1 code, as the speech provider takes it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TranscriptionLanguage {
    /// The provider detects it.
    #[default]
    Auto,
    /// Always this one: two lowercase ASCII letters.
    Chosen(String),
}

impl TranscriptionLanguage {
    /// The code to pass to the speech provider, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Auto => None,
            Self::Chosen(code) => Some(code),
        }
    }
}

impl FromStr for TranscriptionLanguage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) => {
                Ok(Self::Chosen(code.to_owned()))
            }
            other => Err(format!("`{other}` is neither `auto` nor a two-letter ISO 639-1 code")),
        }
    }
}

impl fmt::Display for TranscriptionLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code().unwrap_or("auto"))
    }
}

/// The user's transcription language (`Auto` until they choose one).
///
/// # Errors
/// When the database fails.
pub async fn transcription_language<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
) -> Result<TranscriptionLanguage, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT transcription_language FROM user_settings WHERE user_id = $1",
            [user_id.into()],
        ))
        .await?;
    let code = match row {
        Some(row) => row.try_get::<Option<String>>("", "transcription_language")?,
        None => None,
    };
    Ok(code.map_or(TranscriptionLanguage::Auto, TranscriptionLanguage::Chosen))
}

/// Stores the user's transcription language.
///
/// # Errors
/// When the database fails.
pub async fn set_transcription_language<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    language: &TranscriptionLanguage,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO user_settings (user_id, transcription_language) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET transcription_language = EXCLUDED.transcription_language, \
         updated_at = now()",
        [user_id.into(), language.code().map(str::to_owned).into()],
    ))
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_or_two_lowercase_letters() {
        assert_eq!("auto".parse(), Ok(TranscriptionLanguage::Auto));
        assert_eq!("de".parse(), Ok(TranscriptionLanguage::Chosen("de".into())));
        for bad in ["", "EN", "eng", "e1", "Auto", "../"] {
            assert!(bad.parse::<TranscriptionLanguage>().is_err(), "{bad}");
        }
        assert_eq!(TranscriptionLanguage::Chosen("kk".into()).to_string(), "kk");
        assert_eq!(TranscriptionLanguage::Auto.to_string(), "auto");
    }
}
