//! `tandem team` against the run's PostgreSQL, through the real binary: an owner sets a team
//! up and adds a member, the member's "machine" (a home of its own, no `TANDEM_STORE`) joins
//! with what was printed, and every process there then uses the team; writes carry the
//! member's role; losing the connection is recovered from; the member is removed.

use std::{process::Stdio, time::Duration};

use serde_json::{Value, json};
use tandem_tests::{Ran, TestClient, TestHome};

const MEMORY: &[&str] = &["mcp", "memory"];

/// A team (schema) and the member roles a test made, dropped after.
struct Team {
    name: String,
    members: Vec<String>,
}

impl Team {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Self {
            name: format!("t_{tag}_{}_{nanos}", std::process::id()),
            members: Vec::new(),
        }
    }

    /// A member's name, unique to this test (roles are the server's, not the schema's).
    fn member(&mut self, name: &str) -> String {
        let role = format!("{name}_{}", &self.name[2..]);
        self.members.push(role.clone());
        role
    }

    /// The owner's URL (the run's superuser), with its password.
    fn owner_url(&self) -> String {
        let var = |name: &str| std::env::var(name).unwrap();
        format!(
            "postgres://{}:{}@{}:{}/{}?team={}",
            var("PGUSER"),
            var("PGPASSWORD"),
            var("PGHOST"),
            var("PGPORT"),
            var("PGDATABASE"),
            self.name
        )
    }
}

