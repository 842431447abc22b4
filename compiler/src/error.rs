//! The one error type of loading: a single human-readable line and the place it applies to.
//!
//! Policy authors fix one problem at a time, so a load stops at the first error and says exactly
//! where it is: `file:line:column: path.to.key: what is wrong`. The position is optional only for
//! errors that have none (a file that cannot be read, a directory without policies).

use crate::model::SourcePos;
use std::fmt;

/// One clear message with the `file:line:column` where it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub pos: Option<SourcePos>,
    pub message: String,
}

impl LoadError {
    /// An error at a position in a policy file.
    pub fn at(pos: SourcePos, message: impl Into<String>) -> LoadError {
        LoadError {
            pos: Some(pos),
            message: message.into(),
        }
    }

    /// An error about a file or a set of files as a whole; `message` should name the file.
    pub fn new(message: impl Into<String>) -> LoadError {
        LoadError {
            pos: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(pos) => write!(f, "{pos}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for LoadError {}
