//! MCP clients: where each keeps its config, and editing those files safely.
//!
//! The flow for an install (CLI or tray): build entries ([`entry::tandem_entries`]), then
//! [`Installer::plan_install`] per client, show each [`FilePlan::diff`], and
//! [`Installer::apply`]. [`Installer::status`] reports what is installed and whether it still
//! works; [`probe::ChildProbe`] starts each entry as its client would (doctor), and
//! [`doctor::DoctorRecord`] keeps the last result.

pub mod catalog;
pub mod doctor;
mod edit;
pub mod entry;
pub mod error;
pub mod extension;
pub mod hook;
pub mod host;
pub mod hub;
pub mod install;
mod layout;
pub mod plugin;
pub mod probe;
pub mod reach;
pub mod share;
mod state;
pub mod status;
pub mod writer;

pub use catalog::{Client, ClientId, Detection, Format, Reload, Scope, Transport};
pub use doctor::{DoctorCheck, DoctorRecord};
pub use entry::{NamedEntry, ServerEntry};
pub use error::{ClientsError, Result};
pub use host::{HostEnv, Os};
pub use hub::{HubHealth, HubReport};
pub use install::{
    Applied, AppliedFile, EntryAction, EntryChange, FilePlan, InstallOptions, Installer, Outcome,
    Plan, SecretInFile, UninstallOptions,
};
pub use probe::{ChildProbe, Probe, ProbeOutcome, ProbeReport, ProbeTarget};
pub use reach::{Reach, tandem_entries_for};
pub use share::{Share, SharedServer, Shares};
pub use status::{ClientStatus, EntryStatus, FileStatus, Health};
