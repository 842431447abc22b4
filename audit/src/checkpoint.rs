//! Signed checkpoints: C2SP tlog-checkpoint notes, signed with Ed25519, over the Merkle tree of
//! the record hashes (agent-protocols.md §10). Beyond upstream.
//!
//! The threat: the hash chain shows an edit, a deletion or a reordering, but an agent that can
//! write the log can also rewrite all of it with a fresh, valid chain. A checkpoint is a signed
//! statement "the log's first N records have root R"; once a person copies one somewhere the agent
//! cannot reach (a git ref, another machine, a witness), any later log that does not extend it is
//! caught by `rampart audit verify --against FILE`, whatever its own chain says. A replaced key is
//! caught too: the kept checkpoint no longer verifies under the key the log is signed with.
//!
//! Formats, as the C2SP specs and Go's `golang.org/x/mod/sumdb/note` have them:
//! * the note text is `<origin>\n<tree size>\n<base64 root>\n`; the signed note is the text, a blank
//!   line, and `— <key name> <base64(key id || signature)>` lines;
//! * the key id is the first four bytes of SHA-256(key name || `\n` || 0x01 || public key);
//! * the key file (`~/.rampart/audit.key`, 0600) holds `PRIVATE+KEY+<name>+<id hex>+<base64(0x01 ||
//!   seed)>`, the verifier key is `<name>+<id hex>+<base64(0x01 || public key)>`.
//!
//! The writer appends one checkpoint per N records or T seconds to `audit-checkpoints.jsonl`
//! (`{"time":…,"note":…}` lines); signing never waits on anything outside this process.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AuditError;
use crate::merkle::Hash;
use crate::secure::{self, Access};

/// The Ed25519 signature type byte of a note key.
const ED25519: u8 = 0x01;
/// The signature line prefix (an em dash and a space).
const SIG_PREFIX: &str = "\u{2014} ";

/// A signing key with its name.
pub struct Key {
    name: String,
    signing: SigningKey,
}

/// A public key with its name, as a verifier holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    key: VerifyingKey,
}

/// A parsed checkpoint note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The whole signed note, as text.
    pub note: String,
}

/// One line of `audit-checkpoints.jsonl`.
#[derive(Serialize, Deserialize)]
struct Stored {
    time: String,
    note: String,
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public);
    let digest: [u8; 32] = h.finalize().into();
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key name the note format accepts: no whitespace, no `+`.
pub fn key_name_for_host(hostname: &str) -> String {
    let host: String = hostname
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '+' {
                '-'
            } else {
                c
            }
        })
        .collect();
    format!(
        "rampart-audit-{}",
        if host.is_empty() { "host" } else { &host }
    )
}

fn key_error(path: &Path, problem: &str) -> AuditError {
    AuditError::Checkpoint {
        path: path.to_path_buf(),
        problem: problem.to_owned(),
    }
}

impl Key {
    /// Loads the key at `path`, creating one (0600) named `name` when the file does not exist.
    pub fn load_or_create(path: &Path, name: &str) -> Result<Key, AuditError> {
        if let Some(text) = secure::read_small(path)? {
            return Key::parse(&String::from_utf8_lossy(&text))
                .ok_or_else(|| key_error(path, "not a PRIVATE+KEY+… Ed25519 note key"));
        }
        if let Some(parent) = path.parent() {
            secure::ensure_dir(parent, true)?;
        }
        let mut seed = [0u8; 32];
        crate::ids::random_bytes(&mut seed).map_err(AuditError::at("seed a key for", path))?;
        let key = Key {
            name: name.to_owned(),
            signing: SigningKey::from_bytes(&seed),
        };
        let mut file = secure::open(path, Access::Create)?
            .ok_or_else(|| key_error(path, "vanished while being created"))?;
        use std::io::Write;
        file.write_all(key.encode().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(AuditError::at("write", path))?;
        Ok(key)
    }

    /// Parses `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
    pub fn parse(text: &str) -> Option<Key> {
        let rest = text.trim().strip_prefix("PRIVATE+KEY+")?;
        // Base64 uses `+`, so the key data is whatever follows the second separator.
        let mut parts = rest.splitn(3, '+');
        let (name, id, data) = (parts.next()?, parts.next()?, parts.next()?);
        let bytes = BASE64.decode(data).ok()?;
        let (&kind, seed) = bytes.split_first()?;
        let seed: [u8; 32] = seed.try_into().ok()?;
        let signing = SigningKey::from_bytes(&seed);
        let public = signing.verifying_key().to_bytes();
        (kind == ED25519 && id == hex(&key_id(name, &public))).then(|| Key {
            name: name.to_owned(),
            signing,
        })
    }

    fn encode(&self) -> String {
        let public = self.signing.verifying_key().to_bytes();
        let mut data = vec![ED25519];
        data.extend_from_slice(&self.signing.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}\n",
            self.name,
            hex(&key_id(&self.name, &public)),
            BASE64.encode(data)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key: self.signing.verifying_key(),
        }
    }

