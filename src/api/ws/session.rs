//! The session loop shared by every live feed (after `actix/examples`
//! `websockets/chat-actorless`): one task per connection, a `select!` over
//! the client's frames, the hub's pushes, the heartbeat and the write of the
//! next queued frame, so none of them waits on another.
//!
//! Backpressure: the loop takes the next push from its broadcast receiver
//! only when everything before it is written — with every push already
//! queued behind it, dropping a frame whose every offer a later frame
//! carries again — and writes them in one burst (as many as the socket
//! takes at once, not one frame per turn of the loop). A storefront
//! reports each take to the hub's [`Pace`]: finding more than one push
//! waiting, or having lost the backlog, is falling behind, and the hub
//! widens its push window while too many sessions do. A client
//! that does not read stalls its own writes, so the receiver falls more than
//! `ws_buffer_frames` pushes behind and loses its backlog (`Lagged`) — the
//! engine and the other sessions never wait. Then a storefront takes a
//! fresh snapshot, and a producer or market feed is closed with a reason.
//!
//! Heartbeat: a ping every `ws_heartbeat_secs`, after re-checking the
//! caller's access for feeds behind a token; any frame from the client
//! (pong or other) proves it alive; `ws_idle_timeout_secs` without one
//! closes the session. Incoming frames over `ws_max_frame_bytes` close it.
//!
//! The wire is the socket itself ([`super::wire`]): frames are written
//! from the bytes every subscriber shares, several per system call. A
//! write that makes no progress for `ws_idle_timeout_secs` drops the
//! connection (`ws_connections_dropped_total{cause="stalled"}`).

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason, Frame as ClientFrame, ProtocolError};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;
use tokio::net::TcpStream;
use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};
use tokio::time::{interval_at, sleep, sleep_until, Instant, MissedTickBehavior};

use super::wire::{self, Out, Reader};
use crate::engine::events::{Frame, Pace, Push, SessionPermit, Subscription};

/// Timing of a session.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub heartbeat: Duration,
    pub idle: Duration,
    /// Longest outgoing frame; longer messages are fragmented.
    pub fragment: usize,
    /// Longest incoming frame; a longer one closes the session.
    pub max_frame: usize,
}

/// How a feed catches up after falling behind or being told to resync.
pub(super) trait CatchUp {
    /// A fresh start, or `None` to close the session.
    async fn catch_up(&mut self) -> Option<Subscription>;
}

/// Feeds without snapshots (producers, markets): falling behind closes them.
pub(super) struct Close;

impl CatchUp for Close {
    async fn catch_up(&mut self) -> Option<Subscription> {
        None
    }
}

/// Everything a session loop needs.
pub(super) struct Live<C> {
    pub feed: &'static str,
    /// The first frame (a storefront's snapshot).
    pub first: Option<Frame>,
    pub receiver: broadcast::Receiver<Push>,
    pub catch_up: C,
    /// For feeds behind a token: asked at every heartbeat whether the
    /// caller may still watch (token not revoked nor expired, role kept).
    pub still_allowed: Option<StillAllowed>,
    pub limits: Limits,
    /// Held for the session's life: frees the connection slot on drop.
    pub permit: SessionPermit,
    /// Where a storefront reports how it keeps up with the pushes.
    pub pace: Option<Pace>,
}

/// Whether the caller of a session may still watch it.
pub(super) type StillAllowed = Box<dyn FnMut() -> LocalBoxFuture<'static, bool> + Send>;

/// How a session ends.
enum Ending {
    /// With a close frame.
    Close(CloseReason),
    /// Without one: the client is gone, or stopped reading.
    Drop,
}

fn close(code: CloseCode, description: &str) -> Ending {
    Ending::Close(CloseReason {
        code,
        description: Some(description.to_owned()),
    })
}

