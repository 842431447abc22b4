//! The shell command model. Placeholder: see issue 3.
