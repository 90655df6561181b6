//! A live session's WebSocket wire, straight on its socket (RFC 6455,
//! server side), once [`crate::api::upgraded`] hands the connection over.
//!
//! Why not actix-ws's session: it copies every message, through a channel
//! to the connection's task, into a buffer of that connection. A flush of
//! the hub sends one shared frame to thousands of sessions; here each
//! session writes the frame's bytes themselves — the header (2–10 bytes)
//! computed at write time, the text shared by every subscriber — with as
//! many queued messages as fit in one vectored write. Client frames are
//! decoded with actix-http's codec (the one actix-ws uses), read through a
//! 512-byte stack buffer; nothing stays allocated while the client is quiet.

use std::collections::VecDeque;
use std::io::{self, IoSlice};

use actix_codec::Decoder;
use actix_http::ws::{CloseReason, Codec, Frame as ClientFrame, ProtocolError};
use actix_web::web::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use std::time::Instant;
use tokio::net::TcpStream;

use crate::engine::events::Frame;

/// Bytes read from a client at a time (clients send pongs and closes).
const READ_CHUNK: usize = 512;
/// Frames (or pieces of a fragmented message) per vectored write.
const PIECES_PER_WRITE: usize = 32;

const OPCODE_CONTINUATION: u8 = 0x0;
const OPCODE_TEXT: u8 = 0x1;
const OPCODE_CLOSE: u8 = 0x8;
const OPCODE_PING: u8 = 0x9;
const OPCODE_PONG: u8 = 0xA;

/// What waits to be written, and how much of it is on the wire.
pub enum Out {
    /// A message (a frame's shared text, and when the change it reports
    /// happened); longer than the fragment size, it goes out as a text
    /// frame and continuation frames.
    Text {
        text: ByteString,
        at: Option<Instant>,
        sent: usize,
    },
    /// A ping, pong or close frame.
    Control {
        opcode: u8,
        payload: Bytes,
        sent: usize,
    },
}

impl Out {
    pub fn text(frame: &Frame) -> Self {
        Self::Text {
            text: frame.text.clone(),
            at: frame.at,
            sent: 0,
        }
    }

    pub fn ping() -> Self {
        Self::control(OPCODE_PING, Bytes::new())
    }

    pub fn pong(payload: Bytes) -> Self {
        Self::control(OPCODE_PONG, payload)
    }

    /// A close frame: the code, then the reason (cut to the 123 bytes a
    /// control frame leaves for it).
    pub fn close(reason: &CloseReason) -> Self {
        let mut payload = BytesMut::with_capacity(125);
        payload.put_u16(reason.code.into());
        if let Some(description) = &reason.description {
            let mut end = description.len().min(123);
            while !description.is_char_boundary(end) {
                end -= 1;
            }
            payload.put_slice(&description.as_bytes()[..end]);
        }
        Self::control(OPCODE_CLOSE, payload.freeze())
    }

    fn control(opcode: u8, payload: Bytes) -> Self {
        Self::Control {
            opcode,
            payload,
            sent: 0,
        }
    }

    /// Bytes of it already written.
    pub fn sent(&self) -> usize {
        match self {
            Self::Text { sent, .. } | Self::Control { sent, .. } => *sent,
        }
    }

    fn sent_mut(&mut self) -> &mut usize {
        match self {
            Self::Text { sent, .. } | Self::Control { sent, .. } => sent,
        }
    }

    fn piece_count(&self, fragment: usize) -> usize {
        match self {
            Self::Text { text, .. } => text.len().div_ceil(fragment).max(1),
            Self::Control { .. } => 1,
        }
    }

    /// The `i`-th frame of it on the wire: header and payload.
    fn piece(&self, i: usize, fragment: usize) -> (Header, &[u8]) {
        match self {
            Self::Text { text, .. } => {
                let text = text.as_bytes();
                let start = (i * fragment).min(text.len());
                let end = (start + fragment).min(text.len());
                let opcode = if i == 0 {
                    OPCODE_TEXT
                } else {
                    OPCODE_CONTINUATION
                };
                let last = i + 1 == self.piece_count(fragment);
                (Header::new(last, opcode, end - start), &text[start..end])
            }
            Self::Control {
                opcode, payload, ..
            } => (Header::new(true, *opcode, payload.len()), payload),
        }
    }

    /// Its length on the wire.
    fn wire_len(&self, fragment: usize) -> usize {
        (0..self.piece_count(fragment))
            .map(|i| {
                let (header, payload) = self.piece(i, fragment);
                header.len + payload.len()
            })
            .sum()
    }
}

/// A frame header of a server (never masked), of which the bytes before
/// `start` are already written.
#[derive(Clone, Copy)]
struct Header {
    bytes: [u8; 10],
    len: usize,
    start: usize,
}

impl Header {
    const EMPTY: Self = Self {
        bytes: [0; 10],
        len: 0,
        start: 0,
    };

