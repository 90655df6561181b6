//! Storefront watchers: WebSocket sessions on `/ws/distributions/{id}`
//! reading the frames of API.md ("WebSocket"): a `snapshot` (the shop
//! document), then `availability` (`offers`: every offer that changed in
//! the push, each `{offer_id, available}`), `sale_opened` / `sale_closed`
//! and fresh snapshots.
//!
//! Each watcher keeps its latest value of every offer in shared atomics
//! (read live by the availability chart and by the settle phase) and logs
//! the frames of the observed offers with the time each was read and the
//! time its bytes arrived (for push lag; frames are decoded by
//! [`crate::storefront_frame`]). The first `sale_opened` seen by any watcher is the customers'
//! signal to start.
//!
//! Watchers run on a runtime of their own: ten thousand of them woken by
//! one push would otherwise queue in front of the customers' responses,
//! and the tester would measure its own congestion as the engine's
//! latency. The operating system shares the cores between the two.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use uuid::Uuid;

use crate::arrival::{self, ArrivalStream};
use crate::record::now_us;
use crate::storefront_frame::WireFrame;

/// Value of an offer never seen by a watcher.
pub const UNKNOWN: i64 = i64::MIN;
/// Value of an offer without limited stock (`available: null`).
pub const UNLIMITED: i64 = i64::MAX;

/// What every watcher shares with the run.
pub struct WatchShared {
    pub index: HashMap<Uuid, u32>,
    /// Offer index → position in the frame logs (observed offers only).
    pub observed: HashMap<u32, usize>,
    /// `latest[w][offer]`: watcher `w`'s current value, in milli-units.
    pub latest: Vec<Vec<AtomicI64>>,
    /// `alive[w]`: watcher `w` is connected right now.
    pub alive: Vec<AtomicBool>,
    pub frames: AtomicU64,
    /// Set to the arrival time (µs) of the first `sale_opened`.
    pub opened: watch::Sender<Option<u64>>,
}

/// A frame of an observed offer: when the watcher read it (µs since the
/// process epoch), offer, value.
pub type Frame = (u64, u32, i64);

/// What one watcher saw.
#[derive(Debug, Default)]
pub struct WatcherLog {
    /// Connected at least once.
    pub connected: bool,
    /// Connected when the run ended.
    pub connected_at_end: bool,
    /// Times the connection was lost before the end (engine restarted,
    /// session dropped) …
    pub disconnects: u32,
    /// … and times it was made again (each with a fresh snapshot).
    pub reconnects: u32,
    /// The last thing that went wrong.
    pub error: Option<String>,
    pub frames: Vec<Frame>,
    /// For each of `frames`, when its bytes arrived in the socket (the
    /// kernel's stamp, [`crate::arrival`]; the read time where unknown).
    pub arrived: Vec<u64>,
    pub snapshots: u32,
}

impl WatcherLog {
    /// The frames timed by their arrival instead of their reading.
    pub fn frames_by_arrival(&self) -> Vec<Frame> {
        self.frames
            .iter()
            .zip(&self.arrived)
            .map(|(&(_, offer, value), &at)| (at, offer, value))
            .collect()
    }
}

