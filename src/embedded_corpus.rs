//! The corpora built into the binary: `golden/threats`, `golden/attacks` and `golden/benign`, so
//! that `rampart bench` works outside a checkout, on the corpus this build was tested against.
//!
//! A plain list of `include_str!`s rather than a build-script walk: the list is short, a build
//! script is shared by others' work, and a test (`every_corpus_file_is_embedded`) fails when a
//! file is added to or removed from one of the directories without this list following.

/// One embedded corpus file.
pub struct EmbeddedFile {
    /// The corpus it belongs to (`threats`, `attacks`, `benign`).
    pub corpus: &'static str,
    pub name: &'static str,
    pub text: &'static str,
}

/// The embedded corpora, by name (`--corpus embedded:<name>`).
pub const CORPORA: [&str; 3] = ["threats", "attacks", "benign"];

macro_rules! file {
    ($corpus:literal, $name:literal) => {
        EmbeddedFile {
            corpus: $corpus,
            name: $name,
            text: include_str!(concat!("../golden/", $corpus, "/", $name)),
        }
    };
}

/// Every embedded file, corpus by corpus, in name order.
pub const FILES: &[EmbeddedFile] = &[
    file!("threats", "benign.yaml"),
    file!("threats", "credentials.yaml"),
    file!("threats", "destructive.yaml"),
    file!("threats", "exfiltration.yaml"),
    file!("threats", "injection.yaml"),
    file!("threats", "persistence.yaml"),
    file!("threats", "privesc.yaml"),
    file!("threats", "rce.yaml"),
    file!("threats", "tamper.yaml"),
    file!("attacks", "credentials.yaml"),
    file!("attacks", "defense-evasion.yaml"),
    file!("attacks", "destruction.yaml"),
    file!("attacks", "discovery.yaml"),
    file!("attacks", "download-execute.yaml"),
    file!("attacks", "execution.yaml"),
    file!("attacks", "exfiltration.yaml"),
    file!("attacks", "persistence.yaml"),
    file!("attacks", "privilege-escalation.yaml"),
    file!("attacks", "recovery.yaml"),
    file!("attacks", "reverse-shell.yaml"),
    file!("benign", "build-test.yaml"),
    file!("benign", "cloud.yaml"),
    file!("benign", "files.yaml"),
    file!("benign", "mentions.yaml"),
    file!("benign", "network.yaml"),
    file!("benign", "packages.yaml"),
    file!("benign", "system.yaml"),
    file!("benign", "vcs.yaml"),
];

/// The files of the corpus called `name`, or `None` when no corpus has that name.
pub fn corpus(name: &str) -> Option<impl Iterator<Item = &'static EmbeddedFile>> {
    let name: &'static str = CORPORA.iter().find(|c| **c == name)?;
    Some(FILES.iter().filter(move |f| f.corpus == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_corpus_file_is_embedded() {
        for name in CORPORA {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("golden")
                .join(name);
            let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
                .map(|p| {
                    let text = std::fs::read_to_string(&p).unwrap();
                    (p.file_name().unwrap().to_string_lossy().into_owned(), text)
                })
                .collect();
            on_disk.sort();
            let embedded: Vec<(String, String)> = corpus(name)
                .unwrap()
                .map(|f| (f.name.to_string(), f.text.to_string()))
                .collect();
            assert_eq!(
                embedded, on_disk,
                "golden/{name} and the embedded list differ"
            );
        }
        assert!(corpus("nope").is_none());
    }
}
