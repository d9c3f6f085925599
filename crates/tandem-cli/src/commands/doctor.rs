//! `tandem doctor`: start every Tandem entry as its client would, check `initialize` +
//! `tools/list`, report, and keep the result for `tandem status`.

use std::{io::Write, process::ExitCode, time::Duration};

use tandem_clients::{
    ChildProbe, ClientId, DoctorRecord, ProbeOutcome, ProbeTarget, Scope, extension, plugin,
};

use super::{Context, named, report_error};
use crate::{cli::DoctorArgs, term};

/// Most lines of a server's stderr or log shown per entry.
const SHOWN_LINES: usize = 12;

fn quoted(out: &mut impl Write, title: &str, text: &str) -> std::io::Result<()> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "      {title}")?;
    for line in &lines[lines.len().saturating_sub(SHOWN_LINES)..] {
        let cut: String = line.chars().take(term::WIDTH - 8).collect();
        writeln!(out, "      {} {cut}", term::paint(term::DIM, "|"))?;
    }
    Ok(())
}

pub fn run(ctx: &Context, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut out = term::stdout();
    let explicit = named(&args.clients);
    let clients: Vec<ClientId> = if explicit.is_empty() {
        ClientId::ALL.to_vec()
    } else {
        explicit.clone()
    };
    let mut failed = false;
    let mut unreadable = 0;
    let mut targets: Vec<ProbeTarget> = Vec::new();
    for id in &clients {
        // A file that cannot be read may hold entries nobody can start: a failure, said.
        if let Ok(status) = ctx.installer.status(*id, &Scope::User, None) {
            for problem in status.files.iter().filter_map(|f| f.problem.as_ref()) {
                failed = true;
                unreadable += 1;
                report_error(&format!("{}: {problem}", id.client().name));
            }
        }
        // Claude Code may reach Tandem through the plugin: its servers are probed as Claude
        // Code starts them, and Tandem's own entries beside them are named as doubles.
        let from_plugin = match id {
            ClientId::ClaudeCode => plugin::claude_code_plugin(&ctx.host)
                .filter(|p| p.enabled)
                .map(|p| (p.id.clone(), p.probe_targets())),
            _ => None,
        };
        match ctx.installer.probe_targets(*id, &Scope::User) {
            Ok(found) => {
                if let Some((plugin_id, plugin_targets)) = from_plugin {
                    if !found.is_empty() {
                        report_error(&format!(
                            "Claude Code: the Tandem plugin ({plugin_id}) and Tandem's own \
                             entries are both active, so each server starts twice; `tandem \
                             uninstall --client claude-code` removes the entries."
                        ));
                    }
                    targets.extend(plugin_targets);
                    targets.extend(found);
                    continue;
                }
                // Desktop may also run Tandem as an extension: probed as Desktop starts it, and
                // named beside Tandem's own entries below when both answer.
                if *id == ClientId::ClaudeDesktop
                    && let Some(target) = extension::desktop_extension(&ctx.host)
                        .and_then(|e| e.probe_target(ctx.host.os))
                {
                    targets.push(target);
                    targets.extend(found);
                    continue;
                }
                if found.is_empty() && !explicit.is_empty() {
                    failed = true;
                    let at = ctx
                        .config_path(*id)
                        .map(|p| ctx.shown(&p))
                        .unwrap_or_default();
                    report_error(&format!(
                        "{}: no Tandem entry in {at}; run `tandem install --client {id}`.",
                        id.client().name
                    ));
                }
                targets.extend(found);
            }
            Err(tandem_clients::ClientsError::NoConfigLocation { .. }) if explicit.is_empty() => {}
            Err(e) => {
                failed = true;
                report_error(&format!("{}: {e}", id.client().name));
            }
        }
    }
    if targets.is_empty() {
        if !failed {
            report_error(
                "no Tandem entry was found in any client's config; run `tandem install` first.",
            );
        }
        return Ok(ExitCode::FAILURE);
    }

    let probe = ChildProbe::new(ctx.host.clone()).with_timeout(Duration::from_secs(args.timeout));
    let reports = probe.probe_all(&targets);
    let results: Vec<(ProbeTarget, tandem_clients::ProbeReport)> =
        targets.into_iter().zip(reports).collect();

    let mut last_file = None;
    for (target, report) in &results {
        let file = (target.client, target.config_path.clone());
        if last_file.as_ref() != Some(&file) {
            let text = format!(
                "{}  {}",
                target.client.client().name,
                ctx.shown(&target.config_path)
            );
            writeln!(out, "{}", term::paint(term::BOLD, text))?;
            last_file = Some(file);
        }
        let (mark, summary) = match report.outcome {
            ProbeOutcome::Passed => (
                term::paint(term::OK, "ok  "),
                format!(
                    "{} ms, {} tools{}",
                    report.latency.as_millis(),
                    report.tools.len(),
                    report
                        .server
                        .as_ref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
            ),
            ProbeOutcome::Failed => {
                failed = true;
                let when = if report.latency.is_zero() {
                    "not started".to_string()
                } else {
                    format!("after {} ms", report.latency.as_millis())
                };
                (term::paint(term::FAIL, "FAIL"), when)
            }
            ProbeOutcome::Skipped => (term::paint(term::DIM, "skip"), String::new()),
        };
        writeln!(out, "  {mark} {:<17} {summary}", target.name)?;
        if !report.passed() {
            out.write_all(term::wrap(&report.detail, "      ", "      ").as_bytes())?;
        }
        if let Some(fix) = &report.fix {
            let text = format!("fix: {fix}");
            out.write_all(term::wrap(&text, "      ", "        ").as_bytes())?;
        }
        quoted(&mut out, "stderr:", &report.stderr_tail)?;
        if let Some(log) = &report.log_tail
            && !report.passed()
        {
            let title = format!("Claude Desktop's log (mcp-server-{}.log):", target.name);
            quoted(&mut out, &title, log)?;
        }
    }

    if let Some(doubles) = desktop_doubles(&results) {
        report_error(&doubles);
    }

    let mut record = DoctorRecord::new(&results);
    if !explicit.is_empty()
        && let Ok(Some(previous)) = DoctorRecord::load(&ctx.home)
    {
        record = record.keeping_others(&previous, &explicit);
    }
    let passed = results.iter().filter(|(_, r)| r.passed()).count();
    let failures = results
        .iter()
        .filter(|(_, r)| r.outcome == ProbeOutcome::Failed)
        .count();
    let unread = match unreadable {
        0 => String::new(),
        1 => "; 1 config file could not be read".to_string(),
        n => format!("; {n} config files could not be read"),
    };
    writeln!(
        out,
        "\n{} checked: {passed} passed, {failures} failed{unread}.",
        results.len()
    )?;
    if let Err(e) = record.save(&ctx.home) {
        report_error(&format!(
            "the result could not be kept for `tandem status`: {e}"
        ));
    }
    Ok(if failed || failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// When Claude Desktop reaches Tandem both through the extension and through Tandem's own
/// entries in its config file and both answered, Desktop offers every tool twice: says so, naming
/// both and the way out.
fn desktop_doubles(results: &[(ProbeTarget, tandem_clients::ProbeReport)]) -> Option<String> {
    let answered = |extension: bool| {
        results
            .iter()
            .filter(|(t, r)| {
                t.client == ClientId::ClaudeDesktop
                    && r.passed()
                    && t.name.starts_with("extension:") == extension
            })
            .map(|(t, _)| t.name.as_str())
            .collect::<Vec<_>>()
    };
    let (from_extension, entries) = (answered(true), answered(false));
    if from_extension.is_empty() || entries.is_empty() {
        return None;
    }
    Some(format!(
        "Claude Desktop: the Tandem extension and Tandem's own entries ({}) both answer, so \
         Desktop offers every tool twice; keep one: `tandem uninstall --client claude-desktop` \
         removes the entries, Desktop's Settings → Extensions removes the extension.",
        entries.join(", ")
    ))
}
