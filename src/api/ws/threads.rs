//! The threads live sessions run on, apart from the HTTP workers.
//!
//! A storefront rush is thousands of sessions woken together by every
//! flush of the event hub, each writing to its socket. On an HTTP worker
//! they would queue in front of the orders arriving on the same thread
//! (measured: with 10,000 watchers, order latency p50 0.7 s, 60 orders/s).
//! On threads of their own the operating system shares the cores between
//! them and the workers, and an order's few wake-ups do not wait for a
//! whole fan-out.
//!
//! After its `101` a session's socket leaves the worker's reactor
//! ([`tokio::net::TcpStream::into_std`]) and joins the reactor of one of
//! these threads (taken in turn), where the session then lives
//! (`server.live_threads`, 0: one per core).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Arbiter;
use actix_web::web::Bytes;
use tokio::net::TcpStream;

/// The live threads (cheap to clone; `stop` ends them).
#[derive(Clone)]
pub struct LiveThreads {
    inner: Arc<Inner>,
}

struct Inner {
    arbiters: Vec<Arbiter>,
    next: AtomicUsize,
}

impl LiveThreads {
    /// Starts `threads` threads (0: one per core). Must run inside an
    /// actix system.
    pub fn start(threads: usize) -> Self {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        Self {
            inner: Arc::new(Inner {
                arbiters: (0..threads).map(|_| Arbiter::new()).collect(),
                next: AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `session` on `socket` on the next live thread.
    pub async fn run<S, F>(&self, socket: TcpStream, early: Bytes, session: S)
    where
        S: FnOnce(TcpStream, Bytes) -> F + Send + 'static,
        F: Future<Output = ()> + 'static,
    {
        let count = self.inner.arbiters.len().max(1);
        let index = self.inner.next.fetch_add(1, Ordering::Relaxed) % count;
        let Some(arbiter) = self.inner.arbiters.get(index) else {
            // No thread was started (`start` always starts one): stay here.
            return session(socket, early).await;
        };
        let socket = match socket.into_std() {
            Ok(socket) => socket,
            Err(error) => {
                tracing::debug!(%error, "live session socket not handed over");
                return;
            }
        };
        let placed = arbiter.spawn_fn(move || match TcpStream::from_std(socket) {
            Ok(socket) => {
                actix::spawn(session(socket, early));
            }
            Err(error) => tracing::debug!(%error, "live session socket not taken over"),
        });
        if !placed {
            tracing::debug!("live thread stopped; session dropped");
        }
    }

    /// Stops the threads once `open_sessions` reports none left or `grace`
    /// has passed (sessions told to close get that long to say goodbye).
    pub async fn stop(&self, grace: Duration, open_sessions: impl Fn() -> usize) {
        let deadline = tokio::time::Instant::now() + grace;
        while open_sessions() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for arbiter in &self.inner.arbiters {
            arbiter.stop();
        }
    }
}
