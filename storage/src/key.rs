//! Object keys: `{user_id}/{job_id}/{name}`, validated once and trusted after.

use std::fmt;

use uuid::Uuid;

/// Longest object name we accept, in bytes; S3 allows 1024 for the whole key.
const MAX_NAME_LEN: usize = 255;

/// Why a name or key is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The name is empty.
    #[error("object name is empty")]
    Empty,
    /// The name is longer than 255 bytes.
    #[error("object name is longer than {MAX_NAME_LEN} bytes")]
    TooLong,
    /// The name starts with `/`.
    #[error("object name must not start with `/`")]
    LeadingSlash,
    /// A path segment is `.` or `..`, or empty (`a//b`, trailing `/`).
    #[error("object name must not contain `.`, `..` or empty path segments")]
    BadSegment,
    /// The name contains a control character or a backslash.
    #[error("object name must not contain control characters or backslashes")]
    ForbiddenCharacter,
    /// A full key is not of the form `{user_id}/{job_id}/{name}`.
    #[error("object key must look like `{{user_id}}/{{job_id}}/{{name}}`")]
    Malformed,
}

/// The last part of a key: a file name, optionally under sub-folders
/// (`chunks/003.ogg`), that cannot escape its job's folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName(String);

impl ObjectName {
    /// Checks `name`: no `..`, no leading `/`, no control characters.
    pub fn parse(name: &str) -> Result<Self, KeyError> {
        if name.is_empty() {
            return Err(KeyError::Empty);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(KeyError::TooLong);
        }
        if name.starts_with('/') {
            return Err(KeyError::LeadingSlash);
        }
        if name.chars().any(|c| c.is_control() || c == '\\') {
            return Err(KeyError::ForbiddenCharacter);
        }
        if name.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
            return Err(KeyError::BadSegment);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A full object key. Every object belongs to one user and one job, so
/// deleting a user's data or a job's files is a prefix operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The key of `name` in the folder of `job_id` of `user_id`.
    pub fn new(user_id: i64, job_id: Uuid, name: &ObjectName) -> Self {
        Self(format!("{user_id}/{job_id}/{}", name.as_str()))
    }

    /// Parses a key read back from the database.
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        let mut parts = key.splitn(3, '/');
        let (Some(user), Some(job), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyError::Malformed);
        };
        let user_id: i64 = user.parse().map_err(|_| KeyError::Malformed)?;
        let job_id: Uuid = job.parse().map_err(|_| KeyError::Malformed)?;
        let name = ObjectName::parse(name)?;
        // Re-render so that only the canonical spelling is ever stored.
        let canonical = Self::new(user_id, job_id, &name);
        if canonical.0 != key {
            return Err(KeyError::Malformed);
        }
        Ok(canonical)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_nested_names() {
        assert!(ObjectName::parse("original.ogg").is_ok());
        assert!(ObjectName::parse("chunks/003.ogg").is_ok());
        assert!(ObjectName::parse("транскрипт.txt").is_ok());
    }

    #[test]
    fn rejects_escapes_and_control_characters() {
        assert_eq!(ObjectName::parse("../x"), Err(KeyError::BadSegment));
        assert_eq!(ObjectName::parse("a/../../x"), Err(KeyError::BadSegment));
        assert_eq!(ObjectName::parse("/abs"), Err(KeyError::LeadingSlash));
        assert_eq!(ObjectName::parse("a//b"), Err(KeyError::BadSegment));
        assert_eq!(ObjectName::parse("./a"), Err(KeyError::BadSegment));
        assert_eq!(ObjectName::parse("a\nb"), Err(KeyError::ForbiddenCharacter));
        assert_eq!(ObjectName::parse("a\\b"), Err(KeyError::ForbiddenCharacter));
        assert_eq!(ObjectName::parse(""), Err(KeyError::Empty));
        assert_eq!(ObjectName::parse(&"x".repeat(256)), Err(KeyError::TooLong));
    }

    #[test]
    fn keys_have_the_user_job_name_layout_and_round_trip() {
        let job = Uuid::from_u128(7);
        let key = ObjectKey::new(42, job, &ObjectName::parse("a.txt").unwrap());
        assert_eq!(key.as_str(), format!("42/{job}/a.txt"));
        assert_eq!(ObjectKey::parse(key.as_str()), Ok(key));
    }

    #[test]
    fn parsing_rejects_foreign_keys() {
        let job = Uuid::from_u128(7);
        assert_eq!(ObjectKey::parse("../x"), Err(KeyError::Malformed));
        assert_eq!(ObjectKey::parse("/abs"), Err(KeyError::Malformed));
        assert_eq!(ObjectKey::parse(&format!("42/{job}/../x")), Err(KeyError::BadSegment));
        assert_eq!(ObjectKey::parse("42/not-a-uuid/a.txt"), Err(KeyError::Malformed));
        assert_eq!(ObjectKey::parse(&format!("+42/{job}/a.txt")), Err(KeyError::Malformed));
    }
}
