//! librampart.so (placeholder until the preload issue).
#![no_std]
