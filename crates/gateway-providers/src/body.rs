//! Reading a whole HTTP body into one buffer, for request bodies at the edge and upstream
//! answers alike.
//!
//! `http_body_util::BodyExt::collect` keeps every frame in a queue that it allocates for the
//! first one, then hands the only chunk back as it is; a chat body nearly always arrives in
//! one chunk, so [`collect`] keeps that chunk without a queue (one allocation fewer per body,
//! two per proxied call) and copies only when a second chunk comes. Trailers are dropped, as
//! `collect(..).to_bytes()` drops them.

use std::future::poll_fn;
use std::pin::pin;

use bytes::{Bytes, BytesMut};
use http_body::Body;

/// The body's data frames, concatenated.
pub async fn collect<B>(body: B) -> Result<Bytes, B::Error>
where
    B: Body<Data = Bytes>,
{
    let mut body = pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        if let Some(buf) = joined.as_mut() {
            buf.extend_from_slice(&data);
        } else if let Some(head) = first.take() {
            let mut buf = BytesMut::with_capacity(head.len() + data.len());
            buf.extend_from_slice(&head);
            buf.extend_from_slice(&data);
            joined = Some(buf);
        } else {
            first = Some(data);
        }
    }
    Ok(match joined {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{BodyExt, Full, Limited, StreamBody};

    use super::*;

    fn chunked(parts: &[&'static str]) -> impl Body<Data = Bytes, Error = Infallible> {
        let frames: Vec<Result<http_body::Frame<Bytes>, Infallible>> = parts
            .iter()
            .map(|p| Ok(http_body::Frame::data(Bytes::from_static(p.as_bytes()))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn one_chunk_is_kept_as_it_came() {
        let chunk = Bytes::from_static(b"{\"a\":1}");
        let got = collect(Full::new(chunk.clone())).await.unwrap();
        assert_eq!(got, chunk);
        // The very buffer, not a copy.
        assert_eq!(got.as_ptr(), chunk.as_ptr());
    }

    #[tokio::test]
    async fn chunks_are_joined_in_order() {
        let got = collect(chunked(&["{\"a\":", "", "1,\"b\"", ":2}"]))
            .await
            .unwrap();
        assert_eq!(got, Bytes::from_static(b"{\"a\":1,\"b\":2}"));
    }

    #[tokio::test]
    async fn empty_bodies_are_empty() {
        assert!(collect(chunked(&[])).await.unwrap().is_empty());
        assert!(collect(Full::new(Bytes::new())).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn agrees_with_body_ext_collect() {
        let parts = ["data: 1\n", "data: 2\n", "\n", "data: [DONE]\n\n"];
        let ours = collect(chunked(&parts)).await.unwrap();
        let theirs = chunked(&parts).collect().await.unwrap().to_bytes();
        assert_eq!(ours, theirs);
    }

    #[tokio::test]
    async fn a_limit_error_passes_through() {
        let err = collect(Limited::new(chunked(&["12345", "67890"]), 8))
            .await
            .unwrap_err();
        assert!(
            err.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
        );
    }
}
