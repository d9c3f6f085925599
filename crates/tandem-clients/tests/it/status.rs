use tandem_clients::{ClientId, Health, Scope};

use super::common::Fixture;

#[test]
fn status_reports_entries_and_whether_they_still_work() {
    let f = Fixture::new();
    let s = f
        .installer
        .status(ClientId::Cursor, &Scope::User, None)
        .unwrap();
    assert!(!s.detection.detected());
    assert!(!s.files[0].exists && s.files[0].entries.is_empty());
    assert!(!s.healthy());

    f.install(ClientId::Cursor);
    let s = f
        .installer
        .status(ClientId::Cursor, &Scope::User, Some(&f.entries()))
        .unwrap();
    assert!(s.detection.detected(), "the config folder now exists");
    let names: Vec<_> = s.files[0].entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["tandem-workspace", "tandem-memory"]);
    assert!(s.healthy(), "{s:?}");

    std::fs::remove_file(&f.bin).unwrap();
    let s = f
        .installer
        .status(ClientId::Cursor, &Scope::User, None)
        .unwrap();
    assert!(matches!(
        s.files[0].entries[0].health,
        Health::BinaryMissing { .. }
    ));
    assert!(!s.healthy());
    let targets = f
        .installer
        .probe_targets(ClientId::Cursor, &Scope::User)
        .unwrap();
    assert_eq!(targets.len(), 2);
}

#[test]
fn status_flags_foreign_outdated_and_malformed() {
    let f = Fixture::new();
    let bin = f.bin.to_string_lossy().into_owned();
    f.write(
        ClientId::ClaudeDesktop,
        &format!(
            "{{\"mcpServers\": {{\"tandem-memory\": {{\"command\": \"npx\", \"args\": []}}, \
             \"tandem-workspace\": {{\"command\": {bin:?}, \"args\": [\"mcp\", \"memory\"]}}}}}}"
        ),
    );
    let s = f
        .installer
        .status(ClientId::ClaudeDesktop, &Scope::User, Some(&f.entries()))
        .unwrap();
    let health: Vec<_> = s.files[0]
        .entries
        .iter()
        .map(|e| e.health.clone())
        .collect();
    assert_eq!(health[0], Health::Foreign);
    assert!(matches!(health[1], Health::UnexpectedArgs { .. }));

    f.write(ClientId::Gemini, "{oops");
    let s = f
        .installer
        .status(ClientId::Gemini, &Scope::User, None)
        .unwrap();
    assert!(s.files[0].problem.as_deref().unwrap().contains("line 1"));
}