impl<C: CatchUp> Live<C> {
    /// Runs on the upgraded `socket` (`early`: bytes the client sent right
    /// behind its handshake) until the client leaves, times out, or the
    /// feed closes it.
    pub async fn run(self, socket: TcpStream, early: Bytes) {
        let Live {
            feed,
            first,
            mut receiver,
            mut catch_up,
            mut still_allowed,
            limits,
            permit,
            pace,
        } = self;
        let frames_sent = metrics::counter!("ws_frames_sent_total", "feed" => feed);
        let push_lag = metrics::histogram!("ws_push_lag_seconds", "feed" => feed);
        let written = |out: Out| {
            if let Out::Text { at, .. } = out {
                frames_sent.increment(1);
                if let Some(at) = at {
                    push_lag.record(at.elapsed().as_secs_f64());
                }
            }
        };
        let fragment = limits.fragment;
        let mut reader = Reader::new(early, limits.max_frame);
        let mut outbox: VecDeque<Out> = first.iter().map(Out::text).collect();
        // When a write that makes no progress is given up on.
        let mut give_up = Instant::now() + limits.idle;
        let mut heartbeat = interval_at(Instant::now() + limits.heartbeat, limits.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let idle = sleep(limits.idle);
        tokio::pin!(idle);

        let ending = loop {
            tokio::select! {
                biased;
                incoming = reader.next(&socket) => match incoming {
                    None => break Ending::Drop,
                    Some(Err(ProtocolError::Overflow)) => {
                        break close(CloseCode::Size, "frame too large");
                    }
                    Some(Err(ProtocolError::Io(error))) => {
                        tracing::debug!(feed, %error, "websocket connection failed");
                        break Ending::Drop;
                    }
                    Some(Err(error)) => {
                        tracing::debug!(feed, %error, "websocket protocol error");
                        break close(CloseCode::Protocol, "protocol error");
                    }
                    Some(Ok(frame)) => {
                        idle.as_mut().reset(Instant::now() + limits.idle);
                        match frame {
                            ClientFrame::Ping(bytes) => {
                                restart_if_idle(&outbox, &mut give_up, limits.idle);
                                wire::queue_first(&mut outbox, Out::pong(bytes));
                            }
                            ClientFrame::Close(_) => break close(CloseCode::Normal, "bye"),
                            _ => {}
                        }
                    }
                },
                () = &mut idle => break close(CloseCode::Away, "idle timeout: no pong"),
                _ = heartbeat.tick() => {
                    if let Some(allowed) = still_allowed.as_mut() {
                        if !allowed().await {
                            break close(CloseCode::Policy, "access revoked: sign in again");
                        }
                    }
                    restart_if_idle(&outbox, &mut give_up, limits.idle);
                    outbox.push_back(Out::ping());
                }
                ready = socket.writable(), if !outbox.is_empty() => {
                    match ready.and_then(|()| wire::write_out(&socket, &mut outbox, fragment, written)) {
                        Ok(0) => {}
                        Ok(_) => give_up = Instant::now() + limits.idle,
                        Err(_) => break Ending::Drop,
                    }
                }
                () = sleep_until(give_up), if !outbox.is_empty() => {
                    metrics::counter!("ws_connections_dropped_total", "cause" => "stalled").increment(1);
                    break Ending::Drop;
                }
                pushed = receiver.recv(), if outbox.is_empty() => {
                    // Pushes already queued behind this one join the same
                    // burst (a session that fell behind catches up in one
                    // write), and a value superseded in it is never queued.
                    let mut taken = Vec::new();
                    let mut stop = take(pushed, &mut taken);
                    while stop.is_none() {
                        stop = match receiver.try_recv() {
                            Ok(push) => take(Ok(push), &mut taken),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Lagged(n)) => {
                                take(Err(RecvError::Lagged(n)), &mut taken)
                            }
                            Err(TryRecvError::Closed) => take(Err(RecvError::Closed), &mut taken),
                        };
                    }
                    if let Some(pace) = &pace {
                        pace.took(taken.len() > 1 || matches!(stop, Some(Stop::Resync("lagged"))));
                    }
                    // A burst of catch-up leaves no large buffer behind.
                    if outbox.capacity() > OUTBOX_KEPT {
                        outbox.shrink_to(OUTBOX_KEPT);
                    }
                    queue_latest(&taken, &mut outbox);
                    if let Some(stop) = stop {
                        let cause = match stop {
                            Stop::Closed => break close(CloseCode::Away, "shutting down"),
                            Stop::Resync(cause) => cause,
                        };
                        metrics::counter!("ws_resyncs_total", "feed" => feed, "cause" => cause)
                            .increment(1);
                        // Boxed: the catch-up (database reads) is rare, and its
                        // future would otherwise be part of every idle session.
                        match Box::pin(catch_up.catch_up()).await {
                            Some(fresh) => {
                                // The backlog goes (none of it is written yet, so
                                // no message is cut short); control frames stay.
                                outbox.retain(|o| !matches!(o, Out::Text { .. }));
                                outbox.push_back(Out::text(&fresh.snapshot));
                                receiver = fresh.receiver;
                            }
                            None => break close(CloseCode::Again, "fell behind: reconnect"),
                        }
                    }
                    give_up = Instant::now() + limits.idle;
                    // Most writes go through at once: no need to wait for
                    // the socket to say it is writable first.
                    if wire::write_out(&socket, &mut outbox, fragment, written).is_err() {
                        break Ending::Drop;
                    }
                }
            }
        };
        if let Ending::Close(reason) = ending {
            // The close frame after what is queued; a client that does not
            // read may never take it: wait for it no longer than for a pong.
            outbox.push_back(Out::close(&reason));
            let deadline = Instant::now() + limits.idle;
            while !outbox.is_empty() {
                let ready = tokio::select! {
                    ready = socket.writable() => ready,
                    () = sleep_until(deadline) => {
                        metrics::counter!("ws_connections_dropped_total", "cause" => "stalled")
                            .increment(1);
                        break;
                    }
                };
                if ready
                    .and_then(|()| wire::write_out(&socket, &mut outbox, fragment, written))
                    .is_err()
                {
                    break;
                }
            }
            if outbox.is_empty() {
                drop(permit);
                linger(socket).await;
                return;
            }
        }
        drop(permit);
    }
}