/// Runs SQL as the run's superuser (psql, from Debian's PostgreSQL package; settings in PG*).
fn psql(sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args(["-qAtc", sql])
        .stderr(Stdio::inherit())
        .output()
        .expect("psql");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Drop for Team {
    fn drop(&mut self) {
        psql(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        for role in &self.members {
            psql(&format!("DROP ROLE IF EXISTS \"{role}\""));
        }
    }
}

/// The `tandem team join …` line `add-member` printed, as the URL it joins.
fn join_url(printed: &str) -> String {
    let line = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("tandem team join "))
        .unwrap_or_else(|| panic!("no join line in {printed}"));
    line.trim_matches('\'').to_string()
}

#[tokio::test]
async fn an_owner_adds_a_member_who_joins_writes_as_themselves_and_is_removed() {
    let mut team = Team::new("join");
    let owner = TestHome::new();
    let laptop = TestHome::new();
    let alice = team.member("alice");

    let init = owner.tandem(&["team", "init", &team.owner_url()]).await;
    init.expect_code(0);
    assert!(init.stdout.contains("is ready"), "{}", init.stdout);
    let added = owner
        .tandem(&["team", "add-member", &alice, "--store", &team.owner_url()])
        .await;
    added.expect_code(0);
    let url = join_url(&added.stdout);
    let password = tandem_store::memory::StoreLocation::url_password(&url).unwrap();
    assert!(url.contains(&format!("?team={}", team.name)), "{url}");

    // A wrong password saves nothing.
    let wrong = url.replace(&password, "not-it");
    let refused = laptop.tandem(&["team", "join", &wrong]).await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("password authentication failed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("nothing was saved"),
        "{}",
        refused.stderr
    );
    assert!(!laptop.tandem_home().join("settings.json").exists());

    let joined = laptop.tandem(&["team", "join", &url]).await;
    joined.expect_code(0);
    assert!(joined.stdout.contains(&alice), "{}", joined.stdout);
    // The password is in the private file only: not in the settings, not in any output.
    let settings = std::fs::read_to_string(laptop.tandem_home().join("settings.json")).unwrap();
    assert!(!settings.contains(&password), "{settings}");
    let secret = laptop.tandem_home().join("team-password");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), password);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Every process on the laptop now uses the team: a server started with no flag.
    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&laptop, MEMORY)
        .await;
    code.ok(
        "memory_set",
        json!({"key": "auth-approach", "value": {"method": "JWT"}}),
    )
    .await;
    let got = code
        .ok("memory_get", json!({"keys": ["auth-approach"]}))
        .await;
    assert_eq!(
        got["entries"][0]["updatedBy"],
        format!("claude-code 2.1.332 · {alice}")
    );
    assert!(!laptop.memory_db().exists(), "no local database was made");

    let status = laptop.tandem(&["team", "status", "--json"]).await;
    status.expect_code(0);
    assert!(!status.stdout.contains(&password), "{}", status.stdout);
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(report["engine"], "postgres");
    assert_eq!(report["member"], alice.as_str());
    assert_eq!(report["from"], "joined");
    assert_eq!(report["entries"], 1);
    assert_eq!(report["lastChange"]["key"], "auth-approach");
    assert!(report["server"].as_str().unwrap().starts_with("15"));
    let shown = laptop.tandem(&["team", "status"]).await;
    assert!(!shown.stdout.contains(&password), "{}", shown.stdout);
    assert!(shown.stdout.contains("Last change"), "{}", shown.stdout);

    // A member's rights are the team's tables only, and history is append-only to them.
    let as_alice = |sql: &str| {
        let out = std::process::Command::new("psql")
            .args([
                &url.replace(&format!("?team={}", team.name), ""),
                "-qAtc",
                sql,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let rewrite = as_alice(&format!("DELETE FROM \"{}\".versions", team.name));
    assert!(rewrite.contains("permission denied"), "{rewrite}");
    let create = as_alice(&format!("CREATE TABLE \"{}\".mine (a int)", team.name));
    assert!(create.contains("permission denied"), "{create}");

    let removed = owner
        .tandem(&[
            "team",
            "remove-member",
            &alice,
            "--store",
            &team.owner_url(),
        ])
        .await;
    removed.expect_code(0);
    assert!(
        removed.stdout.contains("role is dropped"),
        "{}",
        removed.stdout
    );
    // The running server's session was ended; its next write is refused at once, clearly.
    let refused = code
        .err("memory_set", json!({"key": "after", "value": 1}))
        .await;
    assert!(
        refused.contains("password authentication failed") || refused.contains("permission denied"),
        "{refused}"
    );
    code.close().await;
    let down = laptop.tandem(&["team", "status"]).await;
    down.expect_code(1);

    let left = laptop.tandem(&["team", "leave"]).await;
    left.expect_code(0);
    assert!(!secret.exists());
    let back = laptop.tandem(&["team", "status", "--json"]).await;
    let report: Value = serde_json::from_str(&back.stdout).unwrap();
    assert_eq!(report["engine"], "sqlite");
    // Nothing on the server was deleted.
    assert_eq!(
        psql(&format!("SELECT count(*) FROM \"{}\".entries", team.name)),
        "1"
    );
}

#[tokio::test]
async fn a_member_cannot_set_up_a_team_and_a_non_postgres_url_is_a_usage_mistake() {
    let mut team = Team::new("rights");
    let owner = TestHome::new();
    let bob = team.member("bob");
    owner
        .tandem(&["team", "init", &team.owner_url()])
        .await
        .expect_code(0);
    let added = owner
        .tandem(&["team", "add-member", &bob, "--store", &team.owner_url()])
        .await;
    let url = join_url(&added.stdout);
    let elsewhere = url.replace(&team.name, &format!("{}_other", team.name));
    let refused = TestHome::new().tandem(&["team", "init", &elsewhere]).await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("may not set up the team"),
        "{}",
        refused.stderr
    );
    let not_pg = owner.tandem(&["team", "join", "/tmp/memory.db"]).await;
    not_pg.expect_code(1);
    assert!(
        not_pg.stderr.contains("not a PostgreSQL URL"),
        "{}",
        not_pg.stderr
    );
    let nobody = owner.tandem(&["team", "add-member", "x"]).await;
    nobody.expect_code(1);
    assert!(nobody.stderr.contains("not in a team"), "{}", nobody.stderr);
}

/// The server restarting (every connection cut by the server) mid-session: the memory server
/// connects again by itself, a write after it is done once, a retried compare-and-swap write
/// is refused rather than applied twice, and the live notifications resume — with what was
/// committed while the doorbell was down.
#[tokio::test]
async fn a_lost_connection_is_made_again_and_nothing_is_applied_twice() {
    let home = TestHome::on_team_store();
    let watcher = TestClient::named("claude-code", "1")
        .connect(&home, MEMORY)
        .await;
    let writer = TestClient::named("claude-ai", "1")
        .connect(&home, MEMORY)
        .await;
    writer
        .ok("memory_set", json!({"key": "counter", "value": 1}))
        .await;
    assert!(
        watcher
            .wait_for(Duration::from_secs(10), |h| h.list_changed >= 1)
            .await
    );
    let cut = psql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = 'tandem {}'",
        home.team_name().unwrap()
    ));
    assert!(
        cut.parse::<i32>().unwrap() >= 4,
        "cut {cut} connections of {}",
        psql("SELECT string_agg(application_name, ', ') FROM pg_stat_activity")
    );
    let heard_before = watcher.client.heard.lock().unwrap().list_changed;

    let set = writer
        .ok(
            "memory_set",
            json!({"key": "counter", "value": 2, "expectedVersion": 1}),
        )
        .await;
    assert_eq!(set["version"], 2);
    let again = writer
        .err(
            "memory_set",
            json!({"key": "counter", "value": 2, "expectedVersion": 1}),
        )
        .await;
    assert!(again.contains("current version is 2"), "{again}");
    let history = watcher
        .ok("memory_history", json!({"key": "counter"}))
        .await;
    assert_eq!(
        history["versions"].as_array().unwrap().len(),
        2,
        "{history}"
    );
    assert!(
        watcher
            .wait_for(Duration::from_secs(10), |h| h.list_changed > heard_before)
            .await,
        "no notification after the connection was made again"
    );
    watcher.close().await;
    writer.close().await;
}

