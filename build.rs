//! Builds librampart.so, the preload library, and puts it next to the binary
//! (`target/<profile>/librampart.so`), where `rampart preload` looks first, so that a plain
//! `cargo build` gives a working rampart. (The built-in profiles are compiled by the
//! `rampart-policies` crate's build script.)
//!
//! Why a nested cargo for the library: preload/ is a workspace of its own. Built in one cargo
//! invocation with the CLI, feature unification would turn on rampart-runtime's `std` feature in
//! the no_std cdylib and link std (and libgcc_s) into every process. The nested build always uses
//! the preload's release profile (the library's cost is paid in every spawned process, whatever
//! profile the CLI was built with) and a target directory of its own, `target/preload`, because
//! the outer cargo holds the lock on the profile directory while build scripts run. It joins the
//! outer cargo's jobserver, so it does not oversubscribe the machine.
//!
//! A library that fails to build is a warning, not an error: the CLI works without it and
//! `rampart preload` then says where it looked. `RAMPART_SKIP_PRELOAD=1` skips the library.
//!
//! It also links the binary's unwinder statically ([`static_unwinder`]): every agent tool call
//! starts a `rampart hook` process, and loading libgcc_s.so (whose constructor probes the CPU,
//! an exit to the hypervisor per probe on a VM) is a large share of that process's start-up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a build script fails the build by panicking, with the reason"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's file name, as `rampart preload` looks for it.
const LIBRARY: &str = "librampart.so";

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    static_unwinder(&out);
    // A library left from an earlier build would not match these sources (nor, perhaps, the
    // bundle format): better none than a stale one, whether the build below is skipped or fails.
    if let Some(dir) = profile_dir(&out) {
        let _ = std::fs::remove_file(dir.join(LIBRARY));
    }
    println!("cargo:rerun-if-env-changed=RAMPART_SKIP_PRELOAD");
    if std::env::var_os("RAMPART_SKIP_PRELOAD").is_some_and(|v| v == "1") {
        return;
    }
    for path in [
        "preload/src",
        "preload/build.rs",
        "preload/Cargo.toml",
        "preload/Cargo.lock",
        "runtime/src",
        "runtime/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Err(why) = build_preload(&out) {
        for line in why.lines() {
            println!("cargo:warning={line}");
        }
    }
}

/// Links libgcc's unwinder (`libgcc_eh.a`) into the package's executables instead of loading
/// `libgcc_s.so.1` at run time.
///
/// Rust's std asks for `-lgcc_s` on GNU/Linux unless the whole C runtime is linked statically
/// (`crt-static`, which cargo cannot set for one package without also breaking proc-macros). A
/// linker script named `libgcc_s.so` in a directory searched first answers that `-lgcc_s` with
/// the static archive: the same unwinder (panics still unwind, which `rampart hook` relies on to
/// answer a panic with a deny), one shared library fewer to load, and no libgcc constructor.
/// Without a C compiler that knows the archive, the binary links libgcc_s as usual.
fn static_unwinder(out: &Path) {
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.contains("-linux-gnu") {
        return;
    }
    let archive = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()))
        .filter(|p| p.is_absolute() && p.is_file());
    let Some(archive) = archive else {
        return;
    };
    let dir = out.join("static-unwinder");
    let script = format!("INPUT({})\n", archive.display());
    if std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("libgcc_s.so"), script))
        .is_ok()
    {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}

/// Where the library goes: the profile directory, next to the binary. OUT_DIR is
/// `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`.
fn profile_dir(out: &Path) -> Option<&Path> {
    out.ancestors().nth(3)
}

/// Builds the library with a nested cargo and copies it next to the binary.
fn build_preload(out: &Path) -> Result<(), String> {
    let profile_dir =
        profile_dir(out).ok_or("librampart.so not built: unexpected OUT_DIR layout")?;
    let target_dir = profile_dir.parent().unwrap_or(profile_dir).join("preload");
    let target = std::env::var("TARGET").unwrap_or_default();
    let cross = std::env::var("HOST").is_ok_and(|host| host != target);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--manifest-path",
        "preload/Cargo.toml",
    ])
    .arg("--target-dir")
    .arg(&target_dir);
    if cross {
        cmd.args(["--target", &target]);
    }
    // The outer build's flags and wrappers are not the library's: coverage instrumentation or
    // clippy (`cargo clippy` sets the workspace wrapper) would break or slow a no_std cdylib.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    // Cargo's progress goes to stderr; a build script's stdout is for cargo: directives only.
    let output = cmd
        .stdout(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("librampart.so not built: cannot run cargo: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let mut why = String::from(
            "librampart.so not built (`rampart preload` needs it; the CLI works without it):",
        );
        for line in tail.into_iter().rev() {
            why.push('\n');
            why.push_str(line);
        }
        return Err(why);
    }
    let triple_dir = if cross {
        target_dir.join(&target)
    } else {
        target_dir
    };
    install(
        &triple_dir.join("release").join(LIBRARY),
        &profile_dir.join(LIBRARY),
    )
}

/// Copies `built` to `dest` through a rename, so that processes that have the old library mapped
/// keep a whole file (overwriting it in place could crash them).
fn install(built: &Path, dest: &Path) -> Result<(), String> {
    let staging = dest.with_extension("so.new");
    std::fs::copy(built, &staging)
        .and_then(|_| std::fs::rename(&staging, dest))
        .map_err(|e| {
            format!(
                "librampart.so built but not copied to {}: {e}",
                dest.display()
            )
        })
}
