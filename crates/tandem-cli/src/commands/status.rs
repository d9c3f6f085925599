//! `tandem status`: per client, whether it is here, its config files, Tandem's entries and
//! whether they still work, the SessionStart hook, and the last doctor result.

use std::{io::Write, process::ExitCode};

use serde_json::{Value, json};
use tandem_clients::{
    ClientId, ClientStatus, DoctorRecord, Health, HubReport, Scope, ServerEntry, entry, hook,
};
use tandem_store::paths;

use super::{Context, binary};
use crate::{cli::StatusArgs, term};

fn entry_json(e: &Option<ServerEntry>) -> Value {
    match e {
        Some(entry @ ServerEntry::Stdio { command, args, env }) => {
            // The entry's env may hold secrets (a shared server's key): names only.
            let env: Vec<&String> = env.keys().collect();
            json!({
                "transport": entry.reach().transport(),
                "command": command,
                "args": args,
                "envNames": env,
            })
        }
        Some(ServerEntry::Http { url, .. }) => json!({"transport": "http", "url": url}),
        None => Value::Null,
    }
}

/// The ports of the hubs that Tandem's entries point at.
fn hub_ports(statuses: &[ClientStatus]) -> Vec<u16> {
    let mut ports: Vec<u16> = statuses
        .iter()
        .flat_map(|s| &s.files)
        .flat_map(|f| &f.entries)
        .filter(|e| e.ours && e.name.starts_with("tandem-"))
        .filter_map(|e| e.entry.as_ref()?.reach().hub_port())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn client_json(s: &ClientStatus, doctor: Option<&DoctorRecord>) -> Value {
    let files: Vec<Value> = s
        .files
        .iter()
        .map(|f| {
            let entries: Vec<Value> = f
                .entries
                .iter()
                .map(|e| {
                    json!({
                        "name": e.name,
                        "ours": e.ours,
                        "health": e.health.code(),
                        "detail": e.health.advice(),
                        "entry": entry_json(&e.entry),
                    })
                })
                .collect();
            json!({
                "path": f.path,
                "exists": f.exists,
                "problem": f.problem,
                "entries": entries,
            })
        })
        .collect();
    let checks: Vec<Value> = doctor
        .map(|d| {
            d.for_client(s.client)
                .filter_map(|c| serde_json::to_value(c).ok())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": s.client.as_str(),
        "name": s.name,
        "detected": s.detection.detected(),
        "detectedBy": {
            "configDir": s.detection.config_dir,
            "cli": s.detection.cli,
        },
        "healthy": s.healthy(),
        "files": files,
        "lastDoctor": checks,
    })
}

/// A hub's port, whether a Tandem hub answers there, what it serves, and whether that is this
/// installation's folders and store.
fn hub_json(ctx: &Context, port: u16) -> Value {
    let report = HubReport::check(port);
    let serves = match &report {
        HubReport::Up(h) => serde_json::to_value(&h.serves).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    json!({
        "port": port,
        "running": report.is_up(),
        "serves": serves,
        "matches": report.serves(&ctx.home),
        "problem": report.stale(&ctx.home, port),
    })
}

fn notices_json(home: &tandem_store::Home) -> Vec<Value> {
    home.leftover()
        .map(|l| {
            json!({
                "kind": "leftoverSharedFolder",
                "folder": l.folder,
                "sharedDir": l.shared_dir,
                "files": l.files,
                "message": l.message(),
                "dismiss": "tandem folder dismiss",
            })
        })
        .into_iter()
        .collect()
}

pub fn run(ctx: &Context, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let binary = binary()?;
    let expected = entry::tandem_entries(&binary, &ctx.host, ctx.explicit_home());
    let mut statuses = Vec::new();
    for id in ClientId::ALL {
        match ctx.installer.status(id, &Scope::User, Some(&expected)) {
            Ok(s) => statuses.push(s),
            // No config location on this system (e.g. %APPDATA% unset): nothing to show.
            Err(_) => continue,
        }
    }
    let doctor = DoctorRecord::load(&ctx.home);
    let hook_path = ctx.installer.session_hook_path();
    let hook = ctx.installer.session_hook();
    let plugin = statuses.iter().find_map(|s| s.plugin.clone());

    if args.json {
        let (doctor_json, doctor_problem) = match &doctor {
            Ok(Some(d)) => (json!({"at": d.at, "passed": d.passed}), None),
            Ok(None) => (Value::Null, None),
            Err(e) => (Value::Null, Some(e.to_string())),
        };
        let (hook_command, hook_problem) = match &hook {
            Ok(c) => (c.clone(), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let doctor_ref = doctor.as_ref().ok().and_then(Option::as_ref);
        let hubs: Vec<Value> = hub_ports(&statuses)
            .into_iter()
            .map(|port| hub_json(ctx, port))
            .collect();
        let home = &ctx.home;
        let out = json!({
            "binary": binary,
            "home": {
                "stateDir": home.state_dir(),
                "sharedDir": home.shared_dir(),
                "store": home.served().store,
                "settingsFile": home.settings_file(),
                "sharedDirSaved": home.shared_dir() != home.default_shared_dir(),
            },
            "hub": hub_json(ctx, paths::hub_port_from_env()),
            "hubs": hubs,
            "notices": notices_json(home),
            "tandemHome": ctx.home.state_dir(),
            "clients": statuses.iter().map(|s| client_json(s, doctor_ref)).collect::<Vec<_>>(),
            "claudeCodePlugin": plugin.as_ref().map(|p| json!({
                "id": p.id,
                "version": p.version,
                "enabled": p.enabled,
            })),
            "sessionHook": {
                "path": hook_path,
                "command": hook_command,
                "problem": hook_problem,
            },
            "doctor": doctor_json,
            "doctorProblem": doctor_problem,
        });
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &out)?;
        writeln!(stdout)?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut out = term::stdout();
    let doctor_ref = doctor.as_ref().ok().and_then(Option::as_ref);
    for s in &statuses {
        let has_file = s.files.iter().any(|f| f.exists || f.problem.is_some());
        let ours = s.files.iter().any(|f| f.entries.iter().any(|e| e.ours));
        let by_plugin = s.through_plugin().is_some();
        let state = if by_plugin && !ours {
            term::paint(term::OK, "connected through the Tandem plugin")
        } else if s.healthy() {
            term::paint(term::OK, "connected")
        } else if s.files.iter().any(|f| f.entries.iter().any(|e| e.ours)) {
            term::paint(term::FAIL, "needs attention")
        } else if s.detection.detected() {
            "found, Tandem not installed".to_string()
        } else {
            term::paint(term::DIM, "not found")
        };
        writeln!(out, "{:<16}{state}", s.name)?;
        if !s.detection.detected() && !has_file {
            continue;
        }
        for f in &s.files {
            let exists = if f.exists { "" } else { " (no file yet)" };
            writeln!(out, "  {}{exists}", ctx.shown(&f.path))?;
            if let Some(problem) = &f.problem {
                out.write_all(term::wrap(problem, "    ", "    ").as_bytes())?;
            }
            for e in &f.entries {
                let detail = e.health.advice();
                let mark = if e.health == Health::Current {
                    term::paint(term::OK, "ok ")
                } else {
                    term::paint(term::FAIL, "!! ")
                };
                let lead = format!("    {mark}{:<17} ", e.name);
                let detail = match e.entry.as_ref().and_then(|e| e.reach().describe()) {
                    Some(t) if e.ours => format!("{detail} ({t})"),
                    _ => detail,
                };
                out.write_all(term::wrap(&detail, &lead, &" ".repeat(25)).as_bytes())?;
            }
        }
        if let Some(d) = doctor_ref {
            let checks: Vec<_> = d.for_client(s.client).collect();
            if !checks.is_empty() {
                let parts: Vec<String> = checks
                    .iter()
                    .map(|c| format!("{} {} ({} ms)", c.name, c.outcome.as_str(), c.latency_ms))
                    .collect();
                let at = checks.first().map_or(d.at.as_str(), |c| c.at.as_str());
                let at = if at.is_empty() { d.at.as_str() } else { at };
                let text = format!("last doctor {}: {}", short_time(at), parts.join(", "));
                out.write_all(term::wrap(&text, "  ", "    ").as_bytes())?;
            }
        }
        if s.client == ClientId::ClaudeCode
            && let Some(p) = &plugin
        {
            let version = p
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let state = if p.enabled { "enabled" } else { "disabled" };
            let mut text = format!("plugin {}{version}: {state}", p.id);
            if p.enabled && (ours || matches!(hook, Ok(Some(_)))) {
                text.push_str(
                    "; Tandem's own entries or hook are there too, so Claude Code starts each \
                     server twice: `tandem uninstall --client claude-code` removes them",
                );
            }
            out.write_all(term::wrap(&text, "  ", "    ").as_bytes())?;
        }
        if s.client == ClientId::ClaudeCode {
            match &hook {
                Ok(Some(command)) => {
                    let ok = hook::brief_program(command).is_some_and(|p| p.is_file());
                    let text = if ok {
                        format!("SessionStart hook: {command}")
                    } else {
                        format!(
                            "SessionStart hook: {command} (its binary is missing: run \
                             `tandem install --session-hook` again)"
                        )
                    };
                    out.write_all(term::wrap(&text, "  ", "    ").as_bytes())?;
                }
                Ok(None) => {}
                Err(e) => {
                    out.write_all(term::wrap(&e.to_string(), "  hook: ", "    ").as_bytes())?;
                }
            }
        }
    }
    // The hubs Tandem's entries point at, and the one the app runs: a hub that serves other
    // folders than this installation's is flagged, never called running.
    let entry_ports = hub_ports(&statuses);
    let mut ports = entry_ports.clone();
    ports.push(paths::hub_port_from_env());
    ports.sort_unstable();
    ports.dedup();
    for port in ports {
        let report = HubReport::check(port);
        if let Some(why) = report.stale(&ctx.home, port) {
            let text = format!("{} {why}", term::paint(term::FAIL, "Stale hub:"));
            out.write_all(term::wrap(&text, "\n", "  ").as_bytes())?;
            continue;
        }
        if !entry_ports.contains(&port) {
            continue;
        }
        let text = if report.is_up() {
            format!(
                "Hub on 127.0.0.1:{port}: {}",
                term::paint(term::OK, "running")
            )
        } else {
            format!(
                "Hub on 127.0.0.1:{port}: {} (HTTP entries need it: `tandem serve{}`)",
                term::paint(term::FAIL, "not running"),
                if port == tandem_mcp::hub::DEFAULT_PORT {
                    String::new()
                } else {
                    format!(" --port {port}")
                }
            )
        };
        out.write_all(term::wrap(&text, "\n", "  ").as_bytes())?;
    }
    let folders = format!(
        "\nShared folder {} · state {} (`tandem folder`)",
        ctx.shown(ctx.home.shared_dir()),
        ctx.shown(ctx.home.state_dir())
    );
    out.write_all(term::wrap(&folders, "", "  ").as_bytes())?;
    if let Some(leftover) = ctx.home.leftover() {
        let text = format!(
            "{} {} (`tandem folder dismiss` hides this.)",
            term::paint(term::FAIL, "Note:"),
            leftover.message()
        );
        out.write_all(term::wrap(&text, "", "  ").as_bytes())?;
    }
    match &doctor {
        Ok(Some(d)) => {
            let verdict = if d.passed {
                term::paint(term::OK, "passed")
            } else {
                term::paint(term::FAIL, "failed")
            };
            writeln!(
                out,
                "\nLast `tandem doctor`: {verdict} ({})",
                short_time(&d.at)
            )?;
        }
        Ok(None) => writeln!(out, "\n`tandem doctor` has not run yet.")?,
        Err(e) => out.write_all(term::wrap(&e.to_string(), "\n", "").as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04 UTC`.
fn short_time(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => at.to_string(),
    }
}
