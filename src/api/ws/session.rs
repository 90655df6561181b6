//! The session loop shared by every live feed (after `actix/examples`
//! `websockets/chat-actorless`): one task per connection, a `select!` over
//! the client's frames, the hub's pushes, the heartbeat and the write of the
//! next queued frame, so none of them waits on another.
//!
//! Backpressure: the loop takes the next push from its broadcast receiver
//! only when everything before it is written — with every push already
//! queued behind it, dropping the values a later frame of the same offer
//! supersedes — and writes them in one burst (as many as the connection's
//! channel takes at once, not one frame per turn of the loop). A client
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
//! Memory: a message longer than `ws_fragment_bytes` (a storefront's
//! snapshot) goes out as continuation frames of that size, each one
//! handed over after the previous one had its turn to be written. The
//! connection's write buffer (actix-http keeps its largest size for the
//! connection's life) then stays at its initial 8 KiB instead of growing
//! to the largest message ever sent. Clients reassemble the message
//! (browsers and tungstenite do); control frames may come between pieces.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_ws::{CloseCode, CloseReason, Item, Message, MessageStream, ProtocolError, Session};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};
use tokio::time::{interval_at, sleep, Instant, MissedTickBehavior};

use crate::engine::events::{Frame, Push, SessionPermit, Subscription};

/// Timing of a session.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub heartbeat: Duration,
    pub idle: Duration,
    /// Longest outgoing frame; longer messages are fragmented.
    pub fragment: usize,
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

/// What waits to be written.
enum Out {
    /// A message, of which the first `sent` bytes are written (as
    /// fragments).
    Text {
        frame: Frame,
        sent: usize,
    },
    Ping,
    Pong(Bytes),
}

impl Out {
    fn text(frame: Frame) -> Self {
        Self::Text { frame, sent: 0 }
    }
}

/// Everything a session loop needs.
pub(super) struct Live<C> {
    pub feed: &'static str,
    pub ws: Session,
    pub stream: MessageStream,
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
}

/// Whether the caller of a session may still watch it.
pub(super) type StillAllowed = Box<dyn FnMut() -> LocalBoxFuture<'static, bool>>;

fn reason(code: CloseCode, description: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code,
        description: Some(description.to_owned()),
    })
}

