//! The last doctor result, kept in `$TANDEM_HOME/doctor.json` (replaced atomically) so that
//! `tandem status` and the tray app can show it without starting anything.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tandem_store::Home;

use crate::{
    catalog::ClientId,
    error::{ClientsError, Result},
    install::Installer,
    probe::{Probe, ProbeOutcome, ProbeReport, ProbeTarget},
    writer,
};

const VERSION: u32 = 1;

/// One probed entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorCheck {
    /// The client id (`claude-desktop`, …).
    pub client: String,
    pub config_path: PathBuf,
    pub name: String,
    /// When this entry was checked (RFC 3339, UTC).
    #[serde(default)]
    pub at: String,
    pub outcome: ProbeOutcome,
    pub latency_ms: u64,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default)]
    pub tools: usize,
}

impl DoctorCheck {
    pub fn passed(&self) -> bool {
        self.outcome == ProbeOutcome::Passed
    }

    pub fn failed(&self) -> bool {
        self.outcome == ProbeOutcome::Failed
    }
}

/// What the last `tandem doctor` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorRecord {
    pub version: u32,
    /// When it ran (RFC 3339, UTC).
    pub at: String,
    /// No check failed (and there was at least one).
    pub passed: bool,
    pub checks: Vec<DoctorCheck>,
}

impl DoctorRecord {
    /// A record of `results`, dated now.
    pub fn new(results: &[(ProbeTarget, ProbeReport)]) -> Self {
        let at = tandem_store::memory::now_rfc3339();
        let checks: Vec<DoctorCheck> = results
            .iter()
            .map(|(t, r)| DoctorCheck {
                client: t.client.to_string(),
                config_path: t.config_path.clone(),
                name: t.name.clone(),
                at: at.clone(),
                outcome: r.outcome,
                latency_ms: u64::try_from(r.latency.as_millis()).unwrap_or(u64::MAX),
                detail: r.detail.clone(),
                fix: r.fix.clone(),
                server: r.server.clone(),
                tools: r.tools.len(),
            })
            .collect();
        Self::of(at, checks)
    }

    fn of(at: String, checks: Vec<DoctorCheck>) -> Self {
        Self {
            version: VERSION,
            at,
            passed: !checks.is_empty() && !checks.iter().any(DoctorCheck::failed),
            checks,
        }
    }

    /// This record plus the checks of `previous` for clients this run did not probe (a
    /// `doctor --client X` keeps what is known of the others).
    pub fn keeping_others(self, previous: &DoctorRecord, probed: &[ClientId]) -> Self {
        let mut checks = self.checks;
        checks.extend(
            previous
                .checks
                .iter()
                .filter(|c| !probed.iter().any(|id| id.as_str() == c.client))
                .cloned(),
        );
        Self::of(self.at, checks)
    }

    pub fn path(home: &Home) -> PathBuf {
        home.doctor_file()
    }

    /// The last record; `None` when doctor never ran.
    pub fn load(home: &Home) -> Result<Option<Self>> {
        let path = Self::path(home);
        let Some(bytes) = writer::read(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ClientsError::State {
                path,
                reason: e.to_string(),
            })
    }

    /// Replaces the record atomically.
    pub fn save(&self, home: &Home) -> Result<()> {
        let path = Self::path(home);
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| ClientsError::State {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        writer::replace(&path, &bytes)
    }

    /// The checks of one client.
    pub fn for_client(&self, id: ClientId) -> impl Iterator<Item = &DoctorCheck> {
        self.checks.iter().filter(move |c| c.client == id.as_str())
    }
}

/// Every Tandem entry in every client's user config, probed at once, the record kept for
/// `tandem status` and the app (the app's doctor; `tandem doctor` reports per client).
pub fn run(installer: &Installer, probe: &dyn Probe) -> DoctorRecord {
    let targets: Vec<ProbeTarget> = ClientId::ALL
        .into_iter()
        .flat_map(|id| {
            installer
                .probe_targets(id, &crate::catalog::Scope::User)
                .unwrap_or_default()
        })
        .collect();
    let reports = probe.probe_each(&targets);
    let results: Vec<_> = targets.into_iter().zip(reports).collect();
    let record = DoctorRecord::new(&results);
    // The record is a convenience for later readers; the result stands without it.
    let _ = record.save(installer.home());
    record
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, time::Duration};

