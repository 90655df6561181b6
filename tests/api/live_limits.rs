//! The limits of live sessions: a global connection limit (503 before the
//! upgrade), the heartbeat (a client answering pings stays, one that does
//! not is closed), the incoming frame size limit, outgoing messages longer
//! than `ws_fragment_bytes` sent in pieces and reassembled by the client,
//! the session metrics, a token passed as `?token=` never reaching the
//! logs, a client that stops reading dropped once its writes stall, and
//! every session told with a close frame when the engine shuts down.

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::fixtures::{force_sync, many_offers, offer, open_sale};
use crate::helpers::{
    captured_logs, fresh_database, spawn_app, spawn_app_with, test_settings, TestApp,
};
use crate::live_client::{close_frame, connect, connect_stuck, next_frame, refused, WAIT};

/// Opens a WebSocket by hand, so nothing answers the server's pings.
async fn raw_upgrade(app: &TestApp, path: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("tcp connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        app.port
    );
    tcp.write_all(request.as_bytes())
        .await
        .expect("handshake sent");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.expect("handshake answer"));
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
    tcp
}

/// One frame from the server (never masked): its FIN bit, opcode and
/// payload; `None` when the connection ends.
async fn raw_frame(tcp: &mut TcpStream) -> Option<(bool, u8, Vec<u8>)> {
    let first = tcp.read_u8().await.ok()?;
    let len = match tcp.read_u8().await.ok()? & 0x7f {
        126 => u64::from(tcp.read_u16().await.ok()?),
        127 => tcp.read_u64().await.ok()?,
        n => u64::from(n),
    };
    let mut payload = vec![0; usize::try_from(len).ok()?];
    tcp.read_exact(&mut payload).await.ok()?;
    Some((first & 0x80 != 0, first & 0x0f, payload))
}