impl<C: CatchUp> Live<C> {
    /// Runs until the client leaves, times out, or the feed closes it.
    pub async fn run(self) {
        let Live {
            feed,
            mut ws,
            mut stream,
            first,
            mut receiver,
            mut catch_up,
            mut still_allowed,
            limits,
            permit,
        } = self;
        let frames_sent = metrics::counter!("ws_frames_sent_total", "feed" => feed);
        let push_lag = metrics::histogram!("ws_push_lag_seconds", "feed" => feed);
        let fragment = limits.fragment;
        let mut outbox: VecDeque<Out> = first.into_iter().map(Out::text).collect();
        let mut heartbeat = interval_at(Instant::now() + limits.heartbeat, limits.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let idle = sleep(limits.idle);
        tokio::pin!(idle);

        let close: Option<CloseReason> = loop {
            tokio::select! {
                biased;
                incoming = stream.recv() => match incoming {
                    None => break None,
                    Some(Err(ProtocolError::Overflow)) => {
                        break reason(CloseCode::Size, "frame too large");
                    }
                    Some(Err(error)) => {
                        tracing::debug!(feed, %error, "websocket protocol error");
                        break reason(CloseCode::Protocol, "protocol error");
                    }
                    Some(Ok(message)) => {
                        idle.as_mut().reset(Instant::now() + limits.idle);
                        match message {
                            Message::Ping(bytes) => outbox.push_front(Out::Pong(bytes)),
                            Message::Close(_) => break reason(CloseCode::Normal, "bye"),
                            _ => {}
                        }
                    }
                },
                () = &mut idle => break reason(CloseCode::Away, "idle timeout: no pong"),
                _ = heartbeat.tick() => {
                    if let Some(allowed) = still_allowed.as_mut() {
                        if !allowed().await {
                            break reason(CloseCode::Policy, "access revoked: sign in again");
                        }
                    }
                    outbox.push_back(Out::Ping);
                }
                written = write(&mut ws, outbox.front(), fragment), if !outbox.is_empty() => {
                    if written.is_err() {
                        break None;
                    }
                    // Then whatever the channel takes at once, without a
                    // turn of the loop per frame: a flush's frames (or a
                    // backlog) go out in one burst, so in one write.
                    let mut closed = false;
                    while let Some(next) = advance(&mut outbox, fragment, &frames_sent, &push_lag) {
                        if next == Next::Piece {
                            // Let the connection write this piece before
                            // the next one is queued behind it.
                            tokio::task::yield_now().await;
                            break;
                        }
                        match write(&mut ws, outbox.front(), fragment).now_or_never() {
                            Some(Ok(())) => {}
                            Some(Err(_)) => {
                                closed = true;
                                break;
                            }
                            None => break,
                        }
                    }
                    if closed {
                        break None;
                    }
                },
                pushed = receiver.recv(), if outbox.is_empty() => {
                    // Pushes already queued behind this one join the same
                    // burst (a session that fell behind catches up in one
                    // write), and a value superseded in it is dropped.
                    let mut stop = take(pushed, &mut outbox);
                    let mut pushes = 1;
                    while stop.is_none() {
                        stop = match receiver.try_recv() {
                            Ok(push) => take(Ok(push), &mut outbox),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Lagged(n)) => {
                                take(Err(RecvError::Lagged(n)), &mut outbox)
                            }
                            Err(TryRecvError::Closed) => take(Err(RecvError::Closed), &mut outbox),
                        };
                        pushes += 1;
                    }
                    if pushes > 1 {
                        supersede(&mut outbox);
                    }
                    let cause = match stop {
                        None => continue,
                        Some(Stop::Closed) => break reason(CloseCode::Away, "shutting down"),
                        Some(Stop::Resync(cause)) => cause,
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
                            outbox.push_back(Out::text(fresh.snapshot));
                            receiver = fresh.receiver;
                        }
                        None => break reason(CloseCode::Again, "fell behind: reconnect"),
                    }
                }
            }
        };
        // A client that does not read may never take the close frame: wait
        // for it no longer than for a pong.
        let _ = tokio::time::timeout(limits.idle, ws.close(close)).await;
        drop(permit);
    }
}

/// What follows a write.
#[derive(PartialEq, Eq)]
enum Next {
    /// The next item, if any.
    Item,
    /// The next piece of the same message.
    Piece,
}

/// Accounts for the write of the outbox's first item (or piece of it);
/// `None` when the outbox is empty.
fn advance(
    outbox: &mut VecDeque<Out>,
    fragment: usize,
    frames_sent: &metrics::Counter,
    push_lag: &metrics::Histogram,
) -> Option<Next> {
    if let Some(Out::Text { frame, sent }) = outbox.front_mut() {
        *sent = (*sent + fragment).min(frame.text.len());
        if *sent < frame.text.len() {
            return Some(Next::Piece);
        }
    }
    if let Some(Out::Text { frame, .. }) = outbox.pop_front() {
        frames_sent.increment(1);
        if let Some(at) = frame.at {
            push_lag.record(at.elapsed().as_secs_f64());
        }
    }
    (!outbox.is_empty()).then_some(Next::Item)
}