    fn new(fin: bool, opcode: u8, payload_len: usize) -> Self {
        let mut bytes = [0u8; 10];
        bytes[0] = if fin { 0x80 } else { 0 } | opcode;
        let len = match payload_len {
            0..=125 => {
                bytes[1] = payload_len as u8;
                2
            }
            126..=0xFFFF => {
                bytes[1] = 126;
                bytes[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
                4
            }
            _ => {
                bytes[1] = 127;
                bytes[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
                10
            }
        };
        Self {
            bytes,
            len,
            start: 0,
        }
    }

    fn unwritten(&self) -> &[u8] {
        &self.bytes[self.start..self.len]
    }
}

/// Writes as much of the outbox as the socket takes now, in one system
/// call, and removes what is entirely written (handing each to `done`).
/// Returns the bytes written: 0 when the socket is full.
pub fn write_out(
    socket: &TcpStream,
    outbox: &mut VecDeque<Out>,
    fragment: usize,
    mut done: impl FnMut(Out),
) -> io::Result<usize> {
    let written = {
        let mut headers = [Header::EMPTY; PIECES_PER_WRITE];
        let mut payloads: [&[u8]; PIECES_PER_WRITE] = [&[]; PIECES_PER_WRITE];
        let mut pieces = 0;
        'outbox: for out in outbox.iter() {
            let mut skip = out.sent();
            for i in 0..out.piece_count(fragment) {
                if pieces == PIECES_PER_WRITE {
                    break 'outbox;
                }
                let (mut header, payload) = out.piece(i, fragment);
                if skip >= header.len + payload.len() {
                    skip -= header.len + payload.len();
                    continue;
                }
                header.start = skip.min(header.len);
                payloads[pieces] = &payload[skip.saturating_sub(header.len)..];
                headers[pieces] = header;
                skip = 0;
                pieces += 1;
            }
        }
        let mut slices = [IoSlice::new(&[]); 2 * PIECES_PER_WRITE];
        let mut count = 0;
        for (header, payload) in headers.iter().zip(payloads).take(pieces) {
            for part in [header.unwritten(), payload] {
                if !part.is_empty() {
                    slices[count] = IoSlice::new(part);
                    count += 1;
                }
            }
        }
        match socket.try_write_vectored(&slices[..count]) {
            Ok(written) => written,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => 0,
            Err(error) => return Err(error),
        }
    };
    let mut left = written;
    while left > 0 {
        let Some(front) = outbox.front_mut() else {
            break;
        };
        let remaining = front.wire_len(fragment) - front.sent();
        if left < remaining {
            *front.sent_mut() += left;
            break;
        }
        left -= remaining;
        if let Some(out) = outbox.pop_front() {
            done(out);
        }
    }
    Ok(written)
}

/// Queues a control frame as early as the wire allows: first, unless the
/// first item is partly written (a frame cannot be cut into).
pub fn queue_first(outbox: &mut VecDeque<Out>, out: Out) {
    match outbox.front() {
        Some(front) if front.sent() > 0 => outbox.insert(1, out),
        _ => outbox.push_front(out),
    }
}

/// The client's side: what it sent, decoded frame by frame.
pub struct Reader {
    inbound: BytesMut,
    codec: Codec,
}

impl Reader {
    /// `early`: bytes that came right behind the handshake; frames over
    /// `max_frame` bytes are refused.
    pub fn new(early: Bytes, max_frame: usize) -> Self {
        Self {
            inbound: BytesMut::from(&early[..]),
            codec: Codec::new().max_size(max_frame),
        }
    }

