//! `tandem install` and `tandem uninstall`: plan per client, show diffs (dry run) or apply,
//! then say what changed and what must be restarted.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use tandem_clients::{
    Applied, ClientId, ClientsError, EntryAction, InstallOptions, NamedEntry, Outcome, Plan, Reach,
    Reload, Scope, Transport, UninstallOptions, entry,
};

use super::{Context, USAGE, binary, named, report_error};
use crate::{
    cli::{ClientArg, InstallArgs, TransportArg, UninstallArgs},
    term,
};

/// What one run did, for the summary and the exit code.
#[derive(Default)]
pub(super) struct Tally {
    pub failed: bool,
    /// Clients whose files changed, for the restart hints.
    pub changed: Vec<ClientId>,
    /// Entries left alone because Tandem did not write them.
    pub skipped_foreign: bool,
}

impl Tally {
    fn changed(&mut self, id: ClientId) {
        if !self.changed.contains(&id) {
            self.changed.push(id);
        }
    }
}

fn project_dir(project: &Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    project
        .as_ref()
        .map(|dir| std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display())))
        .transpose()
}

fn has_project_scope(ctx: &Context, id: ClientId) -> bool {
    ctx.installer
        .config_paths(id, &Scope::Project(PathBuf::from("/")))
        .is_ok()
}

/// The clients a command works on: those named with `--client` (each must be found here
/// unless `allow_undetected`; one that is not is reported and marks the run failed), else
/// every client `by_default` accepts.
pub(super) fn select_clients(
    ctx: &Context,
    clients: &[ClientArg],
    allow_undetected: bool,
    by_default: impl Fn(ClientId) -> bool,
    tally: &mut Tally,
) -> Vec<ClientId> {
    let explicit = named(clients);
    if explicit.is_empty() {
        return ClientId::ALL
            .into_iter()
            .filter(|id| by_default(*id))
            .collect();
    }
    let mut kept = Vec::new();
    for id in explicit {
        if allow_undetected || ctx.detect(id).detected() {
            kept.push(id);
        } else {
            tally.failed = true;
            report_error(&not_detected(ctx, id));
        }
    }
    kept
}

/// Why an explicitly named client is not installed into: it is not on this computer.
fn not_detected(ctx: &Context, id: ClientId) -> String {
    let c = id.client();
    let mut looked = catalog_dirs(ctx, id);
    if let Some(cli) = c.cli {
        looked.push(format!("no `{cli}` on PATH"));
    }
    let at = ctx
        .config_path(id)
        .map(|p| ctx.shown(&p))
        .unwrap_or_else(|| "(unknown)".into());
    format!(
        "{} was not found on this computer ({}). Its config would be {at}. Install {} first, \
         or run again with --force to write that file anyway.",
        c.name,
        looked.join(", "),
        c.name
    )
}

fn catalog_dirs(ctx: &Context, id: ClientId) -> Vec<String> {
    tandem_clients::catalog::config_dirs(id, &ctx.host)
        .iter()
        .map(|d| format!("no {}", ctx.shown(d)))
        .collect()
}

/// One line per file: what happened to each entry.
fn describe(entries: &[tandem_clients::EntryChange]) -> String {
    let group = |action: EntryAction| -> Vec<&str> {
        entries
            .iter()
            .filter(|e| e.action == action)
            .map(|e| e.name.as_str())
            .collect()
    };
    let mut parts = Vec::new();
    for (action, words) in [
        (EntryAction::Add, "added"),
        (EntryAction::Update, "updated"),
        (EntryAction::Remove, "removed"),
        (EntryAction::Keep, "already current:"),
        (
            EntryAction::SkipForeign,
            "left alone (not written by Tandem; --force replaces):",
        ),
    ] {
        let names = group(action);
        if !names.is_empty() {
            parts.push(format!("{words} {}", names.join(", ")));
        }
    }
    if parts.is_empty() {
        "nothing to remove".to_string()
    } else {
        parts.join("; ")
    }
}

/// Prints a plan as diffs (dry run).
fn show_plan(ctx: &Context, out: &mut impl Write, label: &str, plan: &Plan) -> anyhow::Result<()> {
    for file in &plan.files {
        let path = ctx.shown(&file.path);
        if file.changes() {
            writeln!(
                out,
                "{} {path}",
                term::paint(term::BOLD, format!("{label}:"))
            )?;
            term::write_diff(out, &file.diff)?;
        } else {
            let text = format!("{label}: {path}: no change ({})", describe(&file.entries));
            out.write_all(term::wrap(&text, "", "  ").as_bytes())?;
        }
    }
    Ok(())
}

