//! Compiles the built-in profiles into bundles embedded in this crate, so that no command pays
//! compile time for the default policy. A profile that fails to load or compile fails the build:
//! a broken built-in policy must never ship.

use std::path::PathBuf;

/// Every profile; `src/lib.rs` embeds each by the same name.
const PROFILES: [&str; 8] = [
    "standard",
    "paranoid",
    "yolo",
    "block-prompt-injection",
    "research-agent",
    "mcp-server",
    "ci",
    "guard",
];

fn main() -> Result<(), String> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?);
    for name in PROFILES {
        let path = format!("{name}.yaml");
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let compiled = rampart_compiler::compile_str(&format!("embedded:{name}"), &text)
            .map_err(|e| format!("{path}: {e}"))?;
        std::fs::write(out.join(format!("{name}.bin")), compiled.bytes)
            .map_err(|e| format!("writing {name}.bin: {e}"))?;
    }
    Ok(())
}
