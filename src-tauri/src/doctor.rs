//! Doctor probes from the app: the installer's own doctor (`tandem_clients::ChildProbe`) starts
//! every configured Tandem entry as its client would and checks `initialize` and `tools/list`.
//! The app runs it at start and every 5 minutes on its own thread (never the UI's), and when
//! the person asks; the result is kept in `$TANDEM_HOME/doctor.json`, where `tandem status`
//! reads it too (and where the app finds what `tandem doctor` last found).

use tandem_clients::{ClientId, DoctorRecord, Installer, Probe, ProbeTarget, Scope};
use tandem_store::Home;

/// Every Tandem entry in every client's user config.
pub fn targets(installer: &Installer) -> Vec<ProbeTarget> {
    ClientId::ALL
        .into_iter()
        .flat_map(|id| match installer.probe_targets(id, &Scope::User) {
            Ok(t) => t,
            Err(e) => {
                log::debug!("no probe targets for {id}: {e}");
                Vec::new()
            }
        })
        .collect()
}

/// Probes every target and keeps the record.
pub fn run(installer: &Installer, probe: &dyn Probe) -> DoctorRecord {
    let targets = targets(installer);
    let results: Vec<_> = targets
        .into_iter()
        .map(|t| {
            let report = probe.probe(&t);
            (t, report)
        })
        .collect();
    let record = DoctorRecord::new(&results);
    if let Err(e) = record.save(installer.home()) {
        log::warn!("keeping the doctor's result: {e}");
    }
    record
}

/// What the doctor found last, whoever ran it.
pub fn last(home: &Home) -> Option<DoctorRecord> {
    DoctorRecord::load(home).ok().flatten()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tandem_clients::{HostEnv, Os, ProbeOutcome, ProbeReport, ServerEntry};

    use super::*;

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
        let entries = tandem_clients::entry::tandem_entries(&bin, installer.host(), None);
        let plan = installer
            .plan_install(ClientId::ClaudeCode, &entries, &Default::default())
            .unwrap();
        installer.apply(&plan).unwrap();
        assert!(last(&home).is_none());
        let record = run(&installer, &Answers);
        assert_eq!(record.checks.len(), 2);
        assert!(record.passed);
        assert_eq!(record.checks[0].latency_ms, 12);
        assert_eq!(last(&home).unwrap(), record);
    }
}