/// Prints what apply did.
fn show_applied(
    ctx: &Context,
    out: &mut impl Write,
    label: &str,
    applied: &Applied,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    for file in &applied.files {
        let mark = match file.outcome {
            Outcome::Unchanged => term::paint(term::DIM, "="),
            Outcome::Written { .. } | Outcome::Removed { .. } => term::paint(term::OK, "+"),
        };
        let what = describe(&file.entries);
        let text = format!("{label}: {what}");
        out.write_all(term::wrap(&text, &format!("{mark} "), "    ").as_bytes())?;
        writeln!(out, "    {}", ctx.shown(&file.path))?;
        match &file.outcome {
            Outcome::Written { backup } | Outcome::Removed { backup } => {
                tally.changed(applied.client);
                if let Some(b) = backup {
                    let text = format!("backup of the previous file: {}", ctx.shown(b));
                    out.write_all(
                        term::paint(term::DIM, term::wrap(&text, "    ", "    ")).as_bytes(),
                    )?;
                }
            }
            Outcome::Unchanged => {}
        }
        if file
            .entries
            .iter()
            .any(|e| e.action == EntryAction::SkipForeign)
        {
            tally.skipped_foreign = true;
        }
    }
    Ok(())
}

fn plan_failed(label: &str, e: &ClientsError, tally: &mut Tally) {
    tally.failed = true;
    report_error(&format!("{label}: {e}"));
}

/// Plans, then shows or applies, one client's change; what was applied, if anything.
pub(super) fn run_plan(
    ctx: &Context,
    out: &mut impl Write,
    label: &str,
    planned: Result<Plan, ClientsError>,
    dry_run: bool,
    tally: &mut Tally,
) -> anyhow::Result<Option<Applied>> {
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => {
            plan_failed(label, &e, tally);
            return Ok(None);
        }
    };
    if dry_run {
        show_plan(ctx, out, label, &plan)?;
        return Ok(None);
    }
    match ctx.installer.apply(&plan) {
        Ok(applied) => {
            show_applied(ctx, out, label, &applied, tally)?;
            Ok(Some(applied))
        }
        Err(e) => {
            plan_failed(label, &e, tally);
            Ok(None)
        }
    }
}

/// The closing lines: what to restart, and how to check.
pub(super) fn finish(
    out: &mut impl Write,
    tally: &Tally,
    dry_run: bool,
    installing: bool,
) -> anyhow::Result<()> {
    if dry_run {
        writeln!(out, "\nDry run: nothing was changed.")?;
        return Ok(());
    }
    if tally.skipped_foreign {
        let verb = if installing { "replace" } else { "remove" };
        let text = format!(
            "Some tandem-* entries were not written by Tandem and were left alone; run again \
             with --force to {verb} them."
        );
        out.write_all(
            term::wrap(
                &text,
                &format!("\n{} ", term::paint(term::WARN, "note:")),
                "  ",
            )
            .as_bytes(),
        )?;
    }
    if !tally.changed.is_empty() {
        writeln!(out, "\nFor the change to take effect:")?;
        for id in &tally.changed {
            let c = id.client();
            let hint = match c.reload {
                Reload::FullQuit => {
                    format!("{} (closing its window is not enough)", c.reload.hint(c))
                }
                other => other.hint(c),
            };
            let mark = if c.reload == Reload::FullQuit {
                term::paint(term::WARN, "!")
            } else {
                "-".to_string()
            };
            out.write_all(term::wrap(&hint, &format!("  {mark} "), "    ").as_bytes())?;
        }
        if installing {
            writeln!(
                out,
                "Then run `tandem doctor` to check that every entry answers."
            )?;
        }
    }
    Ok(())
}

