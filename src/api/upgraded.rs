//! Connections that ask for an upgrade (the `/ws/...` feeds), served
//! outside actix-http's HTTP/1 dispatcher.
//!
//! The dispatcher keeps an 8 KiB read and an 8 KiB write buffer for every
//! connection, for the connection's life: two thirds of an idle
//! storefront's memory. Its upgrade hook hands a connection over, with
//! those buffers, as soon as a request asks for an upgrade. Here that
//! request still goes through the application — same routes, middleware,
//! metrics, and refusals as problem documents — and the answer is written
//! with actix-http's codec. A refusal is written whole and the connection
//! closed. A `101 Switching Protocols` carries a [`Takeover`]: once its
//! head is written the buffers are freed and the takeover gets the bare
//! socket (a live session hands it on to a live thread, see
//! [`super::ws::threads`] and [`super::ws::session`]).

use std::future::Future;
use std::io;
use std::rc::Rc;

use actix_codec::{Framed, FramedParts};
use actix_http::body::{BodySize, BoxBody};
use actix_http::h1::{self, Codec};
use actix_http::{ConnectionType, Request, Response, StatusCode};
use actix_service::{fn_factory, Service, ServiceFactory};
use actix_web::dev::{AppConfig, ServiceResponse};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;
use futures_util::SinkExt;
use tokio::net::TcpStream;

/// A connection handed over by the dispatcher.
pub type Handover = (Request, Framed<TcpStream, Codec>);

/// What runs on the socket after a `101`: put in the response's
/// extensions by the route that accepted the upgrade. It gets the socket
/// and the bytes the client sent right behind its request.
pub struct Takeover(Box<dyn FnOnce(TcpStream, Bytes) -> LocalBoxFuture<'static, ()>>);

impl Takeover {
    pub fn new<F, Fut>(run: F) -> Self
    where
        F: FnOnce(TcpStream, Bytes) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Self(Box::new(move |socket, early| Box::pin(run(socket, early))))
    }
}

/// The upgrade service of one worker: `make_app` builds the worker's own
/// instance of the application (the same one the dispatcher serves).
pub fn factory<F, App>(
    make_app: F,
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
            Ok::<_, ()>(Upgrades { app: Rc::new(app) })
        }
    })
}

/// What the application answers, as a response actix-http can encode.
pub trait IntoBoxedResponse {
    fn into_boxed_response(self) -> Response<BoxBody>;
}

impl<B: actix_http::body::MessageBody + 'static> IntoBoxedResponse for ServiceResponse<B> {
    fn into_boxed_response(self) -> Response<BoxBody> {
        self.map_into_boxed_body().into()
    }
}

/// Serves the connections of one worker that asked for an upgrade.
pub struct Upgrades<S> {
    app: Rc<S>,
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
        let app = self.app.clone();
        Box::pin(async move {
            // The connection ends here whatever happened: a client gone
            // mid-answer is its own business, not an error of the engine.
            if let Err(error) = serve(app, request, framed).await {
                tracing::debug!(%error, "upgraded connection ended");
            }
            Ok(())
        })
    }
}

type Answer = h1::Message<(Response<()>, BodySize)>;

/// Runs the request through the application, then answers it.
async fn serve<S>(
    app: Rc<S>,
    request: Request,
    mut framed: Framed<TcpStream, Codec>,
) -> io::Result<()>
where
    S: Service<Request, Error = actix_web::Error>,
    S::Response: IntoBoxedResponse,
{
    let response = match app.call(request).await {
        Ok(response) => response.into_boxed_response(),
        Err(error) => Response::from(error),
    };
    drop(app);
    let (mut head, body) = response.into_parts();
    let takeover = head.extensions_mut().remove::<Takeover>();
    let takeover = match takeover {
        Some(takeover) if head.status() == StatusCode::SWITCHING_PROTOCOLS => takeover,
        _ => {
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
            SinkExt::<Answer>::flush(&mut framed).await?;
            return SinkExt::<Answer>::close(&mut framed).await;
        }
    };
    drop(body);
    framed
        .send(h1::Message::Item((head, BodySize::None)))
        .await?;
    let FramedParts { io, read_buf, .. } = framed.into_parts();
    (takeover.0)(io, read_buf.freeze()).await;
    Ok(())
}