#[actix_web::test]
async fn a_client_that_never_answers_pings_is_closed_and_one_that_does_stays() {
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_heartbeat_secs = 1;
    settings.engine.ws_idle_timeout_secs = 2;
    let app = spawn_app_with(settings, Utc::now()).await;
    let sale = open_sale(&app, &[offer("Poulet", "12.50", Some(5))]).await;
    let path = format!("/ws/distributions/{}", sale.distribution_id);

    // Answers pings (tungstenite does while reading): still open after
    // three pings, i.e. past the idle timeout.
    let mut alive = connect(&app, &path).await;
    let mut pings = 0;
    tokio::time::timeout(WAIT, async {
        while pings < 3 {
            match alive.next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(Message::Close(frame))) => panic!("closed while answering: {frame:?}"),
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("three pings");

    // Never answers: pinged, then closed with "going away".
    let mut silent = raw_upgrade(&app, &path).await;
    let (mut pinged, mut close) = (0, None);
    tokio::time::timeout(WAIT, async {
        while let Some((_, opcode, payload)) = raw_frame(&mut silent).await {
            match opcode {
                0x9 => pinged += 1,
                0x8 => {
                    close = Some(payload);
                    break;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("closed within the wait");
    assert!(pinged >= 1, "pinged before being closed");
    let close = close.expect("a close frame");
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1001);
    assert_eq!(&close[2..], b"idle timeout: no pong");
}

#[actix_web::test]
async fn a_snapshot_longer_than_a_fragment_goes_out_in_pieces_and_arrives_whole() {
    const FRAGMENT: usize = 100;
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_fragment_bytes = FRAGMENT;
    let app = spawn_app_with(settings, Utc::now()).await;
    // Accented names: pieces may cut a character in two.
    let sale = open_sale(
        &app,
        &[
            offer("Poulet fermier élevé en plein air", "12.50", Some(5)),
            offer("Œufs de la Bâtie", "3.00", None),
        ],
    )
    .await;
    let path = format!("/ws/distributions/{}", sale.distribution_id);
    let shop = app
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    let without_type = |mut snapshot: Value| {
        assert_eq!(snapshot["type"], "snapshot");
        snapshot.as_object_mut().map(|o| o.remove("type"));
        snapshot
    };

    // On the wire: a text frame without FIN, continuations, the last one
    // with FIN, none longer than the fragment size.
    let mut tcp = raw_upgrade(&app, &path).await;
    let (mut message, mut pieces) = (Vec::new(), 0);
    tokio::time::timeout(WAIT, async {
        loop {
            let (fin, opcode, payload) = raw_frame(&mut tcp).await.expect("a frame");
            match (opcode, pieces) {
                (0x9, _) => continue,
                (0x1, 0) => {}
                (0x0, 1..) => {}
                other => panic!("unexpected frame (opcode, pieces before): {other:?}"),
            }
            assert!(payload.len() <= FRAGMENT, "{} bytes", payload.len());
            pieces += 1;
            message.extend(payload);
            if fin {
                break;
            }
        }
    })
    .await
    .expect("the whole snapshot");
    assert!(pieces > 2, "{pieces} pieces");
    let snapshot: Value = serde_json::from_slice(&message).expect("one JSON document");
    assert_eq!(without_type(snapshot), shop);

    // A WebSocket client gets it as one message.
    let mut ws = connect(&app, &path).await;
    assert_eq!(without_type(next_frame(&mut ws).await), shop);
}

#[actix_web::test]
async fn connections_beyond_the_limit_get_503_and_big_frames_are_refused() {
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_max_connections = 2;
    let app = spawn_app_with(settings, Utc::now()).await;
    let sale = open_sale(&app, &[offer("Poulet", "12.50", Some(5))]).await;
    let path = format!("/ws/distributions/{}", sale.distribution_id);

    let mut first = connect(&app, &path).await;
    let mut second = connect(&app, &path).await;
    next_frame(&mut first).await;
    next_frame(&mut second).await;
    let (status, problem) = refused(&app, &path, None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (503, Some("overloaded"))
    );

    // A frame over `ws_max_frame_bytes` (4096) closes its session with 1009…
    first
        .send(Message::Text("x".repeat(10_000)))
        .await
        .expect("sent");
    let close = close_frame(&mut first).await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009);
    // …which frees its slot.
    let reopened = tokio::time::timeout(WAIT, async {
        loop {
            match tokio_tungstenite::connect_async(crate::live_client::ws_url(&app, &path)).await {
                Ok((ws, _)) => return ws,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    })
    .await;
    assert!(reopened.is_ok(), "a slot frees when a session ends");

    // The session metrics are exposed.
    let metrics = app.get("/metrics", None).await.expect(200);
    let metrics = metrics.as_str().unwrap_or_default();
    for name in [
        "ws_sessions_open",
        "ws_frames_sent_total",
        "ws_sessions_refused_total",
    ] {
        assert!(metrics.contains(name), "{name} in /metrics");
    }
}

/// How many connections the engine dropped because their client stopped
/// reading (the counter is process-wide: compare before and after).
async fn stalled_drops(app: &TestApp) -> u64 {
    let metrics = app.get("/metrics", None).await.expect(200);
    metrics
        .as_str()
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("ws_connections_dropped_total{cause=\"stalled\"} "))
        .map_or(0, |count| count.trim().parse().expect("a count"))
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_dropped_once_its_writes_stall() {
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_heartbeat_secs = 1;
    settings.engine.ws_idle_timeout_secs = 2;
    let app = spawn_app_with(settings, Utc::now()).await;
    let sale = open_sale(&app, &many_offers(60)).await;
    let path = format!("/ws/distributions/{}", sale.distribution_id);
    let before = stalled_drops(&app).await;

    // A client that takes almost nothing in, then fresh 20 kB snapshots
    // until the engine's writes to it cannot go through.
    let mut stuck = connect_stuck(&app, &path).await;
    for _ in 0..10 {
        force_sync(&app, &sale).await;
    }
    let dropped = tokio::time::timeout(WAIT, async {
        loop {
            if stalled_drops(&app).await > before {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(dropped.is_ok(), "the stalled connection is dropped");
    // What the kernel already held still arrives, then the stream ends.
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(Ok(_)) = stuck.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the client sees its connection end");
}

#[actix_web::test]
async fn a_token_in_the_query_never_reaches_the_logs() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.50", Some(5))]).await;
    let feed = format!("/ws/producers/{}", sale.producer.producer_id);
    let token = &sale.producer.owner.token;

    // Accepted with the token in the query, then closed by the client.
    let mut ws = connect(&app, &format!("{feed}?token={token}")).await;
    ws.close(None).await.expect("closed");
    // Refused with an unknown token in the query.
    let bogus = format!("bogus-{}", uuid::Uuid::new_v4().simple());
    let (status, _) = refused(&app, &format!("{feed}?token={bogus}"), None).await;
    assert_eq!(status, 401);

    // Both requests are logged (their spans closed, path and status)…
    let logged = |status: &str| {
        captured_logs()
            .lines()
            .any(|l| l.contains(&format!("\"http.target\":\"{feed}")) && l.contains(status))
    };
    tokio::time::timeout(WAIT, async {
        while !(logged("\"http.status_code\":101") && logged("\"http.status_code\":401")) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both requests logged");
    // …without the tokens.
    let logs = captured_logs();
    assert!(
        !logs.contains(token.as_str()),
        "the member's token was logged"
    );
    assert!(!logs.contains(&bogus), "the unknown token was logged");
}

#[actix_web::test]
async fn at_shutdown_every_session_is_told_it_is_going_away() {
    let running = crate::after_sale::setup::start(Utc::now()).await;
    let sale = open_sale(&running.app, &[offer("Pommes", "2.50", Some(10))]).await;
    let path = format!("/ws/distributions/{}", sale.distribution_id);
    let mut watchers = Vec::new();
    for _ in 0..20 {
        let mut ws = connect(&running.app, &path).await;
        assert_eq!(next_frame(&mut ws).await["type"], "snapshot");
        watchers.push(ws);
    }
    // Stopping waits for the engine to finish (sessions included): it runs
    // beside the watchers, which must hear the close meanwhile.
    let stopping = actix_web::rt::spawn(running.stop());
    for ws in &mut watchers {
        let frame = close_frame(ws)
            .await
            .expect("a close frame, not a dropped connection");
        assert_eq!(u16::from(frame.code), 1001, "going away: {frame:?}");
        assert_eq!(frame.reason, "shutting down");
    }
    stopping.await.expect("the engine stopped");
}
