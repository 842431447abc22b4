//! Reference matchers for upstream's glob flavours (reference §2.5). Placeholder: see issue 2.
