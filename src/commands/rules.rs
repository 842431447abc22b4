//! `rampart rules [list | remove N | reset]`: the rules `rampart allow` and `rampart block`
//! wrote (custom.yaml, user-overrides.yaml and the project policy), numbered.

use crate::source::user_home;
use clap::Subcommand;
use rampart_compiler::sources::git_root;
use rampart_compiler::sources::user_rules::{list_rules, remove_rule, target_file, Target};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the rules, numbered (the default).
    List,
    /// Remove rule N (as `rampart rules list` numbers it).
    Remove { index: usize },
    /// Remove every rule `rampart allow` and `rampart block` wrote.
    Reset {
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let home = user_home();
    let root = std::env::current_dir().ok().and_then(|d| git_root(&d));
    let files: Vec<PathBuf> = [Target::Custom, Target::Global, Target::Project]
        .into_iter()
        .filter_map(|t| target_file(t, home.as_deref(), root.as_deref()))
        .collect();
    let rules = list_rules(&files).map_err(|e| e.to_string())?;
    match args.command.as_ref().unwrap_or(&Command::List) {
        Command::List => {
            if rules.is_empty() {
                println!("no user rules (add one with `rampart allow` or `rampart block`)");
            }
            for r in &rules {
                let mut extra = String::new();
                if r.once {
                    extra.push_str(" [once]");
                }
                if let Some(t) = r.expires_at {
                    extra.push_str(&format!(
                        " [until {}]",
                        rampart_compiler::load::time::format_rfc3339(t)
                    ));
                }
                println!(
                    "{:>3}. {}{extra}  ({})",
                    r.index,
                    r.description,
                    r.file.display()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Remove { index } => {
            let rule = rules
                .iter()
                .find(|r| r.index == *index)
                .ok_or_else(|| format!("no rule {index}; `rampart rules` lists {}", rules.len()))?;
            remove_rule(rule).map_err(|e| e.to_string())?;
            println!("removed {}. {}", rule.index, rule.description);
        }
        Command::Reset { yes } => {
            if !yes && !rules.is_empty() {
                return Err(format!(
                    "this removes {} rules; run `rampart rules reset -y` to confirm",
                    rules.len()
                ));
            }
            for rule in rules.iter().rev() {
                remove_rule(rule).map_err(|e| e.to_string())?;
            }
            println!("removed {} rules", rules.len());
        }
    }
    crate::source::discover(config)
        .open()
        .map_err(|e| format!("the rules were removed, but the policy no longer compiles: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
