//! What a client of an upgraded connection sent and its session has not
//! read yet: the request's payload, fed by the connection's pump.
//!
//! actix-http has the same thing for its dispatcher (`h1::Payload`) but
//! does not export the names of its sending half, so the pump could not
//! be a function of its own. This one is as small: chunks in a queue, the
//! reader's and the feeder's wakers, and a bound on what waits unread.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use actix_http::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// Unread bytes past which the pump stops reading from the client.
pub const MAX_UNREAD: usize = 32 * 1024;

#[derive(Default)]
struct Inbox {
    chunks: VecDeque<Bytes>,
    unread: usize,
    /// The client closed its side (or the pump stopped).
    ended: bool,
    error: Option<PayloadError>,
    /// The session, waiting for bytes.
    reader: Option<Waker>,
    /// The pump, waiting for room.
    feeder: Option<Waker>,
}

impl Inbox {
    fn wake_reader(&mut self) {
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
    }
}

/// The pump's half.
pub struct Feeder(Rc<RefCell<Inbox>>);

/// The session's half: the request's payload stream.
pub struct Incoming(Rc<RefCell<Inbox>>);

/// A new, empty inbox.
pub fn inbox() -> (Feeder, Incoming) {
    let shared = Rc::new(RefCell::new(Inbox::default()));
    (Feeder(shared.clone()), Incoming(shared))
}

impl Feeder {
    /// Adds what the client sent (dropped when nobody reads any more).
    pub fn feed(&mut self, bytes: Bytes) {
        if Rc::strong_count(&self.0) == 1 {
            return;
        }
        let mut inbox = self.0.borrow_mut();
        inbox.unread += bytes.len();
        inbox.chunks.push_back(bytes);
        inbox.wake_reader();
    }

    /// The client closed its side.
    pub fn end(&mut self) {
        let mut inbox = self.0.borrow_mut();
        inbox.ended = true;
        inbox.wake_reader();
    }

    /// Reading from the client failed.
    pub fn fail(&mut self, error: PayloadError) {
        let mut inbox = self.0.borrow_mut();
        inbox.error = Some(error);
        inbox.ended = true;
        inbox.wake_reader();
    }

    /// Ready while fewer than [`MAX_UNREAD`] bytes wait, or nobody reads
    /// any more (what comes next is dropped).
    pub fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if Rc::strong_count(&self.0) == 1 {
            return Poll::Ready(());
        }
        let mut inbox = self.0.borrow_mut();
        if inbox.unread < MAX_UNREAD {
            Poll::Ready(())
        } else {
            inbox.feeder = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for Feeder {
    /// A pump that stops ends the payload: the session must not wait for
    /// bytes that will never come.
    fn drop(&mut self) {
        self.end();
    }
}

impl Stream for Incoming {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut inbox = self.0.borrow_mut();
        if let Some(bytes) = inbox.chunks.pop_front() {
            inbox.unread -= bytes.len();
            if let Some(waker) = inbox.feeder.take() {
                waker.wake();
            }
            return Poll::Ready(Some(Ok(bytes)));
        }
        if let Some(error) = inbox.error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        if inbox.ended {
            return Poll::Ready(None);
        }
        inbox.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker_ref;

    fn poll(incoming: &mut Incoming) -> Poll<Option<Result<Bytes, PayloadError>>> {
        Pin::new(incoming).poll_next(&mut Context::from_waker(noop_waker_ref()))
    }

    fn room(feeder: &Feeder) -> Poll<()> {
        feeder.poll_room(&mut Context::from_waker(noop_waker_ref()))
    }

    #[test]
    fn chunks_come_out_in_order_then_the_end() {
        let (mut feeder, mut incoming) = inbox();
        assert!(poll(&mut incoming).is_pending());
        feeder.feed(Bytes::from_static(b"ab"));
        feeder.feed(Bytes::from_static(b"c"));
        feeder.end();
        assert!(matches!(poll(&mut incoming), Poll::Ready(Some(Ok(b))) if b == "ab"));
        assert!(matches!(poll(&mut incoming), Poll::Ready(Some(Ok(b))) if b == "c"));
        assert!(matches!(poll(&mut incoming), Poll::Ready(None)));
    }

    #[test]
    fn reading_pauses_past_the_bound_until_the_session_reads() {
        let (mut feeder, mut incoming) = inbox();
        feeder.feed(Bytes::from(vec![0u8; MAX_UNREAD - 1]));
        assert!(room(&feeder).is_ready());
        feeder.feed(Bytes::from_static(b"x"));
        assert!(room(&feeder).is_pending());
        assert!(matches!(poll(&mut incoming), Poll::Ready(Some(Ok(_)))));
        assert!(room(&feeder).is_ready());
    }

    #[test]
    fn a_session_gone_leaves_room_for_everything() {
        let (mut feeder, incoming) = inbox();
        feeder.feed(Bytes::from(vec![0u8; MAX_UNREAD]));
        assert!(room(&feeder).is_pending());
        drop(incoming);
        assert!(room(&feeder).is_ready());
        feeder.feed(Bytes::from(vec![0u8; MAX_UNREAD]));
        assert_eq!(
            feeder.0.borrow().unread,
            MAX_UNREAD,
            "nothing kept for nobody"
        );
    }

    #[test]
    fn a_failed_read_is_an_error_then_the_end() {
        let (mut feeder, mut incoming) = inbox();
        feeder.fail(PayloadError::Incomplete(None));
        assert!(matches!(poll(&mut incoming), Poll::Ready(Some(Err(_)))));
        assert!(matches!(poll(&mut incoming), Poll::Ready(None)));
    }

    #[test]
    fn a_pump_that_stops_ends_the_payload() {
        let (feeder, mut incoming) = inbox();
        drop(feeder);
        assert!(matches!(poll(&mut incoming), Poll::Ready(None)));
    }
}
