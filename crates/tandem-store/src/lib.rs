//! Tandem's state: the shared memory store (SQLite in WAL mode, safe for many processes),
//! and where everything lives on disk.

pub mod brief;
pub mod error;
pub mod memory;
pub mod news;
pub mod origin;
pub mod paths;
pub mod settings;
pub mod text;
pub mod watch;
pub mod workspace;

pub use error::{Result, StoreError};
pub use paths::{Home, Leftover, Served};
pub use settings::Settings;
pub use workspace::{Workspace, WorkspaceError};