impl WatchShared {
    pub fn new(offer_ids: &[Uuid], observed: &[usize], watchers: usize) -> Arc<Self> {
        Arc::new(Self {
            index: offer_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (*id, i as u32))
                .collect(),
            observed: observed
                .iter()
                .enumerate()
                .map(|(pos, &o)| (o as u32, pos))
                .collect(),
            latest: (0..watchers)
                .map(|_| offer_ids.iter().map(|_| AtomicI64::new(UNKNOWN)).collect())
                .collect(),
            alive: (0..watchers).map(|_| AtomicBool::new(false)).collect(),
            frames: AtomicU64::new(0),
            opened: watch::channel(None).0,
        })
    }

    /// Current value of an offer for every watcher.
    pub fn values_of(&self, offer: usize) -> Vec<i64> {
        self.latest
            .iter()
            .map(|w| w.get(offer).map_or(UNKNOWN, |a| a.load(Ordering::Relaxed)))
            .collect()
    }

    /// Watchers connected right now.
    pub fn alive_count(&self) -> usize {
        self.alive
            .iter()
            .filter(|a| a.load(Ordering::Relaxed))
            .count()
    }

    /// Every live watcher's values of every offer.
    pub fn live_values(&self) -> Vec<Vec<i64>> {
        self.latest
            .iter()
            .zip(&self.alive)
            .filter(|(_, alive)| alive.load(Ordering::Relaxed))
            .map(|(values, _)| values.iter().map(|v| v.load(Ordering::Relaxed)).collect())
            .collect()
    }

    /// Applies one text frame of watcher `w`, whose bytes `arrived` (µs,
    /// or [`arrival::NONE`]).
    fn apply(&self, w: usize, text: &str, arrived: u64, log: &mut WatcherLog) {
        let Ok(frame) = serde_json::from_str::<WireFrame>(text) else {
            return;
        };
        let t = now_us();
        let at = if arrived == arrival::NONE {
            t
        } else {
            arrived.min(t)
        };
        self.frames.fetch_add(1, Ordering::Relaxed);
        match frame.kind.as_ref() {
            "availability" => {
                // Every offer of the shop that changed in the push.
                for offer in frame.offers.unwrap_or_default() {
                    self.set(w, offer.offer_id, offer.available.0, (t, at), log);
                }
            }
            "snapshot" => {
                log.snapshots += 1;
                for offer in frame.offers.unwrap_or_default() {
                    self.set(w, offer.offer_id, offer.available.0, (t, at), log);
                }
            }
            "sale_opened" => {
                self.opened.send_if_modified(|at| {
                    if at.is_none() {
                        *at = Some(t);
                        true
                    } else {
                        false
                    }
                });
            }
            _ => {}
        }
    }

    /// Records an offer's value, read at `t` and arrived at `at`.
    fn set(
        &self,
        w: usize,
        id: Uuid,
        value: Option<i64>,
        (t, at): (u64, u64),
        log: &mut WatcherLog,
    ) {
        let (Some(&offer), Some(value)) = (self.index.get(&id), value) else {
            return;
        };
        if let Some(slot) = self.latest.get(w).and_then(|l| l.get(offer as usize)) {
            slot.store(value, Ordering::Relaxed);
        }
        if self.observed.contains_key(&offer) {
            log.frames.push((t, offer, value));
            log.arrived.push(at);
        }
    }
}

/// Opens a watcher's WebSocket on a stream that notes when bytes arrive.
async fn connect(url: &str) -> Result<(WebSocketStream<ArrivalStream>, Arc<AtomicU64>), String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
    let host = uri.host().ok_or_else(|| format!("no host in {url}"))?;
    let port = uri.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let (stream, arrived) = ArrivalStream::new(tcp);
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok((ws, arrived))
}

/// Watchers running.
pub struct Watchers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<WatcherLog>>,
    /// Their runtime (shut down in the background when they are done).
    runtime: Option<Runtime>,
}

impl Drop for Watchers {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The watchers' own runtime: one thread per core (or, if it cannot be
/// built, `None`: they share the caller's).
fn watcher_runtime() -> Option<Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .thread_name("watchers")
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("loadtest: watchers share the customers' runtime ({error})");
            None
        }
    }
}

/// First wait before connecting again; it doubles up to [`RECONNECT_MAX`].
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Waits `backoff` (doubling it for next time) unless the run stops
/// first: true when it did.
async fn pause(stop: &mut watch::Receiver<bool>, backoff: &mut Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    let wait = *backoff;
    *backoff = (*backoff * 2).min(RECONNECT_MAX);
    tokio::select! {
        _ = tokio::time::sleep(wait) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

/// Reads one connection's frames until the run stops (true) or the
/// connection ends (false, the reason in `log.error`).
async fn read(
    mut ws: WebSocketStream<ArrivalStream>,
    arrived: &AtomicU64,
    shared: &WatchShared,
    w: usize,
    stop_rx: &mut watch::Receiver<bool>,
    log: &mut WatcherLog,
) -> bool {
    if *stop_rx.borrow() {
        let _ = ws.close(None).await;
        return true;
    }
    // One wait for the stop signal across every frame (a new one per frame
    // would register and drop a waiter each time).
    let stop = stop_rx.changed();
    tokio::pin!(stop);
    let stopped = loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    shared.apply(w, &text, arrived.load(Ordering::Relaxed), log);
                }
                Some(Ok(Message::Binary(bytes))) => {
                    if let Ok(text) = std::str::from_utf8(&bytes) {
                        shared.apply(w, text, arrived.load(Ordering::Relaxed), log);
                    }
                }
                Some(Ok(Message::Close(_))) | None => {
                    log.error = Some("closed by the server".into());
                    break false;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    log.error = Some(e.to_string());
                    break false;
                }
            },
            _ = &mut stop => break true,
        }
    };
    let _ = ws.close(None).await;
    stopped
}

