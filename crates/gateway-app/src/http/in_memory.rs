//! One request through [`super::handle`] without a listener or a socket, for hosts that hand
//! the gateway a whole request and want a whole response back (serverless functions).
//!
//! The request crosses an in-memory HTTP/1.1 connection (`tokio::io::duplex`) into the same
//! hyper server code as a TCP connection, so it meets the same header and body limits and
//! reaches the same route table and pipeline; nothing is copied from the server path. The
//! answer is buffered whole (event streams included: the host cannot stream), bounded by
//! `max_response_bytes`.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use gateway_core::GatewayError;

use super::error::{ErrorShape, error_response_in};
use crate::server::ClientAddr;
use crate::state::AppState;

/// Buffer of the in-memory connection, each way.
const PIPE_BYTES: usize = 64 * 1024;

/// Handles `req` as the server would, with `client` as the caller's address, and returns
/// the whole response. An answer larger than `max_response_bytes` becomes a 502.
pub async fn handle_buffered(
    state: Arc<AppState>,
    req: Request<Bytes>,
    client: Option<IpAddr>,
    max_response_bytes: usize,
) -> Response<Bytes> {
    let (client_io, server_io) = tokio::io::duplex(PIPE_BYTES);
    let service = service_fn(move |mut req: Request<Incoming>| {
        if let Some(ip) = client {
            req.extensions_mut().insert(ClientAddr(ip));
        }
        let state = state.clone();
        async move { Ok::<_, Infallible>(super::handle(state, req).await) }
    });
    let serve = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(server_io), service);
    let call = async move {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(client_io))
                .await
                .map_err(|e| e.to_string())?;
        let exchange = async move {
            let resp = sender
                .send_request(req.map(Full::new))
                .await
                .map_err(|e| e.to_string())?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, max_response_bytes)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>(Response::from_parts(parts, body))
        };
        let (resp, _) = tokio::join!(exchange, conn);
        resp
    };
    let (resp, _) = tokio::join!(call, serve);
    match resp {
        Ok(resp) => resp,
        Err(error) => {
            tracing::error!(%error, "in-memory request failed");
            let err = GatewayError::Upstream {
                status: StatusCode::BAD_GATEWAY.as_u16(),
                message: "The gateway could not complete the request.".to_owned(),
                retry_after: None,
                retryable: false,
            };
            let (parts, body) = error_response_in(&err, "", ErrorShape::OpenAi).into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Response::from_parts(parts, body)
        }
    }
}
