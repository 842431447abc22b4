//! The rampart policy compiler: YAML policies in, `policy.bin` out.
//!
//! The threat: a policy that does not say what its author meant. A rule that silently fails to
//! load, a typo that turns `deny` into nothing, a glob that matches differently from upstream
//! Rampart's: each is a hole in the firewall. So loading is as strict as upstream's, every error
//! points at `file:line:column`, [`lint`] finds what loads but is probably wrong, and the lowering
//! keeps upstream's matching semantics exactly. Everything that can be decided ahead of time is
//! done here, once, so that deciding a call (the runtime's job) is only automata and bit tests.
//!
//! The main types, in the order a policy goes through them:
//!
//! * [`load`]: YAML text, files and directories to a checked, merged [`model::PolicySet`]
//!   (`load/yaml.rs` parses with positions, `load/schema.rs` reads upstream's schema strictly,
//!   `load/check.rs` checks each value); every failure is an [`Error`] with its position.
//! * [`lower`]: each pattern (command, path, URL, domain glob, regex) to a regex for one field,
//!   with upstream's semantics.
//! * [`compile`](mod@compile): rules to programs over atoms, atoms to DFAs, all of it into one
//!   bundle ([`Compiled`], whose bytes [`rampart_runtime::bundle`] opens);
//!   [`write`](mod@write) puts it on disk atomically.
//! * [`lint`]: the same tree read leniently, every finding reported.
//! * [`sources`]: the policy in force, the one way every surface gets its bundle: discovery
//!   (`--config`, the working directory, the home directory, the project policy), upstream's
//!   merge, user rules, and the cached bundle ([`sources::PolicyInForce`]).
//!
//! [`compile_str`] is the one way from policy text to bundle bytes; the runtime's
//! [`OwnedBundle`](rampart_runtime::bundle::OwnedBundle) is the one way from bytes to an
//! evaluator. Together, a policy compiled and a call decided:
//!
//! ```
//! use rampart_runtime::bundle::OwnedBundle;
//! use rampart_runtime::eval::EvalContext;
//! use rampart_runtime::program::Action;
//! use rampart_runtime::Call;
//!
//! let yaml = r#"
//! version: "1"
//! default_action: allow
//! policies:
//!   - name: no-force-push
//!     match:
//!       tool: exec
//!     rules:
//!       - action: deny
//!         when:
//!           command_matches: ["git push --force*"]
//!         message: "force pushes rewrite shared history"
//! "#;
//! let compiled = rampart_compiler::compile_str("example.yaml", yaml)?;
//! let bundle = OwnedBundle::open(&compiled.bytes)?;
//! let evaluator = bundle.evaluator()?;
//!
//! let push = Call::new("exec", "claude-code", &[("command", "git push --force origin main")]);
//! let decision = evaluator.evaluate(&push, &EvalContext::at(0));
//! assert_eq!(decision.action, Action::Deny);
//! assert_eq!(decision.message, "force pushes rewrite shared history");
//!
//! let status = Call::new("exec", "claude-code", &[("command", "git status")]);
//! assert_eq!(evaluator.evaluate(&status, &EvalContext::at(0)).action, Action::Allow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
pub mod compile;
pub mod error;
pub mod lint;
pub mod load;
pub mod lower;
pub mod model;
pub mod sources;
pub mod write;

pub use compile::{compile, compile_str, Compiled};
pub use error::Error;