impl Watchers {
    /// Connects `shared.latest.len()` watchers, watcher `w` to
    /// `ws_urls[w mod n]` (a few at a time), and returns once every one is
    /// connected or has failed once. Until the run stops, a watcher whose
    /// connection fails or ends (an engine restart, a killed node) connects
    /// again — to the next URL, so a cluster's watchers leave a dead node
    /// for a live one —, waiting 0.1 s, then twice as long each time up to
    /// 2 s; each new connection starts with a snapshot.
    pub async fn connect(shared: Arc<WatchShared>, ws_urls: &[String]) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let gate = Arc::new(Semaphore::new(32));
        let count = shared.latest.len();
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(count.max(1));
        let runtime = watcher_runtime();
        let spawner = runtime
            .as_ref()
            .map_or_else(Handle::current, |r| r.handle().clone());
        let mut tasks = Vec::with_capacity(count);
        let urls: Arc<[String]> = Arc::from(ws_urls);
        for w in 0..count {
            let shared = shared.clone();
            let urls = urls.clone();
            let mut at = w % urls.len().max(1);
            let mut stop_rx = stop_rx.clone();
            let gate = gate.clone();
            let ready = ready_tx.clone();
            tasks.push(spawner.spawn(async move {
                let mut log = WatcherLog::default();
                let mut ready = Some(ready);
                let mut backoff = RECONNECT_FIRST;
                loop {
                    let connected = {
                        let _permit = gate.acquire().await;
                        tokio::select! {
                            c = tokio::time::timeout(
                                Duration::from_secs(10),
                                connect(urls.get(at).map_or("", String::as_str)),
                            ) => Some(c),
                            _ = stop_rx.changed() => None,
                        }
                    };
                    let (ws, arrived) = match connected {
                        None => break,
                        Some(Ok(Ok(connected))) => connected,
                        Some(failed) => {
                            log.error = Some(match failed {
                                Ok(Err(e)) => e,
                                _ => "connect timed out".into(),
                            });
                            if let Some(ready) = ready.take() {
                                let _ = ready.send(()).await;
                            }
                            at = (at + 1) % urls.len().max(1);
                            if pause(&mut stop_rx, &mut backoff).await {
                                break;
                            }
                            continue;
                        }
                    };
                    if log.connected {
                        log.reconnects += 1;
                    }
                    log.connected = true;
                    backoff = RECONNECT_FIRST;
                    if let Some(a) = shared.alive.get(w) {
                        a.store(true, Ordering::Relaxed);
                    }
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(()).await;
                    }
                    let stopped = read(ws, &arrived, &shared, w, &mut stop_rx, &mut log).await;
                    if let Some(a) = shared.alive.get(w) {
                        a.store(false, Ordering::Relaxed);
                    }
                    if stopped {
                        log.connected_at_end = true;
                        break;
                    }
                    log.disconnects += 1;
                    at = (at + 1) % urls.len().max(1);
                    if pause(&mut stop_rx, &mut backoff).await {
                        break;
                    }
                }
                log
            }));
        }
        drop(ready_tx);
        for _ in 0..count {
            if ready_rx.recv().await.is_none() {
                break;
            }
        }
        Self {
            stop,
            tasks,
            runtime,
        }
    }

    /// Closes every session and returns what each one saw.
    pub async fn finish(mut self) -> Vec<WatcherLog> {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        let mut logs = Vec::with_capacity(tasks.len());
        for task in tasks {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(log)) => logs.push(log),
                _ => logs.push(WatcherLog {
                    error: Some("watcher did not stop".into()),
                    ..WatcherLog::default()
                }),
            }
        }
        logs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_update_values_and_logs() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let shared = WatchShared::new(&[a, b], &[0], 1);
        let mut log = WatcherLog::default();
        let snapshot = format!(
            r#"{{"type":"snapshot","distribution":{{}},"catalogs":[],
                "offers":[{{"offer_id":"{a}","available":"10"}},{{"offer_id":"{b}","available":null}}]}}"#
        );
        shared.apply(0, &snapshot, arrival::NONE, &mut log);
        assert_eq!(shared.values_of(0), vec![10_000]);
        assert_eq!(shared.values_of(1), vec![UNLIMITED]);
        shared.apply(
            0,
            &format!(
                r#"{{"type":"availability","offers":[{{"offer_id":"{a}","available":"7.5"}}]}}"#
            ),
            arrival::NONE,
            &mut log,
        );
        assert_eq!(shared.values_of(0), vec![7_500]);
        shared.apply(
            0,
            &format!(r#"{{"type":"availability","offers":[{{"offer_id":"{a}","available":3}}]}}"#),
            arrival::NONE,
            &mut log,
        );
        assert_eq!(shared.values_of(0), vec![3_000], "a number is read too");
        shared.apply(
            0,
            &format!(
                r#"{{"type":"availability","offers":[{{"offer_id":"{a}","available":null}}]}}"#
            ),
            arrival::NONE,
            &mut log,
        );
        assert_eq!(shared.values_of(0), vec![UNLIMITED]);
        shared.apply(
            0,
            &format!(
                r#"{{"type":"availability","offers":[{{"offer_id":"{a}","available":"2"}}]}}"#
            ),
            arrival::NONE,
            &mut log,
        );
        assert_eq!(log.frames.len(), 5, "only the observed offer is logged");
        assert_eq!(log.arrived.len(), 5);
        let read_at = log.frames[4].0;
        assert_eq!(log.arrived[4], read_at, "no stamp: the read time stands in");
        shared.apply(
            0,
            &format!(
                r#"{{"type":"availability","offers":[{{"offer_id":"{a}","available":"1"}}]}}"#
            ),
            7,
            &mut log,
        );
        assert_eq!(log.frames_by_arrival().last(), Some(&(7, 0, 1_000)));
        assert_eq!(log.snapshots, 1);
        shared.apply(
            0,
            &format!(
                r#"{{"type":"availability","offers":[{{"offer_id":"{b}","available":"4"}},
                    {{"offer_id":"{a}","available":"0.5"}}]}}"#
            ),
            arrival::NONE,
            &mut log,
        );
        assert_eq!(
            shared.values_of(0),
            vec![500],
            "every offer of a push is read"
        );
        assert_eq!(shared.values_of(1), vec![4_000]);
        assert!(shared.opened.borrow().is_none());
        shared.apply(
            0,
            r#"{"type":"sale_opened","catalog_id":"x"}"#,
            arrival::NONE,
            &mut log,
        );
        assert!(shared.opened.borrow().is_some());
    }

    /// A storefront that closes its first connection (an engine going
    /// away) and serves the next with a new snapshot.
    #[tokio::test]
    async fn a_watcher_connects_again_after_the_server_closes_it() {
        use futures_util::SinkExt;
        let offer = Uuid::from_u128(9);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        let url = format!(
            "ws://{}/ws/distributions/x",
            listener.local_addr().expect("address")
        );
        let snapshot = |available: &str| {
            format!(
                r#"{{"type":"snapshot","distribution":{{}},"catalogs":[],
                    "offers":[{{"offer_id":"{offer}","available":"{available}"}}]}}"#
            )
        };
        let (first, second) = (snapshot("5"), snapshot("3"));
        let server = tokio::spawn(async move {
            let mut kept = Vec::new();
            for text in [first, second] {
                let (socket, _) = listener.accept().await.expect("accept");
                let mut ws = tokio_tungstenite::accept_async(socket)
                    .await
                    .expect("handshake");
                ws.send(Message::Text(text)).await.expect("snapshot");
                kept.push(ws);
                if kept.len() == 1 {
                    let _ = kept[0].close(None).await;
                }
            }
            // Keeps the second connection open until the test ends.
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(kept);
        });
        let shared = WatchShared::new(&[offer], &[0], 1);
        let watchers = Watchers::connect(shared.clone(), &[url]).await;
        let mut seen = Vec::new();
        for _ in 0..500 {
            seen = shared.values_of(0);
            if seen == vec![3_000] && shared.alive_count() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(seen, vec![3_000], "the second snapshot was read");
        let logs = watchers.finish().await;
        server.abort();
        assert_eq!(logs[0].disconnects, 1);
        assert_eq!(logs[0].reconnects, 1);
        assert!(logs[0].connected && logs[0].connected_at_end);
        assert_eq!(logs[0].snapshots, 2);
    }
}
