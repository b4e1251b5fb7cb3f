//! Bodies between actix and the ports' `ByteStream`, streamed both ways with
//! bounded buffering: memory never grows with object size.

use actix_web::web;
use bytes::Bytes;
use futures::StreamExt;
use std::io;
use tarn_ports::ByteStream;

/// Chunks buffered between the connection and the store.
const IN_FLIGHT_CHUNKS: usize = 4;

/// Turns a request body (a `!Send` actix payload) into a `ByteStream`: a local
/// task forwards chunks through a bounded channel, so a slow store slows the
/// client instead of filling memory.
pub fn request_stream<E: std::fmt::Display>(
    mut payload: impl futures::Stream<Item = Result<Bytes, E>> + Unpin + 'static,
) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT_CHUNKS);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let item =
                chunk.map_err(|e| io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()));
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    ByteStream::new(tokio_stream_from(rx))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// A request body from actix's extractor.
pub fn payload_stream(payload: web::Payload) -> ByteStream {
    request_stream(payload)
}

/// A response body from a `ByteStream`.
pub fn response_stream(
    body: ByteStream,
) -> impl futures::Stream<Item = Result<Bytes, actix_web::Error>> {
    body.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError))
}