    /// Signs a checkpoint of a tree of `size` leaves with root `root`.
    pub fn sign(&self, origin: &str, size: u64, root: &Hash) -> Checkpoint {
        let text = format!("{origin}\n{size}\n{}\n", BASE64.encode(root));
        let signature = self.signing.sign(text.as_bytes());
        let public = self.signing.verifying_key().to_bytes();
        let mut sig = key_id(&self.name, &public).to_vec();
        sig.extend_from_slice(&signature.to_bytes());
        let note = format!("{text}\n{SIG_PREFIX}{} {}\n", self.name, BASE64.encode(sig));
        Checkpoint {
            origin: origin.to_owned(),
            size,
            root: *root,
            note,
        }
    }
}

impl VerifierKey {
    /// Parses `<name>+<id hex>+<base64(0x01 || public key)>`.
    pub fn parse(text: &str) -> Option<VerifierKey> {
        let mut parts = text.trim().splitn(3, '+');
        let (name, id, data) = (parts.next()?, parts.next()?, parts.next()?);
        if name.is_empty() {
            return None;
        }
        let bytes = BASE64.decode(data).ok()?;
        let (&kind, public) = bytes.split_first()?;
        let public: [u8; 32] = public.try_into().ok()?;
        let key = VerifyingKey::from_bytes(&public).ok()?;
        (kind == ED25519 && id == hex(&key_id(name, &public))).then(|| VerifierKey {
            name: name.to_owned(),
            key,
        })
    }

    pub fn encode(&self) -> String {
        let public = self.key.to_bytes();
        let mut data = vec![ED25519];
        data.extend_from_slice(&public);
        format!(
            "{}+{}+{}",
            self.name,
            hex(&key_id(&self.name, &public)),
            BASE64.encode(data)
        )
    }

    fn id(&self) -> [u8; 4] {
        key_id(&self.name, &self.key.to_bytes())
    }
}

/// Why a note is not a checkpoint signed by the expected key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteError {
    Malformed(String),
    /// No signature line from this key (another key signed it, or none did).
    NotSignedBy {
        key: String,
        signers: Vec<String>,
    },
    BadSignature {
        key: String,
    },
}

impl std::fmt::Display for NoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoteError::Malformed(why) => write!(f, "not a checkpoint note: {why}"),
            NoteError::NotSignedBy { key, signers } => write!(
                f,
                "not signed by key {key} (signed by: {}); the log's key was replaced or this checkpoint belongs to another log",
                if signers.is_empty() { "nobody".to_owned() } else { signers.join(", ") }
            ),
            NoteError::BadSignature { key } => {
                write!(f, "the signature by {key} does not verify: the note was altered")
            }
        }
    }
}

impl Checkpoint {
    /// Parses a signed note and checks its signature by `key`.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Checkpoint, NoteError> {
        let (checkpoint, text, sigs) = Checkpoint::parse(note)?;
        let mut signers = Vec::new();
        for (name, sig) in sigs {
            signers.push(name.clone());
            let (id, sig) = sig.split_at_checked(4).unwrap_or((&[], &[]));
            if name != key.name || id != key.id() {
                continue;
            }
            let sig: [u8; 64] = sig
                .try_into()
                .map_err(|_| NoteError::Malformed("an Ed25519 signature is not 64 bytes".into()))?;
            return match key
                .key
                .verify(text.as_bytes(), &Signature::from_bytes(&sig))
            {
                Ok(()) => Ok(checkpoint),
                Err(_) => Err(NoteError::BadSignature {
                    key: key.name.clone(),
                }),
            };
        }
        Err(NoteError::NotSignedBy {
            key: key.name.clone(),
            signers,
        })
    }

    /// Parses a note without checking any signature (when no key is at hand).
    pub fn open_unverified(note: &str) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse(note).map(|(checkpoint, _, _)| checkpoint)
    }

    /// The checkpoint, the signed text, and the (key name, key id + signature) pairs.
    #[allow(clippy::type_complexity)]
    fn parse(note: &str) -> Result<(Checkpoint, String, Vec<(String, Vec<u8>)>), NoteError> {
        let malformed = |why: &str| NoteError::Malformed(why.to_owned());
        let (text, sig_lines) = note
            .split_once("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let text = format!("{text}\n");
        let mut lines = text.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| malformed("no origin"))?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| malformed("the second line is not a tree size"))?;
        let root: Hash = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| malformed("the third line is not a base64 SHA-256 root"))?;
        let mut sigs = Vec::new();
        for line in sig_lines.lines().filter(|l| !l.is_empty()) {
            let body = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| malformed("a signature line does not start with an em dash"))?;
            let (name, sig) = body
                .split_once(' ')
                .ok_or_else(|| malformed("a signature line has no signature"))?;
            let sig = BASE64
                .decode(sig)
                .map_err(|_| malformed("a signature is not base64"))?;
            sigs.push((name.to_owned(), sig));
        }
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            note: note.to_owned(),
        };
        Ok((checkpoint, text, sigs))
    }

    /// The root, base64 as in the note.
    pub fn root_base64(&self) -> String {
        BASE64.encode(self.root)
    }
}

