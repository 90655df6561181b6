//! Connections that ask for an upgrade (the `/ws/...` feeds), served
//! outside actix-http's HTTP/1 dispatcher.
//!
//! The dispatcher keeps an 8 KiB read and an 8 KiB write buffer for every
//! connection, for the connection's life: two thirds of an idle
//! storefront's memory. Its upgrade hook hands a connection over, with
//! those buffers, as soon as a request asks for an upgrade. Here that
//! request still goes through the application — same routes, middleware,
//! metrics, and refusals as problem documents — and the answer's head is
//! written with actix-http's codec. A refusal is then written whole and the
//! connection closed. After a `101 Switching Protocols` the buffers are
//! freed and the connection is pumped without any: the session's frames
//! are written straight from the bytes it hands over, and what the client
//! sends is read into a small stack buffer and fed to the request's
//! payload (actix-ws's `MessageStream`) through an [`inbox`].
//!
//! A client that stops reading stalls the writes; after the session's idle
//! timeout without progress the connection is dropped and counted in
//! `ws_connections_dropped_total{cause="stalled"}` (the session has long
//! since stopped feeding it, see [`super::ws::session`]).

use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use actix_codec::{Framed, FramedParts};
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::error::PayloadError;
use actix_http::h1::{self, Codec};
use actix_http::BoxedPayloadStream;
use actix_http::{ConnectionType, Request, Response, StatusCode};
use actix_service::{fn_factory, Service, ServiceFactory};
use actix_web::dev::{AppConfig, ServiceResponse};
use actix_web::web::{Buf, Bytes};
use futures_util::future::LocalBoxFuture;
use futures_util::SinkExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use inbox::Feeder;

mod inbox;

/// Bytes read from a client at a time. Clients of our feeds send pongs
/// and close frames only; a longer message takes several reads.
const READ_CHUNK: usize = 512;

/// A connection handed over by the dispatcher.
pub type Handover = (Request, Framed<TcpStream, Codec>);

/// The upgrade service of one worker: `make_app` builds the worker's own
/// instance of the application (the same one the dispatcher serves).
/// `stall` is how long a write may make no progress before the connection
/// is dropped.
pub fn factory<F, App>(
    make_app: F,
    stall: Duration,
) -> impl ServiceFactory<Handover, Config = (), Response = (), Error = actix_web::Error, InitError = ()>
where
    F: Fn() -> App + 'static,
    App: ServiceFactory<Request, Config = AppConfig, Error = actix_web::Error, InitError = ()>
        + 'static,
    App::Service: 'static,
    App::Response: IntoBoxedResponse,
{
    fn_factory(move || {
        let app = make_app();
        async move {
            // The configuration only supplies a host name for requests
            // without a `Host` header (HTTP/1.0), which cannot upgrade.
            let app = app.new_service(AppConfig::default()).await?;
            Ok::<_, ()>(Upgrades {
                app: Rc::new(app),
                stall,
            })
        }
    })
}

/// What the application answers, as a response actix-http can encode.
pub trait IntoBoxedResponse {
    fn into_boxed_response(self) -> Response<BoxBody>;
}

impl<B: MessageBody + 'static> IntoBoxedResponse for ServiceResponse<B> {
    fn into_boxed_response(self) -> Response<BoxBody> {
        self.map_into_boxed_body().into()
    }
}

/// Serves the connections of one worker that asked for an upgrade.
pub struct Upgrades<S> {
    app: Rc<S>,
    stall: Duration,
}

impl<S> Service<Handover> for Upgrades<S>
where
    S: Service<Request, Error = actix_web::Error> + 'static,
    S::Response: IntoBoxedResponse,
{
    type Response = ();
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<(), actix_web::Error>>;

    actix_service::always_ready!();

    fn call(&self, (request, framed): Handover) -> Self::Future {
        let (app, stall) = (self.app.clone(), self.stall);
        Box::pin(async move {
            // The connection ends here whatever happened: a client gone or
            // stuck is its own business, not an error of the engine.
            if let Err(error) = serve(app, request, framed, stall).await {
                tracing::debug!(%error, "upgraded connection ended");
            }
            Ok(())
        })
    }
}

