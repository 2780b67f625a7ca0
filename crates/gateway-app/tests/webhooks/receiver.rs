//! A webhook receiver on 127.0.0.1:0: records every request and answers the status it is
//! told to (with a `Location` for a 3xx, to show that redirects are not followed).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Whether the delivery verifies with `secret` (and `webhook-timestamp` is now-ish).
    pub fn verifies_with(&self, secret: &str) -> bool {
        let ts: i64 = self.header("webhook-timestamp").parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((now - ts).abs() < 300, "timestamp {ts} is not recent");
        gateway_app::webhooks::signing::verify(
            secret,
            self.header("webhook-signature"),
            self.header("webhook-id"),
            ts,
            &self.body,
        )
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub status: Arc<AtomicU16>,
    pub seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            addr: listener.local_addr().unwrap(),
            status: Arc::new(AtomicU16::new(200)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let r = receiver.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let r = r.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let r = r.clone();
                        async move { Ok::<_, Infallible>(r.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        receiver
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        self.seen.lock().unwrap().push(Received {
            path: parts.uri.path().to_owned(),
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        });
        let status = self.status.load(Ordering::SeqCst);
        let mut answer = Response::builder().status(status);
        if (300..400).contains(&status) {
            answer = answer.header("location", format!("http://{}/redirected", self.addr));
        }
        answer.body(Full::new(Bytes::from_static(b"ok"))).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}
