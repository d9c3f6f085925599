//! `tandem install --plugin`: Claude Code gets Tandem through its plugin, installed by the real
//! `claude` CLI from the marketplace this `tandem` carries (copied under the state folder), and
//! the entries and hook an earlier `tandem install` wrote for Claude Code are removed, so that
//! nothing runs twice.

use std::{io::Write, path::Path, process::Command};

use tandem_clients::{
    ClientId, UninstallOptions, catalog, entry,
    plugin::{self, MARKETPLACE_NAME, PLUGIN_NAME},
};

use super::{
    Context,
    install::{Tally, run_plan},
    report_error,
};

/// Most lines of the CLI's output shown when it fails.
const SHOWN_LINES: usize = 8;

pub(super) fn install(
    ctx: &Context,
    out: &mut impl Write,
    dry_run: bool,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let plugin_id = format!("{PLUGIN_NAME}@{MARKETPLACE_NAME}");
    let exe = std::env::current_exe()?;
    let Some(marketplace) = plugin::packaged_marketplace(&exe) else {
        tally.failed = true;
        report_error(&format!(
            "this tandem ({}) carries no Claude Code plugin marketplace; add the repository \
             instead: `claude plugin marketplace add <Tandem's repository>`, then `claude \
             plugin install {plugin_id}`.",
            exe.display()
        ));
        return Ok(());
    };
    let Some(claude) = catalog::detect(ClientId::ClaudeCode, &ctx.host).cli else {
        tally.failed = true;
        report_error(&format!(
            "the `claude` CLI is not on PATH; in Claude Code, run `/plugin marketplace add {}` \
             and then `/plugin install {plugin_id}`.",
            marketplace.display()
        ));
        return Ok(());
    };
    let copy = ctx.home.state_dir().join("claude-plugin");
    if dry_run {
        writeln!(
            out,
            "Claude Code plugin: would copy the marketplace to {}, then run `claude plugin \
             marketplace add` and `claude plugin install {plugin_id}`.",
            ctx.shown(&copy)
        )?;
    } else {
        let copy = plugin::copy_marketplace(&marketplace, ctx.home.state_dir())?;
        let copy_arg = copy.to_string_lossy();
        for args in [
            &["plugin", "marketplace", "add", &*copy_arg][..],
            &["plugin", "install", &plugin_id][..],
        ] {
            if !run_claude(&claude, args) {
                tally.failed = true;
                return Ok(());
            }
        }
        writeln!(
            out,
            "Claude Code: the Tandem plugin ({plugin_id}) is installed from {}; it starts in \
             new sessions (or after /reload-plugins).",
            ctx.shown(&copy)
        )?;
    }
    // What an earlier `tandem install` wrote for Claude Code would now run beside the plugin.
    let options = UninstallOptions {
        force: false,
        project_dir: None,
        names: vec![entry::WORKSPACE.to_string(), entry::MEMORY.to_string()],
    };
    let planned = ctx.installer.plan_uninstall(ClientId::ClaudeCode, &options);
    if planned.as_ref().is_ok_and(|p| p.changes()) {
        run_plan(
            ctx,
            out,
            "Claude Code (older entries)",
            planned,
            dry_run,
            tally,
        )?;
    }
    let hook = ctx.installer.plan_remove_session_hook();
    if hook.as_ref().is_ok_and(|p| p.changes()) {
        run_plan(ctx, out, "Claude Code hook (older)", hook, dry_run, tally)?;
    }
    Ok(())
}

/// Runs `claude <args>`; on failure says what it printed.
fn run_claude(claude: &Path, args: &[&str]) -> bool {
    let shown = format!("claude {}", args.join(" "));
    match Command::new(claude).args(args).output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = lines[lines.len().saturating_sub(SHOWN_LINES)..].join("\n");
            report_error(&format!("`{shown}` failed ({}):\n{tail}", output.status));
            false
        }
        Err(e) => {
            report_error(&format!("could not run `{shown}`: {e}"));
            false
        }
    }
}
