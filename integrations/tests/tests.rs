//! rampart-integrations' integration tests, as one binary with a module per concern.

mod surface;
