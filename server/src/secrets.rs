//! The secret files under `~/.rampart`: the admin token, the signing key of approval links, and
//! the files' permissions.
//!
//! The threat: a credential another user can read, or a check that leaks it through timing. So
//! every secret file is created 0600 in a 0700 directory (written to a temporary file and renamed,
//! never half-written), a file that exists with looser permissions or another owner is refused
//! with the `chmod` that fixes it (never silently tightened: someone may already have read it),
//! and comparisons run in constant time.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The variable that overrides the admin token file.
pub const ENV_TOKEN: &str = rampart_runtime::settings::ENV_TOKEN;

/// `~/.rampart/token`.
pub fn token_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("token")
}

/// `~/.rampart/signing.key`.
pub fn signing_key_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("signing.key")
}

/// The admin token: `RAMPART_TOKEN`, else `~/.rampart/token`, else a new one written there.
pub fn admin_token(home: &Path) -> Result<String, String> {
    if let Some(token) = std::env::var(ENV_TOKEN)
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(token.trim().to_string());
    }
    read_or_create(&token_path(home), || random_hex(32))
}

/// The admin token a client presents: `RAMPART_TOKEN`, else `~/.rampart/token` (never created
/// here: a client without a token has no server to talk to).
pub fn admin_token_for_client(home: &Path) -> Result<String, String> {
    if let Some(token) = std::env::var(ENV_TOKEN)
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(token.trim().to_string());
    }
    read_secret(&token_path(home))?.ok_or_else(|| {
        format!(
            "no admin token: set RAMPART_TOKEN or start `rampart serve` once (it writes {})",
            token_path(home).display()
        )
    })
}

/// Replaces the admin token file with a new token (`rampart token rotate`).
pub fn rotate_admin_token(home: &Path) -> Result<String, String> {
    let token = random_hex(32)?;
    write_secret(&token_path(home), &token)?;
    Ok(token)
}

/// The key approval links are signed with, created on first use.
pub fn signing_key(home: &Path) -> Result<Vec<u8>, String> {
    let hex = read_or_create(&signing_key_path(home), || random_hex(32))?;
    from_hex(&hex).ok_or_else(|| {
        format!(
            "{}: not a hex key; remove it to have a new one made",
            signing_key_path(home).display()
        )
    })
}

/// Reads the secret at `path`, refusing loose permissions; creates it with `make` if missing.
pub fn read_or_create(
    path: &Path,
    make: impl FnOnce() -> Result<String, String>,
) -> Result<String, String> {
    match read_secret(path)? {
        Some(text) => Ok(text),
        None => {
            let value = make()?;
            write_secret(path, &value)?;
            Ok(value)
        }
    }
}

/// The trimmed contents of a secret file, `None` when it does not exist. A file readable or
/// writable by others, or owned by another user, is an error naming the fix.
pub fn read_secret(path: &Path) -> Result<Option<String>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    check_private(path, &meta)?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!(
            "{} is empty; remove it to have a new one made",
            path.display()
        ));
    }
    Ok(Some(text.to_string()))
}

/// Refuses a secret file that is not a regular file of this user's with mode 0600 (or
/// stricter).
pub fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    if !meta.file_type().is_file() {
        return Err(format!(
            "{} is not a regular file; refusing to use it",
            path.display()
        ));
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "{} is owned by uid {}, not by this user; refusing to use it (fix: chown {me} {})",
            path.display(),
            meta.uid(),
            shell_path(path)
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} has permissions {mode:04o}, readable or writable by others; refusing to use it (fix: chmod 600 {})",
            path.display(),
            shell_path(path)
        ));
    }
    Ok(())
}

fn shell_path(path: &Path) -> String {
    rampart_compiler::sources::user_rules::shell_quote(&path.display().to_string())
}

/// Writes `value` (plus a newline) to `path` with mode 0600, atomically; the directory is
/// created 0700.
pub fn write_secret(path: &Path, value: &str) -> Result<(), String> {
    write_private(path, value, true)
}

/// Writes `value` (plus a newline) to `path` with mode 0600 by a rename; `durable` syncs it
/// first (a secret), otherwise a crash may lose the last write but never half-write it.
pub fn write_private(path: &Path, value: &str, durable: bool) -> Result<(), String> {
    let dir = path
        .parent()
        .ok_or_else(|| format!("{}: no parent directory", path.display()))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("secret"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(value.as_bytes())?;
        file.write_all(b"\n")?;
        if durable {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// `n` random bytes from the kernel, as hex.
pub fn random_hex(n: usize) -> Result<String, String> {
    let mut bytes = vec![0u8; n];
    rampart_audit::ids::random_bytes(&mut bytes).map_err(|e| format!("getrandom: {e}"))?;
    Ok(hex(&bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// sha256 of `text`, hex.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest = Sha256::digest(key);
        for (b, k) in block.iter_mut().zip(digest.iter()) {
            *b = *k;
        }
    } else {
        for (b, k) in block.iter_mut().zip(key) {
            *b = *k;
        }
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn secrets_are_private_or_refused() {
        let dir = std::env::temp_dir().join(format!("rampart-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("token");
        let made = read_or_create(&path, || random_hex(32)).unwrap();
        assert_eq!(made.len(), 64);
        assert_eq!(read_or_create(&path, || Ok("other".into())).unwrap(), made);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_secret(&path).unwrap_err();
        assert!(err.contains("chmod 600"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