    /// The client's next frame; `None` once it closed the connection.
    /// Cancel-safe: what was read stays for the next call.
    pub async fn next(&mut self, socket: &TcpStream) -> Option<Result<ClientFrame, ProtocolError>> {
        loop {
            match self.codec.decode(&mut self.inbound) {
                Ok(Some(frame)) => {
                    if self.inbound.is_empty() {
                        // Nothing kept while the client is quiet.
                        self.inbound = BytesMut::new();
                    }
                    return Some(Ok(frame));
                }
                Ok(None) => {}
                Err(error) => return Some(Err(error)),
            }
            if let Err(error) = socket.readable().await {
                return Some(Err(ProtocolError::Io(error)));
            }
            let mut buffer = [0u8; READ_CHUNK];
            match socket.try_read(&mut buffer) {
                Ok(0) => return None,
                Ok(read) => self.inbound.extend_from_slice(&buffer[..read]),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Some(Err(ProtocolError::Io(error))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::FrameKeys;

    fn text(s: &str) -> Out {
        Out::text(&Frame {
            text: ByteString::from(s.to_owned()),
            at: None,
            keys: FrameKeys::None,
        })
    }

    /// The whole wire of an item, piece by piece.
    fn wire(out: &Out, fragment: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for i in 0..out.piece_count(fragment) {
            let (header, payload) = out.piece(i, fragment);
            bytes.extend_from_slice(header.unwritten());
            bytes.extend_from_slice(payload);
        }
        bytes
    }

    #[test]
    fn headers_use_the_three_length_forms() {
        assert_eq!(Header::new(true, OPCODE_TEXT, 5).unwritten(), [0x81, 5]);
        assert_eq!(
            Header::new(false, OPCODE_TEXT, 300).unwritten(),
            [0x01, 126, 0x01, 0x2c]
        );
        assert_eq!(
            Header::new(true, OPCODE_CONTINUATION, 70_000).unwritten(),
            [0x80, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]
        );
    }

    #[test]
    fn a_long_message_goes_out_as_a_text_frame_and_continuations() {
        let out = text("abcdefg");
        assert_eq!(
            wire(&out, 3),
            [&[0x01, 3][..], b"abc", &[0x00, 3], b"def", &[0x80, 1], b"g"].concat()
        );
        assert_eq!(out.wire_len(3), 7 + 6);
        assert_eq!(wire(&text(""), 3), [0x81, 0]);
    }

    #[test]
    fn a_close_frame_carries_its_code_and_a_reason_cut_on_a_character() {
        let reason = CloseReason {
            code: actix_http::ws::CloseCode::Away,
            description: Some("é".repeat(100)),
        };
        let Out::Control { payload, .. } = Out::close(&reason) else {
            panic!("a control frame");
        };
        assert_eq!(&payload[..2], &1001u16.to_be_bytes());
        assert_eq!(payload.len(), 2 + 122, "61 whole characters");
    }

    #[test]
    fn a_pong_never_cuts_into_a_frame_being_written() {
        let mut outbox: VecDeque<Out> = [text("abc"), text("def")].into_iter().collect();
        queue_first(&mut outbox, Out::pong(Bytes::new()));
        assert!(matches!(outbox[0], Out::Control { .. }));
        let mut outbox: VecDeque<Out> = [text("abc"), text("def")].into_iter().collect();
        *outbox[0].sent_mut() = 1;
        queue_first(&mut outbox, Out::pong(Bytes::new()));
        assert!(matches!(outbox[1], Out::Control { .. }));
    }

    /// Many messages through a socket whose reader lags: the writes stop
    /// and resume mid-frame, and the client still decodes every message
    /// whole, in order.
    #[tokio::test]
    async fn partial_writes_resume_where_they_stopped() {
        use actix_http::ws::Item;
        use tokio::io::AsyncReadExt;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (client, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        let (mut client, (server, _)) = (client.expect("connect"), accepted.expect("accept"));
        // Small kernel buffers: the writes must stall many times.
        socket2::SockRef::from(&server)
            .set_send_buffer_size(4096)
            .expect("send buffer");
        socket2::SockRef::from(&client)
            .set_recv_buffer_size(4096)
            .expect("receive buffer");
        let messages: Vec<String> = (0..60)
            .map(|i| format!("{i:04}").repeat(1 + i % 7 * 400))
            .collect();
        let mut outbox: VecDeque<Out> = messages.iter().map(|m| text(m)).collect();
        outbox.insert(5, Out::ping());
        let (mut done, mut stalls) = (0, 0);
        let mut received = BytesMut::new();
        while !outbox.is_empty() {
            if write_out(&server, &mut outbox, 4000, |out| {
                done += usize::from(matches!(out, Out::Text { .. }))
            })
            .expect("write")
                == 0
            {
                // Full: the client reads a little, until the socket says
                // it takes more (as a session waits for it).
                stalls += 1;
                let mut chunk = [0u8; 7000];
                tokio::select! {
                    biased;
                    ready = server.writable() => ready.expect("writable"),
                    read = client.read(&mut chunk) => {
                        received.extend_from_slice(&chunk[..read.expect("read")]);
                    }
                }
            }
        }
        drop(server);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.expect("the rest");
        received.extend_from_slice(&rest);
        assert!(stalls > 0, "the socket filled up at least once");
        assert_eq!(done, 60, "each text handed back once, whole");

        let mut codec = Codec::new().client_mode().max_size(1 << 20);
        let (mut decoded, mut pieces, mut pings) = (Vec::new(), String::new(), 0);
        while let Some(frame) = codec.decode(&mut received).expect("valid frames") {
            match frame {
                ClientFrame::Text(bytes) => {
                    decoded.push(String::from_utf8_lossy(&bytes).into_owned())
                }
                ClientFrame::Continuation(Item::FirstText(bytes) | Item::Continue(bytes)) => {
                    pieces.push_str(&String::from_utf8_lossy(&bytes));
                }
                ClientFrame::Continuation(Item::Last(bytes)) => {
                    pieces.push_str(&String::from_utf8_lossy(&bytes));
                    decoded.push(std::mem::take(&mut pieces));
                }
                ClientFrame::Ping(_) => pings += 1,
                _ => panic!("unexpected frame"),
            }
        }
        assert_eq!(pings, 1);
        assert_eq!(decoded, messages);
    }
}