pub(super) fn exit(tally: &Tally) -> ExitCode {
    if tally.failed || tally.skipped_foreign {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The entries an install writes: per client, since with the hub a client that only starts
/// stdio servers gets a bridge instead.
struct Entries {
    /// For every client (stdio), or for clients that speak HTTP.
    direct: Vec<NamedEntry>,
    /// For clients that only start stdio servers, with --transport http.
    bridged: Vec<NamedEntry>,
    /// Where the hub token lives, with --transport http.
    hub: Option<Hub>,
}

struct Hub {
    port: u16,
    token_file: PathBuf,
}

impl Entries {
    fn for_client(&self, id: ClientId) -> &[NamedEntry] {
        if self.hub.is_some() && !id.client().supports(Transport::Http) {
            &self.bridged
        } else {
            &self.direct
        }
    }
}

fn entries(ctx: &Context, args: &InstallArgs, binary: &Path) -> anyhow::Result<Entries> {
    let for_reach = |reach, token: &str| {
        tandem_clients::tandem_entries_for(&reach, binary, &ctx.host, &ctx.home, token)
    };
    if args.transport == TransportArg::Stdio {
        return Ok(Entries {
            direct: for_reach(Reach::Stdio, ""),
            bridged: Vec::new(),
            hub: None,
        });
    }
    let port = args.port.unwrap_or(tandem_mcp::hub::DEFAULT_PORT);
    let token_file =
        std::path::absolute(ctx.home.hub_token()).context("resolving the path of the hub token")?;
    let token = if args.dry_run && !token_file.exists() {
        // A dry run changes nothing, not even the token it would create.
        "<the hub token, created by install>".to_string()
    } else {
        tandem_mcp::hub::load_or_create_token(&token_file)?
    };
    let base = format!("http://127.0.0.1:{port}");
    Ok(Entries {
        direct: for_reach(Reach::Http(base.clone()), &token),
        bridged: for_reach(Reach::Bridge(base), &token),
        hub: Some(Hub { port, token_file }),
    })
}

pub fn install(ctx: &Context, args: InstallArgs) -> anyhow::Result<ExitCode> {
    if args.port.is_some() && args.transport != TransportArg::Http {
        report_error("--port is for --transport http; add it, or leave --port out.");
        return Ok(ExitCode::from(USAGE));
    }
    let mut out = term::stdout();
    let project = project_dir(&args.project)?;
    let mut tally = Tally::default();

    // Which clients.
    let targets = select_clients(
        ctx,
        &args.clients,
        project.is_some() || args.force,
        |id| {
            (args.all || ctx.detect(id).detected())
                && (project.is_none() || has_project_scope(ctx, id))
        },
        &mut tally,
    );
    if targets.is_empty() && !tally.failed {
        let names: Vec<&str> = ClientId::ALL.iter().map(|id| id.as_str()).collect();
        report_error(&format!(
            "no MCP client was found on this computer. Name one with --client NAME ({}), or \
             use --all to write every client's config.",
            names.join(", ")
        ));
        return Ok(ExitCode::FAILURE);
    }
    if args.session_hook && !targets.contains(&ClientId::ClaudeCode) {
        if !tally.failed {
            report_error(
                "--session-hook is for Claude Code, which is not among the clients to install \
                 into; add --client claude-code.",
            );
        }
        return Ok(ExitCode::from(USAGE));
    }

    let mut targets = targets;
    if args.plugin {
        if !targets.contains(&ClientId::ClaudeCode) {
            if !tally.failed {
                report_error(
                    "--plugin is for Claude Code, which is not among the clients to install \
                     into; add --client claude-code.",
                );
            }
            return Ok(ExitCode::from(USAGE));
        }
        targets.retain(|id| *id != ClientId::ClaudeCode);
        super::plugin::install(ctx, &mut out, args.dry_run, &mut tally)?;
    }

    let binary = binary()?;
    let entries = entries(ctx, &args, &binary)?;
    let options = InstallOptions {
        force: args.force,
        project_dir: project.clone(),
        bridge: None,
    };
    let mut token_in = Vec::new();
    let plugin = ctx
        .installer
        .plugin_in_charge(ClientId::ClaudeCode, &options);
    for id in &targets {
        let label = id.client().name;
        if *id == ClientId::ClaudeCode
            && let Some(plugin) = &plugin
        {
            writeln!(
                out,
                "{label}: the Tandem plugin ({}) is installed and enabled; its servers and \
                 hooks are Tandem's, so no entry is added. `tandem uninstall --client \
                 claude-code` removes entries an earlier install wrote.",
                plugin.id
            )?;
            continue;
        }
        let planned = ctx
            .installer
            .plan_install(*id, entries.for_client(*id), &options);
        if entries.hub.is_some()
            && id.client().supports(Transport::Http)
            && let Ok(plan) = &planned
        {
            token_in.extend(plan.files.iter().map(|f| (*id, f.path.clone())));
        }
        run_plan(ctx, &mut out, label, planned, args.dry_run, &mut tally)?;
    }
    if args.session_hook && plugin.is_none() {
        let planned = ctx
            .installer
            .plan_session_hook(&binary, ctx.explicit_home());
        run_plan(
            ctx,
            &mut out,
            "Claude Code hook",
            planned,
            args.dry_run,
            &mut tally,
        )?;
    }
    if let Some(hub) = &entries.hub {
        hub_notes(ctx, &mut out, hub, &token_in, args.dry_run)?;
    }
    finish(&mut out, &tally, args.dry_run, true)?;
    Ok(exit(&tally))
}

/// What a person must know about HTTP entries: which files hold the hub token in clear, and
/// that the hub must run.
fn hub_notes(
    ctx: &Context,
    out: &mut impl Write,
    hub: &Hub,
    token_in: &[(ClientId, PathBuf)],
    dry_run: bool,
) -> anyhow::Result<()> {
    let note = format!("\n{} ", term::paint(term::WARN, "note:"));
    if !token_in.is_empty() {
        let files: Vec<String> = token_in
            .iter()
            .map(|(id, path)| format!("{} ({})", ctx.shown(path), id.client().name))
            .collect();
        let verb = if dry_run { "would hold" } else { "now holds" };
        let text = format!(
            "the hub token ({}) is written in clear into these files, which each {verb}: {}. \
             Anyone who can read them can use the hub; Claude Desktop's entry reads the token \
             file instead.",
            ctx.shown(&hub.token_file),
            files.join(", ")
        );
        out.write_all(term::wrap(&text, &note, "  ").as_bytes())?;
    }
    let running = tandem_clients::probe::hub_running(hub.port);
    let text = if running {
        format!("the hub answers on 127.0.0.1:{}.", hub.port)
    } else {
        format!(
            "HTTP entries need the hub: start it with `tandem serve{}` (or open the Tandem \
             app).",
            if hub.port == tandem_mcp::hub::DEFAULT_PORT {
                String::new()
            } else {
                format!(" --port {}", hub.port)
            }
        )
    };
    out.write_all(term::wrap(&text, &note, "  ").as_bytes())?;
    Ok(())
}

pub fn uninstall(ctx: &Context, args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let mut out = term::stdout();
    let project = project_dir(&args.project)?;
    let mut tally = Tally::default();
    let explicit = named(&args.clients);
    let every = explicit.is_empty();
    let targets: Vec<ClientId> = if every {
        ClientId::ALL
            .into_iter()
            .filter(|id| project.is_none() || has_project_scope(ctx, *id))
            .collect()
    } else {
        explicit
    };
    // Tandem's own two only: shared servers are removed with `tandem share remove`.
    let options = UninstallOptions {
        force: args.force,
        project_dir: project.clone(),
        names: vec![entry::WORKSPACE.to_string(), entry::MEMORY.to_string()],
    };
    let mut any = false;
    for id in &targets {
        let label = id.client().name;
        let planned = match ctx.installer.plan_uninstall(*id, &options) {
            // A client whose config folder this system does not name has nothing of ours.
            Err(ClientsError::NoConfigLocation { .. }) if every => continue,
            other => other,
        };
        // With every client, stay quiet about the ones with nothing to remove.
        if every
            && let Ok(plan) = &planned
            && !plan.changes()
            && plan
                .files
                .iter()
                .all(|f| f.entries.iter().all(|e| e.action == EntryAction::Absent))
        {
            continue;
        }
        any = true;
        run_plan(ctx, &mut out, label, planned, args.dry_run, &mut tally)?;
    }
    if targets.contains(&ClientId::ClaudeCode) && project.is_none() {
        let planned = ctx.installer.plan_remove_session_hook();
        let quiet = every && planned.as_ref().is_ok_and(|p| !p.changes());
        if !quiet {
            any = true;
            run_plan(
                ctx,
                &mut out,
                "Claude Code hook",
                planned,
                args.dry_run,
                &mut tally,
            )?;
        }
    }
    if !any {
        writeln!(out, "No Tandem entries were found; nothing to remove.")?;
    }
    finish(&mut out, &tally, args.dry_run, false)?;
    Ok(exit(&tally))
}