#[tokio::test]
async fn a_database_that_is_not_there_is_an_error_at_once() {
    let home = TestHome::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://nobody:pw@127.0.0.1:{port}/db?team=x");
    let started = std::time::Instant::now();
    let ran: Ran = home.tandem(&["team", "join", &url]).await;
    ran.expect_code(1);
    assert!(ran.stderr.contains("nothing was saved"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("pw@"), "{}", ran.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
    let mut cmd = home.command(&["mcp", "memory", "--store", &url]);
    let out = cmd.stdin(Stdio::null()).output().await.unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Connection refused") || stderr.contains("connection refused"),
        "{stderr}"
    );
}

/// Runs `tandem hook EVENT` in `home` as Claude Code runs it (the hook's JSON on stdin).
async fn hook(home: &TestHome, event: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    // Through `timeout`: the hook's client process is then not this test, whose servers'
    // writes would be taken for the session's own.
    let mut child = tokio::process::Command::new("timeout")
        .arg("60")
        .arg(tandem_tests::tandem_bin())
        .args(["hook", event])
        .envs(home.env())
        .kill_on_drop(true)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input =
        json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "prompt": "go on"});
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two machines of one member, joined to one team: what Desktop records on the laptop reaches
/// Claude Code on the dev server at its next prompt (the prompt hook), and this computer's own
/// memory moves into the team with its history (`team import`), once, and back out
/// (`team export`).
#[tokio::test]
async fn two_machines_share_a_team_the_hook_tells_and_local_memory_moves_in_with_history() {
    let mut team = Team::new("machines");
    let owner = TestHome::new();
    let (laptop, server) = (TestHome::new(), TestHome::new());
    let ann = team.member("ann");
    owner
        .tandem(&["team", "init", &team.owner_url()])
        .await
        .expect_code(0);
    let added = owner
        .tandem(&["team", "add-member", &ann, "--store", &team.owner_url()])
        .await;
    let url = join_url(&added.stdout);

    // The laptop had memory of its own before it joined.
    let before = TestClient::named("claude-ai", "0.14.1")
        .connect(&laptop, MEMORY)
        .await;
    before
        .ok("memory_set", json!({"key": "db", "value": "sqlite"}))
        .await;
    before
        .ok(
            "memory_set",
            json!({"key": "db", "value": "postgres", "expectedVersion": 1}),
        )
        .await;
    before.close().await;

    for machine in [&laptop, &server] {
        machine.tandem(&["team", "join", &url]).await.expect_code(0);
    }
    let imported = laptop.tandem(&["team", "import"]).await;
    imported.expect_code(0);
    assert!(
        imported.stdout.contains("Copied 1 key (2 versions"),
        "{}",
        imported.stdout
    );
    let again = laptop.tandem(&["team", "import"]).await;
    assert!(again.stdout.contains("Copied 0 keys"), "{}", again.stdout);

    let brief = hook(&server, "session-start").await;
    assert!(brief.contains("db"), "{brief}");
    let desktop = TestClient::named("claude-ai", "0.14.1")
        .connect(&laptop, MEMORY)
        .await;
    desktop
        .ok(
            "memory_set",
            json!({"key": "auth-approach", "value": {"method": "JWT", "library": "jose"}}),
        )
        .await;
    let told = hook(&server, "prompt").await;
    assert!(told.contains("auth-approach"), "{told}");
    assert!(hook(&server, "prompt").await.is_empty(), "told once");

    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&server, MEMORY)
        .await;
    let history = code.ok("memory_history", json!({"key": "db"})).await;
    assert_eq!(history["versions"][0]["value"], "postgres");
    assert_eq!(history["versions"][1]["updatedBy"], "claude-ai 0.14.1");
    code.close().await;
    desktop.close().await;

    let backup = server.dir.path().join("backup.db");
    let exported = server
        .tandem(&["team", "export", "--db", &backup.to_string_lossy()])
        .await;
    exported.expect_code(0);
    let listed = server
        .tandem(&["memory", "export", "--db", &backup.to_string_lossy()])
        .await;
    let entries: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2, "{entries}");
}

