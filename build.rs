//! Compiles the built-in profiles into bundles embedded in the binary, so that no command pays
//! compile time for the default policy. A profile that fails to load or compile fails the build.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in ["standard", "paranoid", "yolo"] {
        let path = format!("policies/{name}.yaml");
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let set = rampart_compiler::load::load_str(&format!("embedded:{name}"), &text)
            .unwrap_or_else(|e| panic!("{e}"));
        let (bytes, _) =
            rampart_compiler::build::compile(&set).unwrap_or_else(|e| panic!("{path}: {e}"));
        std::fs::write(out.join(format!("{name}.bin")), bytes)
            .unwrap_or_else(|e| panic!("writing {name}.bin: {e}"));
    }
}
