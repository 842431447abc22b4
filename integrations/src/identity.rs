//! Who is calling: the session, run and agent depth of a hook's call, as upstream derives them.
//!
//! Policies scope rules by session (`session_matches: ["myrepo/main"]`) and by agent depth
//! (sub-agents of sub-agents), so these must be what upstream would have computed, or a user's
//! scoped exception stops applying (or a scoped deny stops denying). The session of a call is
//! `RAMPART_SESSION`, else `<repository name>/<branch>` of the git work tree the agent works in
//! (`detached` for a detached HEAD). The branch is read from `.git/HEAD` directly: starting `git`
//! would cost more than the whole decision.

use std::path::{Path, PathBuf};

/// `RAMPART_SESSION`: the session every call is recorded and matched under.
pub const ENV_SESSION: &str = rampart_runtime::settings::ENV_SESSION;
/// `RAMPART_RUN`: the run id, overriding the host's.
pub const ENV_RUN: &str = "RAMPART_RUN";
/// `RAMPART_AGENT_DEPTH`: how deep in sub-agents this agent runs (0 for the top agent).
pub const ENV_AGENT_DEPTH: &str = "RAMPART_AGENT_DEPTH";

/// The environment a hook reads its identity from, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookEnv {
    pub session: Option<String>,
    pub run: Option<String>,
    pub agent_depth: Option<String>,
    /// Claude Code's conversation id, the last fallback of the run id.
    pub claude_conversation: Option<String>,
}

impl HookEnv {
    /// This process's environment (empty values count as unset).
    pub fn from_env() -> HookEnv {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        HookEnv {
            session: var(ENV_SESSION),
            run: var(ENV_RUN),
            agent_depth: var(ENV_AGENT_DEPTH),
            claude_conversation: var("CLAUDE_CONVERSATION_ID"),
        }
    }

    /// The session: `RAMPART_SESSION`, else the repository and branch of `cwd`, else `fallback`
    /// (the host's own session id, where it has one).
    pub fn session(&self, cwd: Option<&Path>, fallback: Option<&str>) -> String {
        if let Some(session) = &self.session {
            return session.clone();
        }
        cwd.and_then(git_session)
            .or_else(|| fallback.map(String::from))
            .unwrap_or_default()
    }

    /// The run: `RAMPART_RUN`, else the first of the host's ids that is set.
    pub fn run(&self, host_ids: &[Option<&str>]) -> String {
        self.run
            .clone()
            .or_else(|| {
                host_ids
                    .iter()
                    .flatten()
                    .find(|id| !id.is_empty())
                    .map(|id| id.to_string())
            })
            .unwrap_or_default()
    }

    /// The agent depth of this agent's calls: `RAMPART_AGENT_DEPTH` (0 when unset), plus one for a
    /// call that starts a sub-agent. A value that is not a number is an error: a depth limit must
    /// not silently read as depth 0.
    pub fn agent_depth(&self, starts_agent: bool) -> Result<i64, String> {
        let base = match &self.agent_depth {
            None => 0,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{ENV_AGENT_DEPTH}={text:?} is not a whole number"))?,
        };
        Ok(base.saturating_add(i64::from(starts_agent)))
    }
}

/// `<repository name>/<branch>` (or `/detached`) of the git work tree containing `dir`.
pub fn git_session(dir: &Path) -> Option<String> {
    let (top, git_dir) = find_git(dir)?;
    let name = top.file_name()?.to_string_lossy().into_owned();
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let branch = match head.trim_end().strip_prefix("ref: ") {
        Some(reference) => reference
            .strip_prefix("refs/heads/")
            .unwrap_or(reference)
            .to_string(),
        None => "detached".to_string(),
    };
    Some(format!("{name}/{branch}"))
}

/// The top of the work tree containing `dir`, and its git directory. A `.git` file (a linked
/// worktree or a submodule) names the git directory in its `gitdir:` line.
fn find_git(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    for top in dir.ancestors() {
        let dot_git = top.join(".git");
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some((top.to_path_buf(), dot_git));
        }
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
        return Some((top.to_path_buf(), top.join(target)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rampart-identity-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn branch_detached_and_worktree() {
        let root = scratch("git");
        let repo = root.join("myrepo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/feature/x\n").unwrap();
        assert_eq!(
            git_session(&repo.join("src/deep")).as_deref(),
            Some("myrepo/feature/x")
        );
        std::fs::write(repo.join(".git/HEAD"), "0123456789abcdef\n").unwrap();
        assert_eq!(git_session(&repo).as_deref(), Some("myrepo/detached"));
        // A linked worktree: `.git` is a file naming the worktree's git directory.
        let wt = root.join("wt-hooks");
        let wt_git = repo.join(".git/worktrees/wt-hooks");
        std::fs::create_dir_all(&wt_git).unwrap();
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt_git.join("HEAD"), "ref: refs/heads/hooks\n").unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", wt_git.display())).unwrap();
        assert_eq!(git_session(&wt).as_deref(), Some("wt-hooks/hooks"));
        assert_eq!(git_session(Path::new("/")), None);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn environment_wins_then_git_then_the_host() {
        let env = HookEnv {
            session: Some("pinned".into()),
            ..HookEnv::default()
        };
        assert_eq!(env.session(Some(Path::new("/")), Some("host")), "pinned");
        let env = HookEnv::default();
        assert_eq!(env.session(Some(Path::new("/")), Some("host")), "host");
        assert_eq!(env.run(&[None, Some(""), Some("abc")]), "abc");
        let env = HookEnv {
            run: Some("r".into()),
            agent_depth: Some("2".into()),
            ..HookEnv::default()
        };
        assert_eq!(env.run(&[Some("abc")]), "r");
        assert_eq!(env.agent_depth(true), Ok(3));
        let bad = HookEnv {
            agent_depth: Some("two".into()),
            ..HookEnv::default()
        };
        assert!(bad.agent_depth(false).is_err());
    }
}
