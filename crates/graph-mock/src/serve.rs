//! The accept loop. It replaces `axum::serve` for one reason: a `reset` fault must be able to drop
//! the TCP connection without answering, and axum's server insists on infallible services that
//! always answer. Here a handler marks its response with [`ResetConnection`]; the per-connection
//! service turns that into a service error (hyper then abandons the connection without writing a
//! byte) and the stream is closed with `SO_LINGER` 0, so the client sees a real RST
//! ("connection reset by peer"), as when a load balancer drops a backend connection.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// Response extension asking the server to drop the connection instead of sending the response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetConnection;

/// A response that carries only the [`ResetConnection`] mark.
pub(crate) fn reset_response() -> Response {
    let mut resp = Response::new(axum::body::Body::empty());
    resp.extensions_mut().insert(ResetConnection);
    resp
}

/// The service error that makes hyper give up on the connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose by a reset fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves `app` until `stop` fires (or its sender is dropped), then stops accepting, asks every
/// open connection to finish gracefully and waits for them (the caller bounds that wait).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    // Every connection task holds a receiver; when all are gone, every connection has closed.
    let (signal_tx, _) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Running out of file descriptors must not end the server: back off and retry.
                if !is_connection_error(&e) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        spawn_connection(stream, app.clone(), signal_tx.subscribe(), close_rx.clone());
    }
    drop(listener);
    drop(close_rx);
    let _ = signal_tx.send(());
    close_tx.closed().await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn spawn_connection(
    stream: TcpStream,
    app: Router,
    mut shutdown: watch::Receiver<()>,
    close_rx: watch::Receiver<()>,
) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ResettableStream {
        stream,
        reset: Arc::clone(&reset),
    });
    let tower = TowerToHyperService::new(app);
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let call = hyper::service::Service::call(&tower, req);
        let reset = Arc::clone(&reset);
        async move {
            let resp: Response = call.await.unwrap_or_else(|e: Infallible| match e {});
            if resp.extensions().get::<ResetConnection>().is_some() {
                reset.store(true, Ordering::Relaxed);
                return Err(Dropped);
            }
            Ok::<_, Dropped>(resp)
        }
    });
    tokio::spawn(async move {
        let builder = Builder::new(TokioExecutor::new());
        let conn = builder.serve_connection(io, service);
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => {}
            changed = shutdown.changed() => {
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
                // Either way there is nothing more to wait for but the connection itself.
                let _ = conn.as_mut().await;
            }
        }
        drop(close_rx);
    });
}

/// The TCP stream of one connection; when a reset was asked for, it closes with `SO_LINGER` 0 so
/// the peer gets an RST instead of an orderly FIN.
struct ResettableStream {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A connection being reset must not send a FIN first.
        if self.reset.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