/// TLS: the run's server speaks it with a certificate of its own (Debian's `ssl-cert`,
/// self-signed, for `localhost`). With no authority trusted (the system's roots pointed at an
/// empty file) a connection that requires TLS is refused at once with what to do, nothing is
/// saved; with that certificate given as `sslrootcert` the team is set up and every
/// connection Tandem makes is encrypted.
#[tokio::test]
async fn tls_is_checked_against_the_roots_given_and_a_stranger_s_certificate_is_refused() {
    let home = TestHome::new();
    let team = Team::new("tls");
    let cert_file = psql("SHOW ssl_cert_file");
    assert_eq!(psql("SHOW ssl"), "on", "the run's server has TLS");
    let nothing = home.mkdir("no-roots");
    let no_roots = nothing.join("none.pem");
    std::fs::write(&no_roots, "").unwrap();
    let with_tls = |cmd: &mut tokio::process::Command| {
        cmd.env("SSL_CERT_FILE", &no_roots)
            .env("SSL_CERT_DIR", &nothing);
    };
    let required = format!("{}&sslmode=require", team.owner_url());

    let mut init = home.command(&["team", "init", &required]);
    with_tls(init.stdin(Stdio::null()));
    let refused = Ran::from_output(init.output().await.unwrap());
    refused.expect_code(1);
    assert!(refused.stderr.contains("certificate"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("sslrootcert=PATH"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        psql(&format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = '{}'",
            team.name
        )),
        "0",
        "nothing was set up"
    );

    let trusted = format!("{required}&sslrootcert={cert_file}");
    let mut init = home.command(&["team", "init", &trusted]);
    with_tls(init.stdin(Stdio::null()));
    Ran::from_output(init.output().await.unwrap()).expect_code(0);
    let mut serve = home.command(&["mcp", "memory", "--store", &trusted]);
    with_tls(&mut serve);
    let client = TestClient::named("tls-test", "1")
        .connect_command(serve)
        .await;
    client
        .ok(
            "memory_set",
            json!({"key": "over-tls", "value": {"ok": true}}),
        )
        .await;
    let encrypted = psql(&format!(
        "SELECT string_agg(s.ssl::text, ',') FROM pg_stat_ssl s \
         JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tandem {}'",
        team.name
    ));
    assert!(
        !encrypted.is_empty() && encrypted.split(',').all(|s| s == "true"),
        "every connection of the server is encrypted: {encrypted}"
    );
    client.close().await;
}

/// History retention is the owner's team setting: every version by default; `keep-history N`
/// removes older versions at once and after each write (a member's too, through the owner's
/// trigger), never the current one; a member may not change it; `0` is a usage mistake.
#[tokio::test]
async fn the_owner_sets_how_much_history_the_team_keeps() {
    let mut team = Team::new("keep");
    let (owner, machine) = (TestHome::new(), TestHome::new());
    let cy = team.member("cy");
    let owner_url = team.owner_url();
    owner
        .tandem(&["team", "init", &owner_url])
        .await
        .expect_code(0);
    let added = owner
        .tandem(&["team", "add-member", &cy, "--store", &owner_url])
        .await;
    machine
        .tandem(&["team", "join", &join_url(&added.stdout)])
        .await
        .expect_code(0);
    let status = machine.tandem(&["team", "status"]).await;
    assert!(
        status.stdout.contains("every version of every key"),
        "{}",
        status.stdout
    );
    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&machine, MEMORY)
        .await;
    for n in 1..=5 {
        code.ok("memory_set", json!({"key": "plan", "value": n}))
            .await;
    }
    let kept = owner
        .tandem(&["team", "keep-history", "3", "--store", &owner_url])
        .await;
    kept.expect_code(0);
    assert!(
        kept.stdout.contains("newest 3 versions") && kept.stdout.contains("2 older versions"),
        "{}",
        kept.stdout
    );
    code.ok("memory_set", json!({"key": "plan", "value": 6}))
        .await;
    let history = code.ok("memory_history", json!({"key": "plan"})).await;
    let versions: Vec<i64> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![6, 5, 4], "{history}");
    assert_eq!(
        code.ok("memory_get", json!({"keys": ["plan"]})).await["entries"][0]["value"],
        6
    );
    code.close().await;

    let refused = machine.tandem(&["team", "keep-history", "all"]).await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("may not change how much history"),
        "{}",
        refused.stderr
    );
    owner
        .tandem(&["team", "keep-history", "0", "--store", &owner_url])
        .await
        .expect_code(2);
    let status = machine.tandem(&["team", "status", "--json"]).await;
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(report["keepVersions"], 3, "{report}");
    owner
        .tandem(&["team", "keep-history", "all", "--store", &owner_url])
        .await
        .expect_code(0);
    let status = machine.tandem(&["team", "status", "--json"]).await;
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(report["keepVersions"], Value::Null, "{report}");
}

