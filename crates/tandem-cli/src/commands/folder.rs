//! `tandem folder`: where this installation keeps its state, its shared folder and its store,
//! what the hub on its port serves, and moving the shared folder (a saved setting).

use std::{io::Write as _, process::ExitCode};

use tandem_clients::HubReport;
use tandem_store::{Home, paths};

use super::Context;
use crate::{cli::FolderCommand, term};

pub fn run(ctx: &Context, action: Option<FolderCommand>) -> anyhow::Result<ExitCode> {
    let mut out = term::stdout();
    match action {
        None => show(ctx, &ctx.home)?,
        Some(FolderCommand::Set { dir }) => {
            let moved = ctx.home.move_shared_dir(Some(&dir))?;
            report_move(ctx, &moved)?;
        }
        Some(FolderCommand::Reset) => {
            let moved = ctx.home.move_shared_dir(None)?;
            report_move(ctx, &moved)?;
        }
        Some(FolderCommand::Dismiss) => match ctx.home.leftover() {
            Some(leftover) => {
                ctx.home.dismiss_leftover(&leftover.folder)?;
                let text = format!(
                    "Tandem no longer mentions {}; its files stay where they are.",
                    ctx.shown(&leftover.folder)
                );
                out.write_all(term::wrap(&text, "", "").as_bytes())?;
            }
            None => writeln!(out, "There is no notice to dismiss.")?,
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn report_move(ctx: &Context, moved: &Home) -> anyhow::Result<()> {
    let mut out = term::stdout();
    let before = ctx.home.shared_dir();
    if before == moved.shared_dir() {
        writeln!(
            out,
            "The shared folder is {} already.",
            ctx.shown(moved.shared_dir())
        )?;
        return Ok(());
    }
    let files = tandem_store::workspace::files_beyond_seed(before);
    let kept = if files > 0 {
        format!(
            " Nothing was moved: {} still holds {files} file{} of yours.",
            ctx.shown(before),
            if files == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    let text = format!(
        "The shared folder is now {}, for every Tandem server started from now on (the Tandem \
         app restarts its hub by itself). Restart Claude Desktop and Claude Code so that their \
         servers use it.{kept}",
        ctx.shown(moved.shared_dir())
    );
    out.write_all(term::wrap(&text, "", "").as_bytes())?;
    Ok(())
}

fn show(ctx: &Context, home: &Home) -> anyhow::Result<()> {
    let mut out = term::stdout();
    let saved = home.shared_dir() != home.default_shared_dir();
    let how = if saved {
        format!("saved in {}", ctx.shown(&home.settings_file()))
    } else {
        "the default".to_string()
    };
    writeln!(
        out,
        "Shared folder  {} ({how})",
        ctx.shown(home.shared_dir())
    )?;
    writeln!(out, "State folder   {}", ctx.shown(home.state_dir()))?;
    let store = match home.memory_location()? {
        tandem_store::memory::StoreLocation::File(db) => ctx.shown(&db),
        team => team.shown(),
    };
    writeln!(out, "Store          {store}")?;
    let port = paths::hub_port_from_env();
    let report = HubReport::check(port);
    let hub = match report.stale(home, port) {
        Some(why) => term::paint(term::FAIL, &why),
        None if report.is_up() => format!("127.0.0.1:{port}, serving these folders"),
        None => format!("127.0.0.1:{port}, not running"),
    };
    out.write_all(term::wrap(&hub, "Hub            ", &" ".repeat(15)).as_bytes())?;
    if let Some(leftover) = home.leftover() {
        let text = format!(
            "{} (`tandem folder dismiss` hides this.)",
            leftover.message()
        );
        out.write_all(term::wrap(&text, "\n", "").as_bytes())?;
    }
    Ok(())
}
