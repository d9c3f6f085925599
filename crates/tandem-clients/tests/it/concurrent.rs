use std::{
    fs::OpenOptions,
    io::Write,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::Value;
use tandem_clients::ClientId;

use super::common::{Fixture, json};

/// Rewrites the file the way Claude Code does — read, change, truncate, write in pieces —
/// adding one key of its own each time, until told to stop. Returns how many keys it added.
fn claude_code_like_writer(path: std::path::PathBuf, stop: Arc<AtomicBool>) -> usize {
    let mut added = 0;
    while !stop.load(Ordering::Relaxed) && added < 2000 {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(mut v) = serde_json::from_str::<Value>(&text) else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        v[format!("writer{added}")] = Value::from(added);
        let out = serde_json::to_string_pretty(&v).unwrap();
        let (a, b) = out.split_at(out.len() / 2);
        let mut file = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        file.write_all(a.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_micros(300));
        file.write_all(b.as_bytes()).unwrap();
        drop(file);
        added += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    added
}

#[test]
fn a_writer_rewriting_the_file_during_installs_loses_none_of_its_keys() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, "{\n  \"numStartups\": 1\n}\n");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || claude_code_like_writer(path, stop))
    };
    let mut redone = 0;
    for _ in 0..60 {
        let applied = f.install(ClientId::ClaudeCode);
        redone += applied.files[0].attempts - 1;
        let applied = f.uninstall(ClientId::ClaudeCode);
        redone += applied.files[0].attempts - 1;
    }
    stop.store(true, Ordering::Relaxed);
    let added = writer.join().unwrap();
    f.install(ClientId::ClaudeCode);

    let v = json(&path);
    assert!(added > 10, "the writer ran ({added} rewrites)");
    for i in 0..added {
        assert_eq!(v[format!("writer{i}")], i, "writer key {i} of {added} lost");
    }
    assert_eq!(v["numStartups"], 1);
    assert!(v["mcpServers"]["tandem-memory"].is_object());
    assert!(v["mcpServers"]["tandem-workspace"].is_object());
    eprintln!("{added} concurrent rewrites, {redone} edits redone");

    // A stale rewrite can bring back a container Tandem had removed, after which Tandem no
    // longer counts it as its own: only the entries are checked here.
    f.uninstall(ClientId::ClaudeCode);
    let v = json(&path);
    assert!(v["mcpServers"].get("tandem-memory").is_none());
    assert!(v["mcpServers"].get("tandem-workspace").is_none());
    assert_eq!(v[format!("writer{}", added - 1)], added - 1);
}
