//! A WebSocket client for the live tests (`tokio-tungstenite`): connecting
//! (with a token, or with a tiny receive buffer to play a client that never
//! reads), reading the next frame within a bounded time, reading a refused
//! upgrade's problem document, and a watcher's view of availability.

// Shared test support: not every test uses every helper.
#![allow(dead_code)]

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

/// Longest wait for an expected frame.
pub const WAIT: Duration = Duration::from_secs(30);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub fn ws_url(app: &TestApp, path: &str) -> String {
    format!("ws://127.0.0.1:{}{}", app.port, path)
}

/// Opens a WebSocket (panics if refused).
pub async fn connect(app: &TestApp, path: &str) -> Ws {
    match tokio_tungstenite::connect_async(ws_url(app, path)).await {
        Ok((ws, _)) => ws,
        Err(e) => panic!("connect {path}: {e}"),
    }
}

/// Opens a WebSocket with `Authorization: Bearer <token>`.
pub async fn connect_as(app: &TestApp, path: &str, token: &str) -> Result<Ws, (u16, Value)> {
    let mut request = ws_url(app, path).into_client_request().expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
        .map_err(refusal)
}

/// The status and problem document of a refused upgrade (the token, if
/// any, as a bearer header).
pub async fn refused(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let outcome = match token {
        Some(token) => connect_as(app, path, token).await,
        None => tokio_tungstenite::connect_async(ws_url(app, path))
            .await
            .map(|(ws, _)| ws)
            .map_err(refusal),
    };
    match outcome {
        Ok(_) => panic!("{path} was accepted"),
        Err(refusal) => refusal,
    }
}

fn refusal(error: WsError) -> (u16, Value) {
    match error {
        WsError::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            (response.status().as_u16(), body)
        }
        other => panic!("not an HTTP refusal: {other}"),
    }
}

/// A client whose socket takes almost nothing in: as long as it is not
/// polled, it reads nothing and the server's writes to it stall. (On
/// loopback the 64 kB segments would let the server's send buffer grow to
/// megabytes; a small advertised MSS keeps it to tens of kilobytes.)
pub async fn connect_stuck(app: &TestApp, path: &str) -> WebSocketStream<TcpStream> {
    let raw = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .expect("socket");
    raw.set_tcp_mss(536).expect("small segments");
    raw.set_recv_buffer_size(2048).expect("small buffer");
    raw.set_nonblocking(true).expect("non-blocking");
    let socket = TcpSocket::from_std_stream(raw.into());
    let address = format!("127.0.0.1:{}", app.port).parse().expect("address");
    let stream = socket.connect(address).await.expect("tcp connect");
    let (ws, _) = tokio_tungstenite::client_async(ws_url(app, path), stream)
        .await
        .expect("upgrade");
    ws
}

/// The next text frame as JSON (pings are answered by the client while it
/// reads); panics on close or after [`WAIT`].
pub async fn next_frame<S>(ws: &mut WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let read = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str::<Value>(&text).expect("JSON frame")
                }
                Some(Ok(Message::Close(frame))) => panic!("closed by the server: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error: {e}"),
                None => panic!("socket ended"),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("a frame within the wait")
}

/// The next frame of this `type`, skipping others.
pub async fn next_of_type<S>(ws: &mut WebSocketStream<S>, kind: &str) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(WAIT, async {
        loop {
            let frame = next_frame(ws).await;
            if frame["type"] == kind {
                return frame;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("a `{kind}` frame within the wait"))
}

/// Reads until the server closes; its close frame (`None` if the
/// connection just ended).
pub async fn close_frame<S>(ws: &mut WebSocketStream<S>) -> Option<CloseFrame<'static>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("closed within the wait")
}

/// What a storefront watcher knows: each offer's last availability.
#[derive(Debug, Default)]
pub struct View {
    pub available: HashMap<String, Value>,
    pub snapshots: usize,
    /// A snapshot already showed the target figures.
    pub snapshot_matched: bool,
}

fn amount(value: &Value) -> Option<Decimal> {
    value.as_str().and_then(|s| Decimal::from_str(s).ok())
}

impl View {
    /// Applies a frame. While only orders happen, availability never goes
    /// up: an increase means an older value came after a newer one.
    pub fn apply(&mut self, frame: &Value) -> Result<(), String> {
        match frame["type"].as_str() {
            Some("snapshot") => {
                self.snapshots += 1;
                for offer in frame["offers"].as_array().into_iter().flatten() {
                    self.set(&offer["offer_id"], &offer["available"])?;
                }
            }
            Some("availability") => {
                let offers = frame["offers"]
                    .as_array()
                    .filter(|offers| !offers.is_empty())
                    .ok_or_else(|| format!("an availability message without offers: {frame}"))?;
                for offer in offers {
                    self.set(&offer["offer_id"], &offer["available"])?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn set(&mut self, offer: &Value, available: &Value) -> Result<(), String> {
        let offer = offer.as_str().unwrap_or_default().to_owned();
        if let (Some(before), Some(now)) = (
            self.available.get(&offer).and_then(amount),
            amount(available),
        ) {
            if now > before {
                return Err(format!("{offer} went from {before} up to {now}"));
            }
        }
        self.available.insert(offer, available.clone());
        Ok(())
    }
}

/// Follows a storefront until its view equals the target (once the test
/// sets it). Errors on a close, a socket error or an older value after a
/// newer one.
pub async fn watch_until<S>(
    mut ws: WebSocketStream<S>,
    mut target: watch::Receiver<Option<HashMap<String, Value>>>,
) -> Result<View, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut view = View::default();
    loop {
        let reached = target
            .borrow()
            .as_ref()
            .is_some_and(|t| view.snapshots > 0 && view.available == *t);
        if reached {
            return Ok(view);
        }
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    view.apply(&frame)?;
                    if frame["type"] == "snapshot" {
                        let matched = target.borrow().as_ref().is_some_and(|t| view.available == *t);
                        view.snapshot_matched |= matched;
                    }
                }
                Some(Ok(Message::Close(frame))) => return Err(format!("closed: {frame:?}")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("socket error: {e}")),
                None => return Err("socket ended".into()),
            },
            changed = target.changed() => {
                if changed.is_err() {
                    return Err("the test went away".into());
                }
            }
        }
    }
}
