//! Shared helpers for the end-to-end tests: an isolated home, the built binaries, MCP clients
//! with a chosen `clientInfo`, raw stdio sessions and the pinned npm tools.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod desktop;
mod home;
mod hub;
mod mcp;
mod node;
mod wine;

pub use home::*;
pub use hub::*;
pub use mcp::*;
pub use node::*;
pub use wine::*;

use std::path::{Path, PathBuf};

/// The target directory this test binary was built into (`…/target/debug`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/debug/deps/e2e-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The `tandem` binary under test: `$TANDEM_BIN`, else the one built next to this test.
pub fn tandem_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TANDEM_BIN") {
        return PathBuf::from(bin);
    }
    let bin = target_profile_dir().join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo xtask test` (it builds `tandem` before the tests)",
        bin.display()
    );
    bin
}

/// The test `$name(home)` once per engine: in a home with the SQLite file, and in one whose
/// memory is a team on the run's PostgreSQL (`TANDEM_STORE`), through the same binary.
#[macro_export]
macro_rules! on_each_engine {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn on_sqlite() {
                super::$name($crate::TestHome::new()).await
            }
            #[tokio::test]
            async fn on_postgres() {
                super::$name($crate::TestHome::on_team_store()).await
            }
        }
    };
    ($name:ident, multi_thread) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                super::$name($crate::TestHome::new()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                super::$name($crate::TestHome::on_team_store()).await
            }
        }
    };
}
