//! Compiles the C shim that collects execl/execlp/execle's variadic arguments (stable Rust cannot
//! define a C-variadic function).

fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    cc::Build::new()
        .file("src/shim.c")
        .std("c99")
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-Werror")
        .flag_if_supported("-fvisibility=hidden")
        .compile("rampart_shim");
}