/// Why taking pushes stops short.
enum Stop {
    /// The hub is gone.
    Closed,
    /// A fresh start is needed: `"requested"` or `"lagged"`.
    Resync(&'static str),
}

/// Queues a push's frames, or says why the session must stop or resync.
fn take(pushed: Result<Push, RecvError>, outbox: &mut VecDeque<Out>) -> Option<Stop> {
    match pushed {
        Ok(Push::Frames(frames)) => {
            outbox.extend(frames.iter().cloned().map(Out::text));
            None
        }
        Ok(Push::Resync) => Some(Stop::Resync("requested")),
        Err(RecvError::Lagged(_)) => Some(Stop::Resync("lagged")),
        Err(RecvError::Closed) => Some(Stop::Closed),
    }
}

/// Drops every unwritten frame that a later one with the same key (the
/// offer whose latest value they carry) supersedes; the rest keep their
/// order. The client ends on the same values, sooner.
fn supersede(outbox: &mut VecDeque<Out>) {
    let mut seen: HashSet<u128, BuildHasherDefault<KeyHasher>> =
        HashSet::with_capacity_and_hasher(outbox.len(), BuildHasherDefault::default());
    let mut keep = vec![true; outbox.len()];
    for (i, out) in outbox.iter().enumerate().rev() {
        if let Out::Text {
            frame: Frame { key: Some(key), .. },
            sent: 0,
        } = out
        {
            if !seen.insert(key.as_u128()) {
                keep[i] = false;
            }
        }
    }
    let mut keep = keep.into_iter();
    outbox.retain(|_| keep.next().unwrap_or(true));
}

/// Hashes the keys of [`supersede`] (random v4 ids: folding their halves
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

/// Writes one queued item, or the next piece of a message longer than
/// `fragment` (the future is dropped and retried if another branch wins;
/// the actix-ws channel then has not taken it).
async fn write(
    ws: &mut Session,
    out: Option<&Out>,
    fragment: usize,
) -> Result<(), actix_ws::Closed> {
    match out {
        Some(Out::Text { frame, sent: 0 }) if frame.text.len() <= fragment => {
            ws.text(frame.text.clone()).await
        }
        Some(Out::Text { frame, sent }) => {
            let bytes = frame.text.as_bytes();
            let end = (sent + fragment).min(bytes.len());
            let piece = bytes.slice(*sent..end);
            let item = if *sent == 0 {
                Item::FirstText(piece)
            } else if end == bytes.len() {
                Item::Last(piece)
            } else {
                Item::Continue(piece)
            };
            ws.continuation(item).await
        }
        Some(Out::Ping) => ws.ping(b"").await,
        Some(Out::Pong(bytes)) => ws.pong(bytes).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytestring::ByteString;
    use uuid::Uuid;

    fn frame(text: &str, key: Option<Uuid>) -> Out {
        Out::text(Frame {
            text: ByteString::from(text.to_owned()),
            at: None,
            key,
        })
    }

    fn texts(outbox: &VecDeque<Out>) -> Vec<String> {
        outbox
            .iter()
            .map(|o| match o {
                Out::Text { frame, .. } => frame.text.to_string(),
                Out::Ping => "ping".into(),
                Out::Pong(_) => "pong".into(),
            })
            .collect()
    }

    #[test]
    fn a_later_value_of_the_same_offer_supersedes_an_unwritten_one() {
        let (a, b) = (Some(Uuid::from_u128(1)), Some(Uuid::from_u128(2)));
        let mut outbox: VecDeque<Out> = [
            frame("a1", a),
            frame("b1", b),
            frame("opened", None),
            Out::Ping,
            frame("a2", a),
            frame("opened again", None),
            frame("a3", a),
        ]
        .into_iter()
        .collect();
        supersede(&mut outbox);
        assert_eq!(
            texts(&outbox),
            ["b1", "opened", "ping", "opened again", "a3"]
        );
    }

    #[test]
    fn a_message_partly_written_is_never_dropped() {
        let a = Some(Uuid::from_u128(1));
        let mut outbox: VecDeque<Out> = [frame("a1", a), frame("a2", a)].into_iter().collect();
        if let Some(Out::Text { sent, .. }) = outbox.front_mut() {
            *sent = 1;
        }
        supersede(&mut outbox);
        assert_eq!(texts(&outbox), ["a1", "a2"]);
    }
}
