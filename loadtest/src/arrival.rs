//! When a watcher's bytes *arrived*, as opposed to when the watcher got
//! round to reading them.
//!
//! With thousands of watchers on the tester's own cores, a frame can wait
//! in the socket's receive queue while the tester is busy elsewhere: the
//! push lag measured when a frame is *processed* then includes the
//! tester's own queueing. The kernel stamps every received segment
//! (`SO_TIMESTAMP`); [`ArrivalStream`] reads with `recvmsg` and keeps the
//! stamp of the latest read, so each frame gets a second time — the
//! arrival of the last segment read with it. That is never earlier than
//! the frame's true arrival (a read may also take later segments), so the
//! lag measured on it is an upper bound of the engine's share.
//!
//! Linux (and other systems whose TCP honours `SO_TIMESTAMP`); where the
//! option is refused, no arrival is recorded and the arrival lag is left
//! out of the report. The kernel starts stamping a moment after the first
//! socket asks: a frame read before that is timed by its read.

use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};
use nix::sys::time::TimeVal;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

use crate::record::realtime_to_us;

/// No arrival recorded yet.
pub const NONE: u64 = 0;

/// A TCP stream that remembers the kernel's receive time of its latest
/// read (µs since the process epoch, [`NONE`] before any).
pub struct ArrivalStream {
    inner: TcpStream,
    latest: Arc<AtomicU64>,
    /// `recvmsg` calls made (for the tests: one per read that gets bytes).
    receives: u64,
}

impl ArrivalStream {
    /// Turns on the kernel's receive timestamps (where the system refuses
    /// them the stream still works, and the latest arrival stays [`NONE`]).
    pub fn new(inner: TcpStream) -> (Self, Arc<AtomicU64>) {
        let _ = setsockopt(&inner, sockopt::ReceiveTimestamp, &true);
        let latest = Arc::new(AtomicU64::new(NONE));
        (
            Self {
                inner,
                latest: latest.clone(),
                receives: 0,
            },
            latest,
        )
    }
}

/// One `recvmsg`: the bytes read and the arrival stamp that came with them.
fn receive(socket: &TcpStream, into: &mut [u8]) -> io::Result<(usize, Option<u64>)> {
    let mut iov = [IoSliceMut::new(into)];
    let mut space = nix::cmsg_space!(TimeVal);
    let message = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let mut stamp = None;
    if let Ok(cmsgs) = message.cmsgs() {
        for cmsg in cmsgs {
            if let ControlMessageOwned::ScmTimestamp(at) = cmsg {
                let since_epoch = Duration::from_secs(u64::try_from(at.tv_sec()).unwrap_or(0))
                    + Duration::from_micros(u64::try_from(at.tv_usec()).unwrap_or(0));
                stamp = realtime_to_us(UNIX_EPOCH + since_epoch);
            }
        }
    }
    Ok((message.bytes, stamp))
}

impl AsyncRead for ArrivalStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.inner.poll_read_ready(cx))?;
            let into = buf.initialize_unfilled();
            let wanted = into.len();
            let mut drained = None;
            let receives = &mut this.receives;
            let outcome = this.inner.try_io(Interest::READABLE, || {
                *receives += 1;
                let (read, stamp) = receive(&this.inner, into)?;
                if read > 0 && read < wanted {
                    // Less than asked: the queue is empty. Answering "would
                    // block" makes tokio clear the readiness it saw before
                    // this read (kept if bytes were signalled since), as
                    // its own `TcpStream` does, instead of a second
                    // `recvmsg` per frame that would only say so.
                    drained = Some((read, stamp));
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok((read, stamp))
            });
            let (read, stamp) = match (outcome, drained) {
                (Ok(got), _) | (Err(_), Some(got)) => got,
                (Err(error), None) if error.kind() == io::ErrorKind::WouldBlock => continue,
                (Err(error), None) => return Poll::Ready(Err(error)),
            };
            if let Some(at) = stamp {
                this.latest.store(at.max(1), Ordering::Relaxed);
            }
            buf.advance(read);
            return Poll::Ready(Ok(()));
        }
    }
}

impl AsyncWrite for ArrivalStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::now_us;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_read_carries_the_time_its_bytes_arrived_not_the_time_it_ran() {
        crate::record::init_clock();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let client = TcpStream::connect(address).await.expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        let (mut stream, latest) = ArrivalStream::new(client);
        assert_eq!(latest.load(Ordering::Relaxed), NONE);
        // The kernel turns stamping on a moment after the first socket asks
        // (deferred work): segments received before that carry none.
        for _ in 0..100 {
            server.write_all(b".").await.expect("write");
            let mut dot = [0u8; 1];
            stream.read_exact(&mut dot).await.expect("read");
            if latest.load(Ordering::Relaxed) != NONE {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_ne!(latest.load(Ordering::Relaxed), NONE, "arrivals are stamped");

        let sent = now_us();
        server.write_all(b"hello").await.expect("write");
        // The bytes wait in the receive queue while the reader is busy.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut got = [0u8; 5];
        stream.read_exact(&mut got).await.expect("read");
        let read = now_us();

        assert_eq!(&got, b"hello");
        let arrived = latest.load(Ordering::Relaxed);
        // Generous bounds against the two clocks (realtime vs monotonic).
        assert!(
            arrived + 5_000 >= sent,
            "arrived {arrived} µs, sent {sent} µs"
        );
        assert!(
            arrived + 200_000 <= read,
            "the arrival ({arrived} µs) is the kernel's, not the read's ({read} µs)"
        );

        // Writing goes straight through.
        stream.write_all(b"back").await.expect("write back");
        let mut echo = [0u8; 4];
        server.read_exact(&mut echo).await.expect("read back");
        assert_eq!(&echo, b"back");
    }

    #[tokio::test]
    async fn a_read_that_drains_the_socket_costs_one_system_call() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let client = TcpStream::connect(address).await.expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        let (mut stream, _) = ArrivalStream::new(client);
        for frame in [&b"one"[..], b"two", b"three"] {
            let mut into = [0u8; 64];
            // The reader comes back before the next frame is sent, as a
            // watcher does: it must find out there is nothing to read
            // without asking the kernel.
            assert!(futures_util::FutureExt::now_or_never(stream.read(&mut into)).is_none());
            server.write_all(frame).await.expect("write");
            let read = stream.read(&mut into).await.expect("read");
            assert_eq!(&into[..read], frame, "each frame is read whole, none lost");
        }
        // Not 5: no "would block" read after each short one.
        assert_eq!(stream.receives, 3);
    }
}