/// A database too busy to answer (a lock held by someone else): the write is called off after
/// the session's statement time limit with an error that says so, nothing of it is saved, and
/// the same server writes again once the database answers.
#[tokio::test]
async fn a_database_too_slow_to_answer_calls_the_write_off_and_saves_nothing() {
    let home = TestHome::new();
    let team = Team::new("slow");
    home.tandem(&["team", "init", &team.owner_url()])
        .await
        .expect_code(0);
    let url = format!("{}&options=-c%20statement_timeout%3D700", team.owner_url());
    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&home, &["mcp", "memory", "--store", &url])
        .await;
    code.ok("memory_set", json!({"key": "a", "value": 1})).await;
    let mut holder = std::process::Command::new("psql")
        .args([
            "-qAtc",
            &format!(
                "BEGIN; LOCK TABLE \"{}\".feed_counter IN ACCESS EXCLUSIVE MODE; \
                 SELECT pg_sleep(4); COMMIT;",
                team.name
            ),
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let held = format!(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{}' AND c.relname = 'feed_counter' AND l.granted \
           AND l.mode = 'AccessExclusiveLock'",
        team.name
    );
    for _ in 0..100 {
        if psql(&held) == "1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(psql(&held), "1", "the lock is held");
    let started = std::time::Instant::now();
    let err = code
        .err(
            "memory_set",
            json!({"key": "a", "value": 2, "expectedVersion": 1}),
        )
        .await;
    let waited = started.elapsed();
    assert!(err.contains("time limit"), "{err}");
    assert!(err.contains("nothing of it was saved"), "{err}");
    assert!(
        waited < Duration::from_secs(3),
        "called off after {waited:?}"
    );
    assert!(holder.wait().unwrap().success());
    let read = code.ok("memory_get", json!({"keys": ["a"]})).await;
    assert_eq!(read["entries"][0]["value"], 1, "{read}");
    assert_eq!(read["entries"][0]["version"], 1, "{read}");
    code.ok(
        "memory_set",
        json!({"key": "a", "value": 2, "expectedVersion": 1}),
    )
    .await;
    code.close().await;
}

/// A network namespace of its own, joined to this one by a pair of virtual links, with a
/// forwarder on this side to the run's PostgreSQL: a "machine" whose network can be cut (its
/// packets vanish, nothing says so) and mended. Removed on drop.
struct Island {
    name: String,
    link: String,
    /// This side's address on the link, with its prefix.
    side: String,
    address: std::net::SocketAddr,
    forwarder: tokio::task::JoinHandle<()>,
}

fn ip(args: &[&str]) {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .expect("ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Island {
    async fn new() -> Self {
        let pid = std::process::id();
        let name = format!("tdm{pid}");
        let (link, inside) = (format!("tdm{pid}a"), format!("tdm{pid}b"));
        let net = format!("10.231.{}", pid % 250);
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &link, "type", "veth", "peer", "name", &inside,
        ]);
        ip(&["link", "set", &inside, "netns", &name]);
        let side = format!("{net}.1/30");
        ip(&["addr", "add", &side, "dev", &link]);
        ip(&["link", "set", &link, "up"]);
        let within = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &name, "ip"];
            all.extend_from_slice(args);
            ip(&all);
        };
        within(&["addr", "add", &format!("{net}.2/30"), "dev", &inside]);
        within(&["link", "set", &inside, "up"]);
        within(&["link", "set", "lo", "up"]);
        let listener = tokio::net::TcpListener::bind(format!("{net}.1:0"))
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        let db = format!(
            "{}:{}",
            std::env::var("PGHOST").unwrap(),
            std::env::var("PGPORT").unwrap()
        );
        let forwarder = tokio::spawn(async move {
            while let Ok((mut from, _)) = listener.accept().await {
                let db = db.clone();
                tokio::spawn(async move {
                    if let Ok(mut to) = tokio::net::TcpStream::connect(&db).await {
                        let _ = tokio::io::copy_bidirectional(&mut from, &mut to).await;
                    }
                });
            }
        });
        Self {
            name,
            link,
            side,
            address,
            forwarder,
        }
    }

    /// `tandem ARGS` on the island, in `home`.
    fn tandem(&self, home: &TestHome, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("ip");
        cmd.args(["netns", "exec", &self.name])
            .arg(tandem_tests::tandem_bin())
            .args(args)
            .envs(home.env())
            .kill_on_drop(true);
        cmd
    }

    /// This side forgets its address: what the island sends is dropped without a word (no
    /// reset, no "unreachable"), as on a network that stopped carrying packets.
    fn cut(&self) {
        ip(&["addr", "del", &self.side, "dev", &self.link]);
    }

    fn mend(&self) {
        ip(&["addr", "add", &self.side, "dev", &self.link]);
    }
}

