//! MCP tools as rampart sees them.
//!
//! The threat: an MCP tool's name says little and promises nothing. `delete_repo`, `run_query`
//! and `read_file` all arrive as "call tool X with arguments Y", so a policy written against
//! rampart's tool classes (`exec`, `read`, `mcp-destructive`, ...) only applies if every surface
//! that sees an MCP call classifies it the same way: the MCP proxy (`tools/call`) and the agent
//! hooks (`mcp__server__tool` and the other hosts' spellings). Both use [`classify`].

pub mod classify;