/// How long a closed session waits for the client to close its side.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// After the close frame: no more writes (FIN), then whatever the client
/// still sends (its own close frame) is read and dropped until it closes
/// too, for at most [`CLOSE_LINGER`]. Closing a socket with unread bytes
/// would reset the connection and could cost the client the close frame.
async fn linger(mut socket: TcpStream) {
    use tokio::io::AsyncWriteExt;
    if socket.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        loop {
            if socket.readable().await.is_err() {
                return;
            }
            let mut discard = [0u8; 512];
            match socket.try_read(&mut discard) {
                Ok(0) => return,
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_LINGER, drain).await;
}

/// A write that was idle starts its clock now.
fn restart_if_idle(outbox: &VecDeque<Out>, give_up: &mut Instant, idle: Duration) {
    if outbox.is_empty() {
        *give_up = Instant::now() + idle;
    }
}

/// Why taking pushes stops short.
enum Stop {
    /// The hub is gone.
    Closed,
    /// A fresh start is needed: `"requested"` or `"lagged"`.
    Resync(&'static str),
}

/// Takes a push's frames, or says why the session must stop or resync.
fn take(pushed: Result<Push, RecvError>, taken: &mut Vec<Arc<[Frame]>>) -> Option<Stop> {
    match pushed {
        Ok(Push::Frames(frames)) => {
            taken.push(frames);
            None
        }
        Ok(Push::Resync) => Some(Stop::Resync("requested")),
        Err(RecvError::Lagged(_)) => Some(Stop::Resync("lagged")),
        Err(RecvError::Closed) => Some(Stop::Closed),
    }
}

/// Slots an empty outbox keeps (beyond, it is shrunk before refilling).
const OUTBOX_KEPT: usize = 64;

/// Queues the frames of the pushes taken, in order, except those whose
/// every offer (the keys whose latest values they carry) a later frame
/// carries again. The client ends on the same values, sooner, and a session
/// that was hundreds of pushes behind queues little more than the last.
fn queue_latest(taken: &[Arc<[Frame]>], outbox: &mut VecDeque<Out>) {
    if let [frames] = taken {
        // One flush holds each offer once.
        outbox.extend(frames.iter().map(Out::text));
        return;
    }
    let mut seen: HashSet<u128, BuildHasherDefault<KeyHasher>> = HashSet::default();
    let mut kept: Vec<&Frame> = Vec::new();
    for frame in taken.iter().rev().flat_map(|frames| frames.iter().rev()) {
        let keys = frame.keys.as_slice();
        if keys.is_empty() {
            kept.push(frame);
            continue;
        }
        // Every key is recorded as seen from here on, fresh or not.
        let mut fresh = false;
        for key in keys {
            fresh |= seen.insert(key.as_u128());
        }
        if fresh {
            kept.push(frame);
        }
    }
    outbox.extend(kept.into_iter().rev().map(Out::text));
}

/// Hashes the keys of [`queue_latest`] (random v4 ids: folding their halves
/// is as good as SipHash here, and much cheaper on every session).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, key: u128) {
        self.0 ^= (key as u64) ^ ((key >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::FrameKeys;
    use bytestring::ByteString;
    use uuid::Uuid;

    fn frame(text: &str, keys: &[u128]) -> Frame {
        let keys = match keys {
            [] => FrameKeys::None,
            [one] => FrameKeys::One(Uuid::from_u128(*one)),
            many => FrameKeys::Many(many.iter().map(|k| Uuid::from_u128(*k)).collect()),
        };
        Frame {
            text: ByteString::from(text.to_owned()),
            at: None,
            keys,
        }
    }

    fn texts(outbox: &VecDeque<Out>) -> Vec<String> {
        outbox
            .iter()
            .map(|o| match o {
                Out::Text { text, .. } => text.to_string(),
                Out::Control { .. } => "control".into(),
            })
            .collect()
    }

    #[test]
    fn a_later_value_of_the_same_offer_supersedes_an_earlier_push() {
        let taken: Vec<Arc<[Frame]>> = vec![
            Arc::from(vec![frame("a1", &[1]), frame("b1", &[2])]),
            Arc::from(vec![frame("opened", &[])]),
            Arc::from(vec![frame("a2", &[1])]),
            Arc::from(vec![frame("opened again", &[]), frame("a3", &[1])]),
        ];
        let mut outbox = VecDeque::from([Out::ping()]);
        queue_latest(&taken, &mut outbox);
        assert_eq!(
            texts(&outbox),
            ["control", "b1", "opened", "opened again", "a3"]
        );
    }

    #[test]
    fn a_batch_is_dropped_only_once_later_frames_carry_all_its_offers() {
        let taken: Vec<Arc<[Frame]>> = vec![
            Arc::from(vec![frame("abc1", &[1, 2, 3])]),
            Arc::from(vec![frame("ab2", &[1, 2])]),
            Arc::from(vec![frame("bc3", &[2, 3])]),
            Arc::from(vec![frame("a4", &[1])]),
        ];
        let mut outbox = VecDeque::new();
        queue_latest(&taken, &mut outbox);
        // Every offer of abc1 and of ab2 comes again later.
        assert_eq!(texts(&outbox), ["bc3", "a4"]);

        let taken: Vec<Arc<[Frame]>> = vec![
            Arc::from(vec![frame("abc1", &[1, 2, 3])]),
            Arc::from(vec![frame("ab2", &[1, 2])]),
        ];
        let mut outbox = VecDeque::new();
        queue_latest(&taken, &mut outbox);
        assert_eq!(texts(&outbox), ["abc1", "ab2"], "c is only in the first");
    }

    #[test]
    fn a_single_push_is_queued_whole() {
        let taken: Vec<Arc<[Frame]>> = vec![Arc::from(vec![frame("a1", &[1]), frame("x", &[])])];
        let mut outbox = VecDeque::new();
        queue_latest(&taken, &mut outbox);
        assert_eq!(texts(&outbox), ["a1", "x"]);
    }
}