/// The origin line for the log in `dir`: the key's name and a digest of the directory's path, so
/// two logs signed with one key never share an origin.
pub fn origin(key_name: &str, dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let digest: [u8; 32] = Sha256::digest(dir.as_os_str().as_encoded_bytes()).into();
    let [a, b, c, d, e, f, ..] = digest;
    format!("{key_name}/{}", hex(&[a, b, c, d, e, f]))
}

/// Appends a checkpoint to the directory's checkpoint file.
pub fn append(dir: &Path, checkpoint: &Checkpoint, time: &str) -> Result<(), AuditError> {
    use std::io::Write;
    let path = dir.join(crate::layout::CHECKPOINTS);
    let mut line = serde_json::to_vec(&Stored {
        time: time.to_owned(),
        note: checkpoint.note.clone(),
    })
    .map_err(|e| AuditError::Format {
        what: e.to_string(),
    })?;
    line.push(b'\n');
    let mut file = secure::open(&path, Access::Append)?
        .ok_or_else(|| key_error(&path, "vanished while being opened"))?;
    file.write_all(&line)
        .map_err(AuditError::at("append to", &path))
}

/// Every stored checkpoint note with its time, oldest first (lines that do not parse are
/// skipped: a torn last line from a crash).
pub fn stored(dir: &Path) -> Result<Vec<(String, String)>, AuditError> {
    let path = dir.join(crate::layout::CHECKPOINTS);
    let Some(bytes) = secure::read_small(&path)? else {
        return Ok(Vec::new());
    };
    Ok(bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Stored>(line).ok())
        .map(|s| (s.time, s.note))
        .collect())
}

/// The default key file: `~/.rampart/audit.key`.
pub fn default_key_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("audit.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key {
            name: "rampart-audit-test".into(),
            signing: SigningKey::from_bytes(&[7u8; 32]),
        }
    }

    #[test]
    fn a_signed_note_opens_under_its_key_and_not_another() {
        let k = key();
        let cp = k.sign("example/log", 42, &[9u8; 32]);
        let mut lines = cp.note.lines();
        assert_eq!(lines.next(), Some("example/log"));
        assert_eq!(lines.next(), Some("42"));
        assert_eq!(lines.next(), Some(BASE64.encode([9u8; 32]).as_str()));
        assert_eq!(lines.next(), Some(""));
        assert!(lines
            .next()
            .is_some_and(|l| l.starts_with("— rampart-audit-test ")));
        assert_eq!(Checkpoint::open(&cp.note, &k.verifier()), Ok(cp.clone()));
        let other = Key {
            name: "rampart-audit-test".into(),
            signing: SigningKey::from_bytes(&[8u8; 32]),
        };
        assert!(matches!(
            Checkpoint::open(&cp.note, &other.verifier()),
            Err(NoteError::NotSignedBy { .. })
        ));
        let forged = cp.note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            Checkpoint::open(&forged, &k.verifier()),
            Err(NoteError::BadSignature {
                key: "rampart-audit-test".into()
            })
        );
    }

    #[test]
    fn keys_round_trip_through_their_text_forms() {
        let k = key();
        let parsed = Key::parse(&k.encode());
        assert_eq!(parsed.map(|p| p.verifier()), Some(k.verifier()));
        let vkey = k.verifier().encode();
        assert_eq!(VerifierKey::parse(&vkey), Some(k.verifier()));
        assert_eq!(VerifierKey::parse(&vkey.replace("rampart", "other")), None);
    }
}
