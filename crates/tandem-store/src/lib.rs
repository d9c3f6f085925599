//! Tandem's state: the shared memory store (SQLite in WAL mode, safe for many processes),
//! and where everything lives on disk.

pub mod error;
pub mod memory;
pub mod paths;
pub mod watch;

pub use error::{Result, StoreError};
pub use paths::Home;
