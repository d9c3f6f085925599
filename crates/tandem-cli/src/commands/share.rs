//! `tandem share add | list | remove`: a third-party MCP server declared once (in
//! `$TANDEM_HOME/shares.json`) and installed into each selected client in its own format,
//! through the same safe writer as `tandem install`.

use std::{collections::BTreeMap, io::Write, process::ExitCode};

use serde_json::{Value, json};
use tandem_clients::{
    ClientId, EntryAction, InstallOptions, Scope, SecretInFile, Share, SharedServer, Shares,
    UninstallOptions, share,
};

use super::{
    Context, USAGE, binary,
    install::{Tally, exit, finish, run_plan, select_clients},
    report_error,
};
use crate::{
    cli::{ShareAddArgs, ShareCommand},
    term,
};

pub fn run(ctx: &Context, command: ShareCommand) -> anyhow::Result<ExitCode> {
    match command {
        ShareCommand::Add(args) => add(ctx, args),
        ShareCommand::List { json } => list(ctx, json),
        ShareCommand::Remove {
            name,
            force,
            dry_run,
        } => remove(ctx, &name, force, dry_run),
    }
}

/// The server given on the command line, if any. Usage errors are reported here.
fn server_from_args(args: &ShareAddArgs) -> Result<Option<SharedServer>, String> {
    if let Some(url) = &args.url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "--url {url:?} is not an http:// or https:// address"
            ));
        }
        let mut headers = BTreeMap::new();
        for h in &args.headers {
            let (name, value) = share::parse_header(h).map_err(|e| e.to_string())?;
            headers.insert(name, value);
        }
        return Ok(Some(SharedServer::Http {
            url: url.clone(),
            headers,
        }));
    }
    if let Some(line) = &args.command {
        let Some((command, rest)) = line.split_first() else {
            return Err("--command needs the command to run".into());
        };
        let mut env = BTreeMap::new();
        for e in &args.env {
            let (key, value) = share::parse_env(e).map_err(|e| e.to_string())?;
            env.insert(key, value);
        }
        return Ok(Some(SharedServer::Stdio {
            command: command.clone(),
            args: rest.to_vec(),
            env,
        }));
    }
    Ok(None)
}

/// The sentence for a secret that now sits in a client's file.
fn secret_note(ctx: &Context, id: ClientId, path: &std::path::Path, s: &SecretInFile) -> String {
    let c = id.client();
    let why = if c.supports(tandem_clients::Transport::Http) {
        format!(
            "the value of its {} header is written there, since {} cannot expand variables",
            s.what, c.name
        )
    } else {
        format!(
            "the value of ${} is written into the entry's env, since {} does not pass your \
             shell's variables to servers",
            s.what, c.name
        )
    };
    format!(
        "{} ({}) now holds a secret of `{}`: {why}.",
        ctx.shown(path),
        c.name,
        s.entry
    )
}

