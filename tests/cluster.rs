//! The embedded private PostgreSQL cluster: first start creates it, later
//! starts reuse it, data survives a restart, and the URL works with sqlx.

use std::path::Path;
use std::str::FromStr;

use etal::store::cluster::{ClusterStatus, PrivateCluster, StartOutcome};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// A fresh data directory under the target dir, stopped and removed on drop
/// (also when an assertion fails, so no server outlives the test).
struct Scratch {
    cluster: PrivateCluster,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("tmp-cluster-{name}{}", uuid::Uuid::new_v4()));
        let cluster = PrivateCluster::new(&dir).expect("create the data directory");
        Self { cluster }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.cluster.stop() {
            eprintln!("stopping the test cluster: {e}");
        }
        let socket_dir = self.cluster.socket_dir();
        if !socket_dir.starts_with(self.cluster.data_dir()) {
            let _ = std::fs::remove_dir_all(&socket_dir);
        }
        let _ = std::fs::remove_dir_all(self.cluster.data_dir());
    }
}

async fn connect(cluster: &PrivateCluster) -> PgConnection {
    PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("connect with sqlx over the Unix socket")
}

#[tokio::test]
async fn first_start_initialises_then_reuses_and_data_survives_a_restart() {
    let scratch = Scratch::new("");
    let cluster = scratch.cluster.clone();
    assert!(cluster.data_dir().is_absolute());
    assert_eq!(
        cluster.status().expect("status"),
        ClusterStatus::NotInitialised
    );

    // Several callers at once: exactly one of them creates and starts it.
    let outcomes: Vec<StartOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| cluster.ensure_started()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .expect("thread")
                    .expect("ensure_started on a fresh data dir")
            })
            .collect()
    });
    let started = outcomes
        .iter()
        .filter(|o| **o == StartOutcome::Started)
        .count();
    assert_eq!(started, 1, "outcomes: {outcomes:?}");
    let ClusterStatus::Running { pid } = cluster.status().expect("status") else {
        panic!("not running after ensure_started");
    };
    assert!(pid > 0);
    assert!(cluster.data_dir().join("pg/PG_VERSION").is_file());
    assert!(cluster.data_dir().join("pg.log").is_file());

    // Second call reuses the running server.
    assert_eq!(
        cluster.ensure_started().expect("ensure_started again"),
        StartOutcome::AlreadyRunning
    );
    assert_eq!(
        cluster.status().expect("status"),
        ClusterStatus::Running { pid }
    );

    // The URL is a Unix-socket URL sqlx understands.
    let url = cluster.url("postgres");
    let options = PgConnectOptions::from_str(&url).expect("sqlx parses the URL");
    assert_eq!(options.get_socket(), Some(&cluster.socket_dir()));

    let mut conn = connect(&cluster).await;
    let (user, fsync, sync_commit, listen, max_conn): (String, String, String, String, String) =
        sqlx::query_as(
            "SELECT current_user::text, current_setting('fsync'), \
             current_setting('synchronous_commit'), current_setting('listen_addresses'), \
             current_setting('max_connections')",
        )
        .fetch_one(&mut conn)
        .await
        .expect("read settings");
    assert_eq!(user, "postgres");
    assert_eq!(fsync, "on");
    assert_eq!(sync_commit, "on");
    assert_eq!(listen, "");
    assert_eq!(max_conn, "1000", "set at every start (etal-runtime.conf)");
    let encoding: String = sqlx::query_scalar("SHOW server_encoding")
        .fetch_one(&mut conn)
        .await
        .expect("encoding");
    assert_eq!(encoding, "UTF8");

    sqlx::query("CREATE TABLE survivors (id int PRIMARY KEY, name text NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO survivors VALUES (1, 'durable')")
        .execute(&mut conn)
        .await
        .expect("insert");
    conn.close().await.expect("close");

    // Stop, and start again: the row is still there.
    cluster.stop().expect("stop");
    assert_eq!(cluster.status().expect("status"), ClusterStatus::Stopped);
    cluster.stop().expect("stopping a stopped cluster is fine");
    assert_eq!(
        cluster.ensure_started().expect("restart"),
        StartOutcome::Started
    );
    assert!(matches!(
        cluster.status().expect("status"),
        ClusterStatus::Running { .. }
    ));

    let mut conn = connect(&cluster).await;
    let name: String = sqlx::query_scalar("SELECT name FROM survivors WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("the row survived the restart");
    assert_eq!(name, "durable");
    conn.close().await.expect("close");

    cluster.stop().expect("final stop");
    assert_eq!(cluster.status().expect("status"), ClusterStatus::Stopped);
    drop(scratch);
}

#[test]
fn long_data_dirs_put_the_socket_under_tmp() {
    let short = Scratch::new("");
    assert_eq!(
        short.cluster.socket_dir(),
        short.cluster.data_dir().join("run")
    );

    let long = Scratch::new(&format!("{}-", "long".repeat(25)));
    let socket_dir = long.cluster.socket_dir();
    assert!(
        long.cluster
            .data_dir()
            .join("run/.s.PGSQL.5432")
            .as_os_str()
            .len()
            > 107,
        "the test path is not long enough"
    );
    let name = socket_dir
        .strip_prefix("/tmp")
        .expect("socket dir moved under /tmp")
        .to_str()
        .expect("utf-8");
    let hex = name.strip_prefix("etal-").expect("etal- prefix");
    assert_eq!(hex.len(), 16);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    // Deterministic: the same data directory always finds the same socket.
    let again = PrivateCluster::new(long.cluster.data_dir()).expect("reopen");
    assert_eq!(again.socket_dir(), socket_dir);
    assert_eq!(again.data_dir(), long.cluster.data_dir());
    let url = again.url("postgres");
    assert!(
        url.contains(&format!("host={}", socket_dir.display())),
        "{url}"
    );
}