impl Drop for Island {
    fn drop(&mut self) {
        self.forwarder.abort();
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.link])
            .status();
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// The network between a machine and the database cut (no reset, no answer: packets vanish)
/// and mended: a write during the cut fails within Tandem's time limits and is not
/// saved, nothing is queued, and after the network is back the same server connects again by
/// itself and its next write is done once — while another machine wrote on undisturbed.
#[tokio::test]
async fn a_cut_network_fails_writes_within_the_limits_and_the_server_comes_back_by_itself() {
    let team = Team::new("cut");
    let (island_home, other) = (TestHome::new(), TestHome::new());
    other
        .tandem(&["team", "init", &team.owner_url()])
        .await
        .expect_code(0);
    let island = Island::new().await;
    let var = |name: &str| std::env::var(name).unwrap();
    let url = format!(
        "postgres://{}:{}@{}/{}?team={}&sslmode=disable&connect_timeout=2",
        var("PGUSER"),
        var("PGPASSWORD"),
        island.address,
        var("PGDATABASE"),
        team.name
    );
    let far = TestClient::named("claude-code", "2.1.332")
        .connect_command(island.tandem(&island_home, &["mcp", "memory", "--store", &url]))
        .await;
    let near = TestClient::named("claude-ai", "0.14.1")
        .connect(&other, &["mcp", "memory", "--store", &team.owner_url()])
        .await;
    far.ok("memory_set", json!({"key": "far", "value": 1}))
        .await;

    island.cut();
    let started = std::time::Instant::now();
    let err = far
        .err(
            "memory_set",
            json!({"key": "far", "value": 2, "expectedVersion": 1}),
        )
        .await;
    let waited = started.elapsed();
    assert!(err.contains("team store"), "{err}");
    // Tandem's own limits on a silent connection (10 s) and the URL's connect_timeout (2 s):
    // without them the system's retransmissions and keepalives take minutes to give up.
    assert!(waited < Duration::from_secs(25), "failed after {waited:?}");
    eprintln!("cut: the write failed after {waited:?}: {err}");
    near.ok("memory_set", json!({"key": "near", "value": 1}))
        .await;
    let seen = near.ok("memory_get", json!({"keys": ["far"]})).await;
    assert_eq!(seen["entries"][0]["version"], 1, "not saved: {seen}");

    island.mend();
    far.ok(
        "memory_set",
        json!({"key": "far", "value": 2, "expectedVersion": 1}),
    )
    .await;
    let history = near.ok("memory_history", json!({"key": "far"})).await;
    assert_eq!(
        history["versions"].as_array().unwrap().len(),
        2,
        "{history}"
    );
    let again = far
        .err(
            "memory_set",
            json!({"key": "far", "value": 2, "expectedVersion": 1}),
        )
        .await;
    assert!(again.contains("current version is 2"), "{again}");
    far.close().await;
    near.close().await;
}