    use super::*;
    use crate::{ServerEntry, probe::ProbeOutcome};

    #[test]
    fn records_round_trip_and_say_whether_everything_passed() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("state"));
        assert_eq!(DoctorRecord::load(&home).unwrap(), None);
        let target = ProbeTarget {
            client: ClientId::ClaudeCode,
            config_path: "/h/.claude.json".into(),
            name: "tandem-memory".into(),
            entry: ServerEntry::Stdio {
                command: "/t/tandem".into(),
                args: vec!["mcp".into(), "memory".into()],
                env: BTreeMap::new(),
            },
        };
        let report = ProbeReport {
            outcome: ProbeOutcome::Passed,
            latency: Duration::from_millis(42),
            detail: "ok".into(),
            fix: None,
            server: Some("tandem 0.1.0".into()),
            tools: vec!["memory_get".into()],
            stderr_tail: String::new(),
            log_tail: None,
        };
        let record = DoctorRecord::new(&[(target.clone(), report.clone())]);
        assert!(record.passed);
        record.save(&home).unwrap();
        let loaded = DoctorRecord::load(&home).unwrap().unwrap();
        assert_eq!(loaded, record);
        assert_eq!(loaded.for_client(ClientId::ClaudeCode).count(), 1);
        assert_eq!(loaded.for_client(ClientId::Cursor).count(), 0);
        assert_eq!(loaded.checks[0].latency_ms, 42);

        let failed = ProbeReport {
            outcome: ProbeOutcome::Failed,
            ..report.clone()
        };
        let failing = DoctorRecord::new(&[(target.clone(), failed)]);
        assert!(!failing.passed);
        assert!(!DoctorRecord::new(&[]).passed);

        // A run for one client keeps the others' checks, and their verdict.
        let desktop = ProbeTarget {
            client: ClientId::ClaudeDesktop,
            ..target
        };
        let merged = DoctorRecord::new(&[(desktop, report)])
            .keeping_others(&failing, &[ClientId::ClaudeDesktop]);
        assert_eq!(merged.checks.len(), 2);
        assert!(!merged.passed, "Claude Code's failure is still known");
        let again = DoctorRecord::new(&[]).keeping_others(&merged, &[ClientId::ClaudeCode]);
        assert_eq!(again.checks.len(), 1);
        assert!(again.passed);
    }
}

#[cfg(test)]
mod run_tests {
    use std::time::Duration;

    use tandem_store::Home;

    use super::*;
    use crate::{HostEnv, Os, ServerEntry};

    struct Answers;

    impl Probe for Answers {
        fn probe(&self, target: &ProbeTarget) -> ProbeReport {
            let ServerEntry::Stdio { command, .. } = &target.entry else {
                unreachable!()
            };
            let ok = !command.contains("missing");
            ProbeReport {
                outcome: if ok {
                    ProbeOutcome::Passed
                } else {
                    ProbeOutcome::Failed
                },
                latency: Duration::from_millis(12),
                detail: if ok { "answered" } else { "not found" }.into(),
                fix: None,
                server: None,
                tools: Vec::new(),
                stderr_tail: String::new(),
                log_tail: None,
            }
        }
    }

    #[test]
    fn every_configured_entry_is_probed_and_the_record_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("state"));
        let host = HostEnv::new(Os::current(), dir.path().join("home"));
        let installer = Installer::new(home.clone(), host);
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let bin = dir.path().join("tandem");
        std::fs::write(&bin, "").unwrap();
        let entries = crate::entry::tandem_entries(&bin, installer.host(), None);
        let plan = installer
            .plan_install(ClientId::ClaudeCode, &entries, &Default::default())
            .unwrap();
        installer.apply(&plan).unwrap();
        assert!(DoctorRecord::load(&home).unwrap().is_none());
        let record = run(&installer, &Answers);
        assert_eq!(record.checks.len(), 2);
        assert!(record.passed);
        assert_eq!(record.checks[0].latency_ms, 12);
        assert_eq!(DoctorRecord::load(&home).unwrap().unwrap(), record);
    }
}
