//! `tandem team`: memory shared on a PostgreSQL database — set a team up, add and remove its
//! members (database roles), join this computer to it, see how it answers, leave it.

use std::{io::Write as _, process::ExitCode, time::Instant};

use anyhow::{Context as _, bail};
use serde_json::json;
use tandem_store::{
    Home,
    memory::{MemoryStore, StoreLocation, team::TeamMemory},
    settings::{TeamSetting, save_private},
    workspace::{Workspace, team::TeamDocs, transfer},
};

use super::Context;
use crate::{cli::TeamCommand, term};

pub fn run(ctx: &Context, cmd: TeamCommand) -> anyhow::Result<ExitCode> {
    let home = &ctx.home;
    match cmd {
        TeamCommand::Init { url, team } => init(&url, team),
        TeamCommand::AddMember { name, store } => add_member(home, &name, store),
        TeamCommand::RemoveMember { name, store } => remove_member(home, &name, store),
        TeamCommand::Join {
            url,
            team,
            password_stdin,
        } => join(ctx, &url, team, password_stdin),
        TeamCommand::Status { json } => status(ctx, json),
        TeamCommand::Leave => leave(ctx),
        TeamCommand::KeepHistory { versions, store } => keep_history(home, versions.0, store),
        TeamCommand::Import { db, store } => copy(ctx, db, store, Direction::IntoTeam),
        TeamCommand::Export { db, store } => copy(ctx, db, store, Direction::FromTeam),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    IntoTeam,
    FromTeam,
}

/// `team import` and `team export`: every key of one store, with its history, into the other,
/// and the shared folder's files into the team's workspace (or its documents into the folder).
fn copy(
    ctx: &Context,
    db: Option<std::path::PathBuf>,
    store: Option<String>,
    direction: Direction,
) -> anyhow::Result<ExitCode> {
    let home = &ctx.home;
    let docs = TeamDocs::new(std::sync::Arc::new(owner_store(home, store.clone())?));
    let team = MemoryStore::from_team(owner_store(home, store)?);
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut out = term::stdout();
    let memory = copy_memory(ctx, &team, db, direction, bar)?;
    out.write_all(term::wrap(&memory, "", "").as_bytes())?;

    let shared = home.shared_dir();
    let mut drawn = Instant::now();
    let mut files_bar = |seen: usize, total: usize| {
        if bar && (drawn.elapsed().as_millis() >= 100 || seen == total) {
            drawn = Instant::now();
            draw_progress(seen, total, "files");
        }
    };
    let (done, what, place) = match direction {
        Direction::IntoTeam => match Workspace::open_existing(shared) {
            Ok(ws) => (
                transfer::folder_into_team(&ws, &docs, "tandem import", &mut files_bar)?,
                "the team's workspace".to_string(),
                ctx.shown(shared),
            ),
            Err(_) => return Ok(ExitCode::SUCCESS),
        },
        Direction::FromTeam => {
            let ws = Workspace::open(shared)?;
            (
                transfer::team_into_folder(&docs, &ws, &mut files_bar)?,
                ctx.shown(shared),
                "the team's workspace".to_string(),
            )
        }
    };
    if bar && done.total > 0 {
        eprintln!();
    }
    let left_out = if done.skipped.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = done
            .skipped
            .iter()
            .map(|(path, why)| format!("{path} ({why})"))
            .collect();
        format!(" Left out ({}): {}.", done.skipped.len(), list.join("; "))
    };
    let kept = match done.kept {
        0 => String::new(),
        1 => "; 1 was there already and stayed as it was".to_string(),
        n => format!("; {n} were there already and stayed as they were"),
    };
    let text = format!(
        "Copied {} file{} from {place} into {what}{kept}.{left_out}",
        done.files,
        if done.files == 1 { "" } else { "s" },
    );
    out.write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The memory half of `team import` / `export`, as the line that reports it.
fn copy_memory(
    ctx: &Context,
    team: &MemoryStore,
    db: Option<std::path::PathBuf>,
    direction: Direction,
    bar: bool,
) -> anyhow::Result<String> {
    let db = db.unwrap_or_else(|| ctx.home.memory_db());
    if direction == Direction::IntoTeam && !db.is_file() {
        return Ok(format!("There is no memory at {} to copy.", ctx.shown(&db)));
    }
    let file = MemoryStore::open(&db)
        .with_context(|| format!("opening the memory database at {}", ctx.shown(&db)))?;
    let (from, to, into) = match direction {
        Direction::IntoTeam => (&file, team, "the team"),
        Direction::FromTeam => (team, &file, "the file"),
    };
    let mut last_drawn = Instant::now();
    let done = tandem_store::memory::transfer::transfer(from, to, |done, seen| {
        if bar && (last_drawn.elapsed().as_millis() >= 100 || seen == done.total) {
            last_drawn = Instant::now();
            draw_progress(seen, done.total, "keys");
        }
    })?;
    if bar {
        eprintln!();
    }
    Ok(format!(
        "Copied {} key{} ({} versions, with who wrote each and when) into {into}{}; {} key{} \
         {into} had already stayed as {}.",
        done.keys,
        if done.keys == 1 { "" } else { "s" },
        done.versions,
        match direction {
            Direction::IntoTeam => format!(" {}", team.team().map(|t| t.team()).unwrap_or("")),
            Direction::FromTeam => format!(" {}", ctx.shown(&db)),
        },
        done.kept,
        if done.kept == 1 { "" } else { "s" },
        if done.kept == 1 {
            "it was"
        } else {
            "they were"
        },
    ))
}

/// One line that redraws itself: `[#####     ] 512/1000 keys`.
fn draw_progress(seen: usize, total: usize, unit: &str) {
    const WIDTH: usize = 30;
    let filled = (seen * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let _ = write!(
        term::stderr(),
        "\r[{}{}] {seen}/{total} {unit}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    );
}

/// A URL's team, `--team` taking precedence.
fn team_location(url: &str, team: Option<String>) -> anyhow::Result<(String, String)> {
    match StoreLocation::parse(url) {
        StoreLocation::Team {
            url, team: named, ..
        } => Ok((url, team.unwrap_or(named))),
        StoreLocation::File(_) => {
            bail!("{url} is not a PostgreSQL URL: give postgres://USER@HOST[:PORT]/DB")
        }
    }
}

/// Connects to the team, creating or upgrading its schema when the role may.
fn connect(url: &str, team: &str, password: Option<&str>) -> anyhow::Result<TeamMemory> {
    Ok(TeamMemory::connect(url, team, password)?)
}

fn init(url: &str, team: Option<String>) -> anyhow::Result<ExitCode> {
    let (url, team) = team_location(url, team)?;
    let store = connect(&url, &team, None)?;
    let info = store.server_info()?;
    let mut out = term::stdout();
    let text = format!(
        "Team {team} is ready on {} (PostgreSQL {}, schema version {}), owned by {}.\n\
         Next: `tandem team add-member NAME` for each person or machine (as this role, with \
         --store {}), then each runs the `tandem team join` it prints.",
        store.shown(),
        info.version,
        info.schema,
        store.member(),
        shell_word(&with_team(&StoreLocation::without_password(&url), &team)),
    );
    out.write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The team an owner's command works on: `--store`, else the team this computer joined.
fn owner_store(home: &Home, store: Option<String>) -> anyhow::Result<TeamMemory> {
    let location = match store {
        Some(url) => StoreLocation::parse(&url),
        None => home.memory_location()?,
    };
    match location {
        StoreLocation::Team {
            url,
            team,
            saved_password,
        } => connect(&url, &team, saved_password.as_deref()),
        StoreLocation::File(_) => bail!(
            "this computer is not in a team: give the team's URL with --store \
             postgres://OWNER@HOST/DB?team=NAME"
        ),
    }
}

fn add_member(home: &Home, name: &str, store: Option<String>) -> anyhow::Result<ExitCode> {
    let store = owner_store(home, store)?;
    let password = store.add_member(name)?;
    let mut out = term::stdout();
    writeln!(
        out,
        "{name} may now use team {} on {}. On their computer, they run:\n",
        store.team(),
        store.shown()
    )?;
    writeln!(
        out,
        "  tandem team join {}\n",
        shell_word(&store.join_url(name, &password))
    )?;
    let text = "The password is in that URL and shown only now: send it privately. Joining \
                keeps it in their Tandem state folder, readable by them only, never in a \
                client's config file. `tandem team remove-member` takes the access back.";
    out.write_all(term::wrap(text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn remove_member(home: &Home, name: &str, store: Option<String>) -> anyhow::Result<ExitCode> {
    let store = owner_store(home, store)?;
    let dropped = store.remove_member(name)?;
    let text = if dropped {
        format!(
            "{name} is no longer a member of team {}: their role is dropped and their open \
             sessions ended. What they wrote stays, under their name.",
            store.team()
        )
    } else {
        format!(
            "{name} no longer has access to team {}; their role stays because it belongs to \
             another team on this database.",
            store.team()
        )
    };
    term::stdout().write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn join(
    ctx: &Context,
    url: &str,
    team: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    let home = &ctx.home;
    let (url, team) = team_location(url, team)?;
    let mut password = StoreLocation::url_password(&url);
    if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            bail!("no password on stdin: nothing was saved");
        }
        password = Some(line.to_string());
    }
    let saved_url = StoreLocation::without_password(&url);
    // Joined only once the team answers: a wrong password or address saves nothing.
    let store = connect(&saved_url, &team, password.as_deref())
        .with_context(|| format!("joining team {team}; nothing was saved"))?;
    let mut settings = home.settings()?;
    settings.team = Some(TeamSetting {
        url: saved_url,
        team: team.clone(),
    });
    let secret = home.team_password_file();
    match &password {
        Some(password) => save_private(&secret, password)?,
        None => remove_if_there(&secret)?,
    }
    settings.save(&home.settings_file())?;
    let overridden = std::env::var(tandem_store::paths::STORE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|_| {
            format!(
                " While {} is set in this shell, processes started from it use that instead.",
                tandem_store::paths::STORE_ENV
            )
        })
        .unwrap_or_default();
    let text = format!(
        "This computer is in team {team} on {} as {}. Every Tandem process here uses the \
         team's memory from now on: servers that are running switch when their client starts \
         them again (restart Claude Desktop; /mcp in Claude Code). The memory on this \
         computer stays in {}.{overridden}",
        store.shown(),
        store.member(),
        ctx.shown(&home.memory_db()),
    );
    term::stdout().write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn remove_if_there(path: &std::path::Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn leave(ctx: &Context) -> anyhow::Result<ExitCode> {
    let home = &ctx.home;
    let mut settings = home.settings()?;
    let Some(joined) = settings.team.take() else {
        writeln!(
            term::stdout(),
            "This computer is not in a team; its memory is {}.",
            ctx.shown(&home.memory_db())
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    settings.save(&home.settings_file())?;
    remove_if_there(&home.team_password_file())?;
    let text = format!(
        "This computer left team {} and uses its own memory again ({}). Nothing on the \
         server was deleted; `tandem team join` joins again.",
        joined.team,
        ctx.shown(&home.memory_db())
    );
    term::stdout().write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn status(ctx: &Context, as_json: bool) -> anyhow::Result<ExitCode> {
    let home = &ctx.home;
    let location = home.memory_location()?;
    let from = if std::env::var(tandem_store::paths::STORE_ENV).is_ok_and(|v| !v.trim().is_empty())
    {
        tandem_store::paths::STORE_ENV
    } else if home.settings()?.team.is_some() {
        "joined"
    } else {
        "default"
    };
    let mut out = term::stdout();
    let StoreLocation::Team {
        url,
        team,
        saved_password,
    } = &location
    else {
        let StoreLocation::File(db) = &location else {
            unreachable!()
        };
        let entries = if db.is_file() {
            MemoryStore::open(db)
                .and_then(|s| s.stats())
                .map(|s| s.entries)
                .ok()
        } else {
            Some(0)
        };
        if as_json {
            let report = json!({"engine": "sqlite", "path": db, "from": from, "entries": entries});
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        } else {
            let text = format!(
                "Memory is this computer's own: {}{}. Not in a team: `tandem team join URL` \
                 joins one.",
                ctx.shown(db),
                entries
                    .map(|n| format!(" ({n} entries)"))
                    .unwrap_or_default()
            );
            out.write_all(term::wrap(&text, "", "").as_bytes())?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let started = Instant::now();
    let reached = TeamMemory::connect(url, team, saved_password.as_deref()).and_then(|store| {
        let connected = started.elapsed();
        let info = store.server_info()?;
        let newest = store.changes(None, Some(1))?.changes.into_iter().next();
        let entries = store.stats()?.entries;
        Ok((store, info, connected, newest, entries))
    });
    let shown_url = StoreLocation::without_password(url);
    let (store, info, connected, newest, entries) = match reached {
        Ok(found) => found,
        Err(e) => {
            if as_json {
                let report = json!({
                    "engine": "postgres", "url": shown_url, "team": team, "from": from,
                    "reachable": false, "error": e.to_string(),
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                let text = format!("Team {team} on {shown_url} cannot be reached: {e}");
                term::stderr().write_all(term::wrap(&text, "", "").as_bytes())?;
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let team_store = &store;
    if as_json {
        let report = json!({
            "engine": "postgres",
            "url": shown_url,
            "team": team,
            "from": from,
            "reachable": true,
            "server": info.version,
            "schema": info.schema,
            "member": team_store.member(),
            "members": info.members,
            "keepVersions": info.keep_versions,
            "latencyMs": info.latency.as_secs_f64() * 1000.0,
            "connectMs": connected.as_secs_f64() * 1000.0,
            "entries": entries,
            "lastChange": newest,
            "passwordFrom": password_source(url, saved_password.is_some()),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows = [
        ("Engine", "PostgreSQL (team store)".to_string()),
        ("Team", format!("{team} on {}", team_store.shown())),
        ("Server", info.version.clone()),
        ("Member", team_store.member().to_string()),
        (
            "Members",
            if info.members.is_empty() {
                "none yet (`tandem team add-member NAME`)".into()
            } else {
                info.members.join(", ")
            },
        ),
        (
            "Latency",
            format!(
                "{:.1} ms a round trip; connecting took {:.0} ms",
                info.latency.as_secs_f64() * 1000.0,
                connected.as_secs_f64() * 1000.0
            ),
        ),
        ("Entries", entries.to_string()),
        ("History", history_kept(info.keep_versions)),
        (
            "Last change",
            match &newest {
                Some(c) => format!(
                    "#{} {} {} by {}, {}",
                    c.seq,
                    c.op.as_str(),
                    c.key,
                    c.by,
                    c.at
                ),
                None => "none yet".into(),
            },
        ),
        (
            "Password",
            password_source(url, saved_password.is_some()).to_string(),
        ),
    ];
    for (label, value) in rows {
        let first = format!("{label:<14} ");
        out.write_all(term::wrap(&value, &first, &" ".repeat(15)).as_bytes())?;
    }
    if from == tandem_store::paths::STORE_ENV {
        writeln!(out, "(chosen by {} in this environment)", from)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How much history a team keeps, in words.
fn history_kept(keep: Option<u32>) -> String {
    match keep {
        None => "every version of every key".into(),
        Some(1) => "the current version of each key only".into(),
        Some(n) => format!("the newest {n} versions of each key"),
    }
}

/// `team keep-history`: how many versions of each key the team keeps.
fn keep_history(home: &Home, keep: Option<u32>, store: Option<String>) -> anyhow::Result<ExitCode> {
    let store = owner_store(home, store)?;
    let removed = store.keep_versions(keep)?;
    let text = format!(
        "Team {} keeps {} from now on{}.",
        store.team(),
        history_kept(keep),
        if removed > 0 {
            format!(
                "; {removed} older version{} removed",
                if removed == 1 { " was" } else { "s were" }
            )
        } else {
            String::new()
        }
    );
    term::stdout().write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Where the password came from, for status (never the password).
fn password_source(url: &str, saved: bool) -> &'static str {
    if StoreLocation::url_password(url).is_some() {
        "in the URL"
    } else if saved {
        "saved in the state folder (team-password, this user only)"
    } else if std::env::var_os("PGPASSWORD").is_some() {
        "PGPASSWORD"
    } else {
        "~/.pgpass, or none"
    }
}

/// `url` naming `team` (`?team=`, or `&team=` after other settings).
fn with_team(url: &str, team: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}team={team}")
}

/// `text` as one shell word (single-quoted when it holds anything a shell would read).
fn shell_word(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/:@.-_%".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