/// Runs the request through the application, then answers it.
async fn serve<S>(
    app: Rc<S>,
    request: Request,
    mut framed: Framed<TcpStream, Codec>,
    stall: Duration,
) -> io::Result<()>
where
    S: Service<Request, Error = actix_web::Error>,
    S::Response: IntoBoxedResponse,
{
    let (mut feeder, incoming) = inbox::inbox();
    let incoming: BoxedPayloadStream = Box::pin(incoming);
    let (request, _) = request.replace_payload(incoming.into());
    let response = match app.call(request).await {
        Ok(response) => response.into_boxed_response(),
        Err(error) => Response::from(error),
    };
    drop(app);
    let (mut head, body) = response.into_parts();
    if head.status() != StatusCode::SWITCHING_PROTOCOLS {
        head.head_mut().set_connection_type(ConnectionType::Close);
        let bytes = actix_web::body::to_bytes(body)
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        // One write for the whole answer: some clients read only what
        // arrived with the head.
        framed
            .feed(h1::Message::Item((
                head,
                BodySize::Sized(bytes.len() as u64),
            )))
            .await?;
        framed.feed(h1::Message::Chunk(Some(bytes))).await?;
        framed.feed(h1::Message::Chunk(None)).await?;
        // `close` alone would not write the buffer (actix-codec 0.5).
        SinkExt::<h1::Message<(Response<()>, BodySize)>>::flush(&mut framed).await?;
        return SinkExt::<h1::Message<(Response<()>, BodySize)>>::close(&mut framed).await;
    }
    framed
        .send(h1::Message::Item((head, BodySize::Stream)))
        .await?;
    let FramedParts { io, read_buf, .. } = framed.into_parts();
    if !read_buf.is_empty() {
        // Frames the client sent right behind its request.
        feeder.feed(read_buf.freeze());
    }
    pump(io, body, feeder, stall).await
}

/// Moves bytes both ways until the session has said everything (its body
/// ends) and that is written. The client closing its side only ends the
/// payload, which the session sees and finishes.
async fn pump(
    mut socket: TcpStream,
    mut body: BoxBody,
    mut feeder: Feeder,
    stall: Duration,
) -> io::Result<()> {
    let mut pending = Bytes::new();
    // When the write in progress is given up (pushed back at every write
    // that makes progress).
    let mut give_up = Instant::now();
    let mut session_open = true;
    let mut client_open = true;
    while session_open || !pending.is_empty() {
        tokio::select! {
            biased;
            ready = socket.writable(), if !pending.is_empty() => {
                ready?;
                if write_some(&socket, &mut pending)? > 0 {
                    give_up = Instant::now() + stall;
                }
            }
            ready = async {
                poll_fn(|cx| feeder.poll_room(cx)).await;
                socket.readable().await
            }, if client_open => {
                ready?;
                client_open = read_some(&socket, &mut feeder)?;
            }
            next = poll_fn(|cx| Pin::new(&mut body).poll_next(cx)),
                if pending.is_empty() && session_open =>
            {
                match next {
                    Some(Ok(bytes)) => {
                        pending = bytes;
                        give_up = Instant::now() + stall;
                        // Most writes go through at once: no need to wait
                        // for the socket to say it is writable first.
                        write_some(&socket, &mut pending)?;
                    }
                    Some(Err(error)) => return Err(io::Error::other(error.to_string())),
                    None => session_open = false,
                }
            }
            () = tokio::time::sleep_until(give_up), if !pending.is_empty() => {
                metrics::counter!("ws_connections_dropped_total", "cause" => "stalled").increment(1);
                return Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"));
            }
        }
    }
    socket.shutdown().await
}

/// Writes what the socket takes of `pending` now; how much it took.
fn write_some(socket: &TcpStream, pending: &mut Bytes) -> io::Result<usize> {
    match socket.try_write(pending) {
        Ok(written) if written == pending.len() => {
            // Free the frame now rather than with the next one.
            *pending = Bytes::new();
            Ok(written)
        }
        Ok(written) => {
            pending.advance(written);
            Ok(written)
        }
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(error) => Err(error),
    }
}

/// Reads what the client sent; `false` once it closed its side.
fn read_some(socket: &TcpStream, feeder: &mut Feeder) -> io::Result<bool> {
    let mut buffer = [0u8; READ_CHUNK];
    match socket.try_read(&mut buffer) {
        Ok(0) => {
            feeder.end();
            Ok(false)
        }
        Ok(read) => {
            feeder.feed(Bytes::copy_from_slice(&buffer[..read]));
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(true),
        Err(error) => {
            let kind = error.kind();
            feeder.fail(PayloadError::Io(error));
            Err(io::Error::new(kind, "reading from the client failed"))
        }
    }
}
