//! The compiler's one error type: a single human-readable line and the place it applies to.
//!
//! Policy authors fix one problem at a time, so loading and compiling stop at the first error and
//! say exactly where it is: `file:line:column: path.to.key: what is wrong` for the YAML, the
//! pattern's `file:line:column` for a pattern no automaton can be built for. Whether the error
//! came from loading or from compiling makes no difference to the author, so there is one type.
//! The position is optional only for errors that have none (a file that cannot be read, a
//! directory without policies, an internal inconsistency).

use crate::model::SourcePos;
use std::fmt;

/// One clear message with the `file:line:column` where it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub pos: Option<SourcePos>,
    pub message: String,
}

impl Error {
    /// An error at a position in a policy file.
    pub fn at(pos: SourcePos, message: impl Into<String>) -> Error {
        Error {
            pos: Some(pos),
            message: message.into(),
        }
    }

    /// An error about a file or a set of files as a whole; `message` should name the file.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            pos: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(pos) => write!(f, "{pos}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}
