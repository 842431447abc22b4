//! The built-in profiles (upstream's: standard, paranoid, yolo, block-prompt-injection,
//! research-agent, mcp-server, ci, guard): their YAML, for `rampart init`, and their bundles,
//! compiled by `build.rs` into the executable so that the common case (no policy of one's own)
//! pays no compile time at all.

/// A built-in profile.
pub struct Profile {
    pub name: &'static str,
    pub yaml: &'static str,
    /// Compiled by this build's compiler, at the alignment the DFAs need.
    pub bundle: &'static [u8],
}

impl Profile {
    /// The file name the profile is written to (`standard.yaml`).
    pub fn file_name(&self) -> String {
        format!("{}.yaml", self.name)
    }
}

/// Dense DFAs need 4-byte alignment; `include_bytes!` guarantees none, so the bytes are wrapped.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);

macro_rules! profile {
    ($name:literal) => {{
        static BYTES: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
            env!("OUT_DIR"),
            "/",
            $name,
            ".bin"
        )));
        Profile {
            name: $name,
            yaml: include_str!(concat!("../policies/", $name, ".yaml")),
            bundle: &BYTES.0,
        }
    }};
}

/// Every built-in profile.
pub fn profiles() -> [Profile; 8] {
    [
        standard(),
        profile!("paranoid"),
        profile!("yolo"),
        profile!("block-prompt-injection"),
        profile!("research-agent"),
        profile!("mcp-server"),
        profile!("ci"),
        profile!("guard"),
    ]
}

/// The profile called `name`.
pub fn profile(name: &str) -> Option<Profile> {
    profiles().into_iter().find(|p| p.name == name)
}

/// The standard profile: the policy of a user who has none of their own.
pub fn standard() -> Profile {
    profile!("standard")
}