fn add(ctx: &Context, args: ShareAddArgs) -> anyhow::Result<ExitCode> {
    let mut out = term::stdout();
    let name = args.name.clone();
    if let Err(e) = share::validate_name(&name) {
        report_error(&e.to_string());
        return Ok(ExitCode::from(USAGE));
    }
    let given = match server_from_args(&args) {
        Ok(s) => s,
        Err(message) => {
            report_error(&message);
            return Ok(ExitCode::from(USAGE));
        }
    };
    let shares = Shares::new(&ctx.home);
    let existing = shares.get(&name)?;
    let server = match (given, &existing) {
        (Some(given), Some(old)) if given != old.server => {
            report_error(&format!(
                "`{name}` is already shared as {}. Run `tandem share remove {name}` first to \
                 change it, or leave out --url/--command to install it into more clients.",
                old.server.describe()
            ));
            return Ok(ExitCode::FAILURE);
        }
        (Some(given), _) => given,
        (None, Some(old)) => old.server.clone(),
        (None, None) => {
            report_error(&format!(
                "`{name}` is not shared yet: give its --url URL or --command CMD …"
            ));
            return Ok(ExitCode::from(USAGE));
        }
    };

    // Which clients: those named (found here, or --force), else every client found here.
    let mut tally = Tally::default();
    let targets = select_clients(
        ctx,
        &args.clients,
        args.force,
        |id| ctx.detect(id).detected(),
        &mut tally,
    );
    if targets.is_empty() {
        if !tally.failed {
            report_error(
                "no MCP client was found on this computer; name one with --client NAME (and \
                 --force to write a client that is not installed).",
            );
        }
        return Ok(ExitCode::FAILURE);
    }

    // The declaration is kept before any client file changes: an entry in a file that no
    // declaration names could not be found again by `share remove`.
    if !args.dry_run {
        let declared = server.clone();
        shares.update(&name, |old| {
            Some(old.unwrap_or_else(|| Share::new(declared.clone())))
        })?;
    }

    let options = InstallOptions {
        force: args.force,
        project_dir: None,
        bridge: Some(binary()?),
    };
    let entry = [Share::new(server.clone()).named_entry(&name)];
    let mut notes = Vec::new();
    let mut foreign = Vec::new();
    for id in &targets {
        let label = id.client().name;
        let planned = ctx.installer.plan_install(*id, &entry, &options);
        let secrets: Vec<(std::path::PathBuf, SecretInFile)> = planned
            .as_ref()
            .map(|p| {
                p.files
                    .iter()
                    .flat_map(|f| {
                        f.secrets_in_file
                            .iter()
                            .map(|s| (f.path.clone(), s.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(applied) = run_plan(ctx, &mut out, label, planned, args.dry_run, &mut tally)?
        else {
            if args.dry_run {
                notes.extend(secrets.iter().map(|(p, s)| secret_note(ctx, *id, p, s)));
            }
            continue;
        };
        let actions: Vec<EntryAction> = applied
            .files
            .iter()
            .flat_map(|f| f.entries.iter().map(|e| e.action))
            .collect();
        if actions.contains(&EntryAction::SkipForeign) {
            foreign.push(*id);
            continue;
        }
        shares.update(&name, |old| {
            old.map(|mut s| {
                s.set_installed(*id, true);
                s
            })
        })?;
        notes.extend(secrets.iter().map(|(p, s)| secret_note(ctx, *id, p, s)));
    }
    let warn = format!("\n{} ", term::paint(term::WARN, "note:"));
    for note in &notes {
        out.write_all(term::wrap(note, &warn, "  ").as_bytes())?;
    }
    if !foreign.is_empty() {
        let names: Vec<&str> = foreign.iter().map(|id| id.client().name).collect();
        let text = format!(
            "{} already {} an entry named `{name}` that Tandem did not write; it was left \
             alone. Run again with --force to replace it.",
            names.join(", "),
            if names.len() == 1 { "has" } else { "have" }
        );
        out.write_all(term::wrap(&text, &warn, "  ").as_bytes())?;
        tally.failed = true;
    }
    tally.skipped_foreign = false;
    if tally.failed && !args.dry_run {
        let text = format!(
            "`{name}` stays declared; once the problem above is fixed, run `tandem share add \
             {name} --client CLIENT` to install it there too."
        );
        out.write_all(term::wrap(&text, &warn, "  ").as_bytes())?;
    }
    finish(&mut out, &tally, args.dry_run, false)?;
    Ok(exit(&tally))
}

/// Whether a client's config still holds a share's entry as Tandem wrote it.
fn entry_state(ctx: &Context, id: ClientId, name: &str) -> &'static str {
    match ctx.installer.status(id, &Scope::User, None) {
        Err(_) => "unreadable",
        Ok(status) => {
            if status.files.iter().any(|f| f.problem.is_some()) {
                return "unreadable";
            }
            match status
                .files
                .iter()
                .flat_map(|f| &f.entries)
                .find(|e| e.name == name)
            {
                Some(e) if e.ours => "ok",
                Some(_) => "changed by hand",
                None => "missing",
            }
        }
    }
}

/// Header names, with `env:VAR` references shown and literal values hidden.
fn shown_headers(headers: &BTreeMap<String, String>) -> Vec<String> {
    headers
        .iter()
        .map(
            |(k, v)| match tandem_clients::entry::HeaderValue::parse(v) {
                tandem_clients::entry::HeaderValue::Env { .. } => format!("{k}: {v}"),
                tandem_clients::entry::HeaderValue::Literal(_) => format!("{k}: (value hidden)"),
            },
        )
        .collect()
}

fn list(ctx: &Context, as_json: bool) -> anyhow::Result<ExitCode> {
    let shares = Shares::new(&ctx.home).load()?;
    if as_json {
        let items: Vec<Value> = shares
            .iter()
            .map(|(name, s)| {
                let clients: Vec<Value> = s
                    .client_ids()
                    .into_iter()
                    .map(|id| json!({"id": id.as_str(), "entry": entry_state(ctx, id, name)}))
                    .collect();
                let server = match &s.server {
                    SharedServer::Http { url, headers } => {
                        json!({"transport": "http", "url": url, "headers": shown_headers(headers)})
                    }
                    SharedServer::Stdio { command, args, env } => json!({
                        "transport": "stdio",
                        "command": command,
                        "args": args,
                        "env": env.keys().collect::<Vec<_>>(),
                    }),
                };
                json!({"name": name, "server": server, "clients": clients, "added": s.added})
            })
            .collect();
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &json!({ "shares": items }))?;
        writeln!(stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = term::stdout();
    if shares.is_empty() {
        writeln!(
            out,
            "No shared servers. Add one with `tandem share add NAME --url URL`."
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for (name, s) in &shares {
        let text = format!("{name}  {}", s.server.describe());
        out.write_all(term::paint(term::BOLD, term::wrap(&text, "", "    ")).as_bytes())?;
        match &s.server {
            SharedServer::Http { headers, .. } if !headers.is_empty() => {
                let text = format!("headers: {}", shown_headers(headers).join(", "));
                out.write_all(term::wrap(&text, "  ", "    ").as_bytes())?;
            }
            SharedServer::Stdio { env, .. } if !env.is_empty() => {
                let keys: Vec<&str> = env.keys().map(String::as_str).collect();
                let text = format!("env: {}", keys.join(", "));
                out.write_all(term::wrap(&text, "  ", "    ").as_bytes())?;
            }
            _ => {}
        }
        let ids = s.client_ids();
        let text = if ids.is_empty() {
            "in: no client yet".to_string()
        } else {
            let parts: Vec<String> = ids
                .iter()
                .map(|id| format!("{} ({})", id.client().name, entry_state(ctx, *id, name)))
                .collect();
            format!("in: {}", parts.join(", "))
        };
        out.write_all(term::wrap(&text, "  ", "    ").as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(ctx: &Context, name: &str, force: bool, dry_run: bool) -> anyhow::Result<ExitCode> {
    let mut out = term::stdout();
    let shares = Shares::new(&ctx.home);
    let Some(declared) = shares.get(name)? else {
        report_error(&format!(
            "no shared server is named `{name}`; `tandem share list` shows them."
        ));
        return Ok(ExitCode::FAILURE);
    };
    let mut tally = Tally::default();
    let options = UninstallOptions {
        force,
        project_dir: None,
        names: vec![name.to_string()],
    };
    let mut kept = Vec::new();
    for id in declared.client_ids() {
        let label = id.client().name;
        let planned = ctx.installer.plan_uninstall(id, &options);
        let Some(applied) = run_plan(ctx, &mut out, label, planned, dry_run, &mut tally)? else {
            kept.push(id);
            continue;
        };
        let foreign = applied
            .files
            .iter()
            .flat_map(|f| &f.entries)
            .any(|e| e.action == EntryAction::SkipForeign);
        if foreign {
            kept.push(id);
        } else {
            shares.update(name, |old| {
                old.map(|mut s| {
                    s.set_installed(id, false);
                    s
                })
            })?;
        }
    }
    if dry_run {
        finish(&mut out, &tally, dry_run, false)?;
        return Ok(exit(&tally));
    }
    let warn = format!("\n{} ", term::paint(term::WARN, "note:"));
    if kept.is_empty() {
        shares.update(name, |_| None)?;
        writeln!(out, "\n`{name}` is no longer shared.")?;
    } else {
        tally.failed = true;
        let names: Vec<&str> = kept.iter().map(|id| id.client().name).collect();
        let text = format!(
            "`{name}` stays declared for {}: fix what is said above (or use --force for an \
             entry changed by hand) and run `tandem share remove {name}` again.",
            names.join(", ")
        );
        out.write_all(term::wrap(&text, &warn, "  ").as_bytes())?;
    }
    tally.skipped_foreign = false;
    finish(&mut out, &tally, dry_run, false)?;
    Ok(exit(&tally))
}
