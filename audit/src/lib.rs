//! x
pub mod chain;
pub mod checkpoint;
pub mod compact;
pub mod encode;
pub mod error;
pub mod event;
pub mod ids;
pub mod layout;
pub mod lock;
pub mod merkle;
pub mod redact;
pub mod scan;
pub mod secure;
pub mod state;
pub mod time;
pub mod verify;
