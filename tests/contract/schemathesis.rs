//! schemathesis (installed by `scripts/test` in a virtual environment
//! under `target/schemathesis`, pinned in `scripts/schemathesis.txt`) runs
//! against an engine on a fresh database: every operation of the served
//! document, every check (`--checks all`), authenticated as an account that
//! owns a producer and administers a market, with a fixed seed and a
//! bounded number of examples per operation. Any failure fails the test
//! with schemathesis's report (each case with a `curl` line to replay it).
//!
//! Nothing here lists operations: a new one is fuzzed as soon as it is in
//! the document. Logging out would revoke the fuzzer's own token, so that
//! operation runs with a token of its own account (a config file). An
//! operation with rules JSON Schema cannot state (`x-etal-rules`: the clock,
//! other resources, order between fields) may refuse a schema-valid body
//! with 422, so `positive_data_acceptance` is off for it alone — read from
//! the served document, like everything else.
//! One check is off for one operation, with the reason beside it: the
//! unlink of a catalog that the run itself deleted (a right 404).

use std::path::PathBuf;
use std::process::Command;

use crate::fixtures::{market, offer, producer_with_catalog};
use crate::helpers::spawn_app;

/// Examples per operation and the seed: enough to reach every status an
/// operation documents, few enough for a couple of minutes on two cores.
const MAX_EXAMPLES: &str = "25";
const SEED: &str = "17";

/// The schemathesis command: `ETAL_SCHEMATHESIS`, else the venv `scripts/test` makes.
fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("ETAL_SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(PathBuf::from)
        .expect("CARGO_TARGET_TMPDIR is under the target directory");
    let command = target.join("schemathesis").join("bin").join("schemathesis");
    assert!(
        command.is_file(),
        "schemathesis is missing at {}: ./scripts/test installs it (pinned, in a virtual \
         environment), or set ETAL_SCHEMATHESIS",
        command.display()
    );
    command
}

/// The run's configuration: logout with its own account, and the checks
/// operations with `x-etal-rules` cannot pass by schema alone.
fn config_file(doc: &serde_json::Value, logout_token: &str) -> String {
    let mut config = format!(
        "[[operations]]\ninclude-operation-id = \"logout\"\n\
         headers = {{ Authorization = \"Bearer {logout_token}\" }}\n"
    );
    let ruled: Vec<String> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(|item| item.as_object())
        .flat_map(|item| item.values())
        .filter(|operation| operation.get("x-etal-rules").is_some())
        .filter_map(|operation| operation["operationId"].as_str())
        .map(|id| format!("\"{id}\""))
        .collect();
    // A live feed's success is `101 Switching Protocols`.
    config.push_str(
        "\n[[operations]]\ninclude-path-regex = \"^/ws/\"\n\
         checks.not_a_server_error.expected-statuses = [\"101\", \"2XX\", \"3XX\", \"4XX\"]\n\
         checks.positive_data_acceptance.expected-statuses = \
         [\"101\", \"401\", \"403\", \"404\", \"409\", \"503\"]\n",
    );
    // A stateful scenario may delete the catalog (`DELETE /catalogs/{id}`)
    // between linking it and unlinking it; the unlink's 404 is then right,
    // but schemathesis reads it as "created resource not found" (ST302).
    config.push_str(
        "\n[[operations]]\ninclude-operation-id = \"unlink_catalog\"\n\
         checks.ensure_resource_availability.enabled = false\n",
    );
    if !ruled.is_empty() {
        config.push_str(&format!(
            "\n[[operations]]\ninclude-operation-id = [{}]\n\
             checks.positive_data_acceptance.enabled = false\n",
            ruled.join(", ")
        ));
    }
    config
}

#[actix_web::test]
async fn schemathesis_finds_nothing_on_any_operation() {
    let command = schemathesis();
    let app = spawn_app().await;
    // The fuzzer's account owns a producer (with a catalog) and administers a market.
    let producer =
        producer_with_catalog(&app, "Ferme du fuzz", &[offer("Vrac", "2.50", Some(5))]).await;
    let admin = market(&app, "Marché du fuzz").await;
    let token = producer.owner.token.clone();
    let _ = admin;
    let leaving = app.user("Logout").await;

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, config_file(&doc, &leaving.token)).expect("config file");

    let mut run = Command::new(&command);
    run.current_dir(&dir)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &app.url("/api/v1/openapi.json")])
        // Every check is on by default (in the config file, not with
        // `--checks all`, which would override its per-operation settings).
        .args(["--seed", SEED, "--max-examples", MAX_EXAMPLES])
        .args(["--generation-database", "none"])
        // One worker: with a fixed seed the run is the same every time (two
        // workers interleave their stateful scenarios differently per run).
        .args(["--workers", "1", "--no-color"])
        .args(["--header", &format!("Authorization: Bearer {token}")]);
    let output = tokio::task::spawn_blocking(move || run.output())
        .await
        .expect("schemathesis task")
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "schemathesis failed:\n{report}");
    let summary = report
        .lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    println!("{summary}");
    assert!(report.contains("Tested:"), "no operation tested:\n{report}");
}
