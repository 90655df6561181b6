//! The session loop shared by every live feed (after `actix/examples`
//! `websockets/chat-actorless`): one task per connection, a `select!` over
//! the client's frames, the hub's pushes, the heartbeat and the write of the
//! next queued frame, so none of them waits on another.
//!
//! Backpressure: the loop takes the next push from its broadcast receiver
//! only when everything before it is written. A client that does not read
//! stalls its own writes, so the receiver falls more than
//! `ws_buffer_frames` pushes behind and loses its backlog (`Lagged`) — the
//! engine and the other sessions never wait. Then a storefront takes a
//! fresh snapshot, and a producer or market feed is closed with a reason.
//!
//! Heartbeat: a ping every `ws_heartbeat_secs`; any frame from the client
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

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_ws::{CloseCode, CloseReason, Item, Message, MessageStream, ProtocolError, Session};
use tokio::sync::broadcast::{self, error::RecvError};
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
    pub limits: Limits,
    /// Held for the session's life: frees the connection slot on drop.
    pub permit: SessionPermit,
}

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
            limits,
            permit,
        } = self;
        let frames_sent = metrics::counter!("ws_frames_sent_total", "feed" => feed);
        let push_lag = metrics::histogram!("ws_push_lag_seconds", "feed" => feed);
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
                _ = heartbeat.tick() => outbox.push_back(Out::Ping),
                written = write(&mut ws, outbox.front(), limits.fragment), if !outbox.is_empty() => {
                    if written.is_err() {
                        break None;
                    }
                    if let Some(Out::Text { frame, sent }) = outbox.front_mut() {
                        *sent = (*sent + limits.fragment).min(frame.text.len());
                        if *sent < frame.text.len() {
                            // Let the connection write this piece before
                            // the next one is queued behind it.
                            tokio::task::yield_now().await;
                            continue;
                        }
                    }
                    if let Some(Out::Text { frame, .. }) = outbox.pop_front() {
                        frames_sent.increment(1);
                        if let Some(at) = frame.at {
                            push_lag.record(at.elapsed().as_secs_f64());
                        }
                    }
                },
                pushed = receiver.recv(), if outbox.is_empty() => {
                    let cause = match pushed {
                        Ok(Push::Frames(frames)) => {
                            outbox.extend(frames.iter().cloned().map(Out::text));
                            continue;
                        }
                        Err(RecvError::Closed) => break reason(CloseCode::Away, "shutting down"),
                        Ok(Push::Resync) => "requested",
                        Err(RecvError::Lagged(_)) => "lagged",
                    };
                    metrics::counter!("ws_resyncs_total", "feed" => feed, "cause" => cause)
                        .increment(1);
                    // Boxed: the catch-up (database reads) is rare, and its
                    // future would otherwise be part of every idle session.
                    match Box::pin(catch_up.catch_up()).await {
                        Some(fresh) => {
                            // The backlog goes (the outbox is empty here, so
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
