//! The built-in profiles (standard, paranoid, yolo), from `rampart-policies`.

pub use rampart_compiler::sources::Embedded as Profile;
pub use rampart_policies::{profile, profiles, standard};
