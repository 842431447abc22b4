//! `rampart allow PATTERN` and `rampart block PATTERN`: a user rule written to
//! `~/.rampart/policies/custom.yaml` (`--global`: user-overrides.yaml; `--project`: the project
//! policy), in force for the very next call on every surface.

use crate::source::user_home;
use rampart_compiler::load::time::go_duration;
use rampart_compiler::sources::git_root;
use rampart_compiler::sources::user_rules::{add_rule, target_file, Target, UserRule};
use rampart_runtime::eval::{Action, EvalContext};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A command glob (exec), a path glob (starts with /, ~/, ./ or ../), or a URL glob; with
    /// --tool fetch (or another fetch tool) a bare pattern is a domain glob.
    pub pattern: String,
    /// The tool the rule is for (default: from the pattern's shape).
    #[arg(long)]
    pub tool: Option<String>,
    /// The message the decision carries.
    #[arg(long)]
    pub message: Option<String>,
    /// Only for this long (a Go duration: 30m, 1h, 24h).
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Single use: the first enforced call it decides consumes it.
    #[arg(long)]
    pub once: bool,
    /// Write to ~/.rampart/policies/user-overrides.yaml (an allow there beats ask and watch).
    #[arg(long, conflicts_with = "project")]
    pub global: bool,
    /// Write to the project policy, <git root>/.rampart/policy.yaml.
    #[arg(long)]
    pub project: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

pub fn run(args: &Args, action: Action, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let mut rule =
        UserRule::new(action, &args.pattern, args.tool.as_deref()).map_err(|e| e.to_string())?;
    let now = EvalContext::now().now_unix;
    if let Some(message) = &args.message {
        rule.message = message.clone();
    }
    if let Some(duration) = &args.duration {
        let nanos = go_duration(duration).map_err(|e| format!("--for: {e}"))?;
        if nanos <= 0 {
            return Err("--for: the duration must be positive".into());
        }
        let secs = i64::try_from(nanos / 1_000_000_000).map_err(|_| "--for: too long")?;
        rule.expires_at = Some(now.saturating_add(secs.max(1)));
    }
    rule.once = args.once;
    let target = match (args.global, args.project) {
        (true, _) => Target::Global,
        (_, true) => Target::Project,
        _ => Target::Custom,
    };
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let root = git_root(&cwd);
    let home = user_home();
    let file = target_file(target, home.as_deref(), root.as_deref()).ok_or(match target {
        Target::Project => "--project: not inside a git repository",
        _ => "HOME is not set; cannot find ~/.rampart/policies",
    })?;
    let verb = if action == Action::Allow {
        "allow"
    } else {
        "block"
    };
    let summary = format!(
        "{verb} {:?} for {} in {}{}{}",
        rule.pattern,
        rule.tools.join(", "),
        file.display(),
        if rule.once { " (once)" } else { "" },
        rule.expires_at
            .map(|t| format!(" until {}", rampart_compiler::load::time::format_rfc3339(t)))
            .unwrap_or_default()
    );
    if !args.yes && std::io::stdin().is_terminal() && !confirm(&summary)? {
        println!("nothing written");
        return Ok(ExitCode::from(1));
    }
    let name = add_rule(&file, &rule, now).map_err(|e| e.to_string())?;
    // Rebuild the cached bundle now: the next call on every surface (the preload included)
    // decides with the rule. A running server watches the source files.
    crate::source::discover(config).open().map_err(|e| {
        format!(
            "the rule was written to {}, but the policy no longer compiles: {e}",
            file.display()
        )
    })?;
    println!("✓ {summary} ({name})");
    Ok(ExitCode::SUCCESS)
}

fn confirm(summary: &str) -> Result<bool, String> {
    print!("{summary}? [y/N] ");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