/// The shared folder moves into the team's workspace (`team import`: its text files and
/// handoffs, binary files left out and named) and from there into another machine's folder
/// (`team export`: only what that folder lacks); a second run copies nothing again.
#[tokio::test]
async fn the_shared_folder_moves_into_the_team_s_workspace_and_out_to_another_machine() {
    let team = Team::new("folder");
    let (laptop, server) = (TestHome::new(), TestHome::new());
    laptop
        .tandem(&["team", "init", &team.owner_url()])
        .await
        .expect_code(0);
    let desktop = TestClient::named("claude-ai", "0.14.1")
        .connect(&laptop, &["mcp", "workspace"])
        .await;
    let handoff = desktop
        .ok(
            "handoff_create",
            json!({"title": "Auth rework", "summary": "JWT with refresh tokens"}),
        )
        .await;
    desktop.close().await;
    let shared = laptop.shared_dir();
    std::fs::create_dir_all(shared.join("plans")).unwrap();
    std::fs::write(shared.join("plans/a.md"), "# Plan A\n").unwrap();
    std::fs::write(shared.join("logo.bin"), [0u8, 159, 146, 150]).unwrap();
    std::fs::write(shared.join(".hidden"), "not shared").unwrap();

    for machine in [&laptop, &server] {
        machine
            .tandem(&["team", "join", &team.owner_url()])
            .await
            .expect_code(0);
    }
    // The report as one line (it is wrapped to the terminal).
    let flat = |ran: &Ran| ran.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let imported = laptop.tandem(&["team", "import"]).await;
    imported.expect_code(0);
    let said = flat(&imported);
    assert!(
        said.contains("Copied 3 files"),
        "README, the handoff and the plan: {said}"
    );
    assert!(
        said.contains("Left out (1): logo.bin (not UTF-8 text)"),
        "{said}"
    );
    let again = flat(&laptop.tandem(&["team", "import"]).await);
    assert!(again.contains("Copied 0 files"), "{again}");
    assert!(again.contains("3 were there already"), "{again}");
    let by = psql(&format!(
        "SELECT created_by FROM \"{}\".docs WHERE path = 'plans/a.md'",
        team.name
    ));
    assert_eq!(
        by,
        format!("tandem import · {}", std::env::var("PGUSER").unwrap())
    );

    let exported = server.tandem(&["team", "export"]).await;
    exported.expect_code(0);
    let theirs = server.shared_dir();
    assert_eq!(
        std::fs::read_to_string(theirs.join("plans/a.md")).unwrap(),
        "# Plan A\n"
    );
    let id = handoff["id"].as_str().unwrap();
    assert!(theirs.join(format!("handoffs/{id}.md")).is_file());
    assert!(!theirs.join("logo.bin").exists() && !theirs.join(".hidden").exists());
    let said = flat(&exported);
    assert!(
        said.contains("Copied 2 files"),
        "the server's folder had its own README: {said}"
    );
}
