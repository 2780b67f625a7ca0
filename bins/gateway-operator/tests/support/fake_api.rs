//! A mocked Kubernetes API server behind `kube::Client::new`, on `tower-test`'s service pair
//! (kube's own way of mocking the API server). Rather than a script of expected calls it
//! keeps objects by path and answers as the API server does for what the operator sends:
//! GET (404 Status when absent), POST (409 when present), PATCH as server-side apply,
//! JSON merge patch or JSON patch (RFC 6902, with `test`, as kube's finalizer helper sends),
//! DELETE (sets `deletionTimestamp` while finalizers remain; the last finalizer removed
//! deletes the object). Every call is logged, so a test can assert what was (not) written.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};

/// One request the operator made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub content_type: String,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    calls: Vec<Call>,
    version: u64,
}

/// The fake server's state (cheap to clone; shared with the serving task).
#[derive(Clone, Default)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
}

/// `/apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME` of a typed object.
pub fn path_of(api_version: &str, plural: &str, ns: &str, name: &str) -> String {
    let prefix = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    format!("{prefix}/namespaces/{ns}/{plural}/{name}")
}

impl FakeApi {
    /// A client whose every request this fake answers.
    pub fn start() -> (kube::Client, FakeApi) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let fake = FakeApi::default();
        let serving = fake.clone();
        tokio::spawn(async move {
            while let Some((request, respond)) = handle.next_request().await {
                let answer = serving.serve(request).await;
                respond.send_response(answer);
            }
        });
        (kube::Client::new(service, "default"), fake)
    }

    /// Stores an object at `path` (test setup; also edits "by someone else").
    pub fn put(&self, path: &str, mut obj: Value) {
        let mut state = self.state.lock().unwrap();
        state.version += 1;
        obj["metadata"]["resourceVersion"] = json!(state.version.to_string());
        if obj["metadata"]["uid"].is_null() {
            obj["metadata"]["uid"] = json!(format!("uid-{}", state.version));
        }
        state.objects.insert(path.to_owned(), obj);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    pub fn remove(&self, path: &str) {
        self.state.lock().unwrap().objects.remove(path);
    }

    /// The calls made so far, and forgets them.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.state.lock().unwrap().calls)
    }

    async fn serve(&self, request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let path = parts.uri.path().to_owned();
        self.state.lock().unwrap().calls.push(Call {
            method: parts.method.clone(),
            path: path.clone(),
            content_type: content_type.clone(),
        });
        let (status, value) = self.answer(&parts.method, &path, &content_type, &body);
        let bytes = serde_json::to_vec(&value).unwrap();
        Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(bytes))
            .unwrap()
    }

    fn answer(
        &self,
        method: &Method,
        path: &str,
        content_type: &str,
        body: &Bytes,
    ) -> (StatusCode, Value) {
        // The status subresource is part of the object here.
        let key = path.strip_suffix("/status").unwrap_or(path).to_owned();
        let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut state = self.state.lock().unwrap();
        let existing = state.objects.get(&key).cloned();
        let result = match *method {
            Method::GET => existing.ok_or(StatusCode::NOT_FOUND),
            Method::POST => {
                let name = input["metadata"]["name"].as_str().unwrap_or_default();
                let key = format!("{key}/{name}");
                if state.objects.contains_key(&key) {
                    return status(StatusCode::CONFLICT, "AlreadyExists");
                }
                return store(&mut state, key, input, StatusCode::CREATED);
            }
            Method::PATCH => patch(existing, content_type, &input),
            Method::DELETE => match existing {
                None => Err(StatusCode::NOT_FOUND),
                Some(mut obj) => {
                    let finalizers = obj["metadata"]["finalizers"]
                        .as_array()
                        .is_some_and(|f| !f.is_empty());
                    if finalizers {
                        obj["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
                        Ok(obj)
                    } else {
                        state.objects.remove(&key);
                        return (StatusCode::OK, obj);
                    }
                }
            },
            _ => Err(StatusCode::METHOD_NOT_ALLOWED),
        };
        match result {
            Ok(obj) => {
                let gone = !obj["metadata"]["deletionTimestamp"].is_null()
                    && obj["metadata"]["finalizers"]
                        .as_array()
                        .is_none_or(|f| f.is_empty());
                if gone {
                    state.objects.remove(&key);
                    return (StatusCode::OK, obj);
                }
                store(&mut state, key, obj, StatusCode::OK)
            }
            Err(code) => status(code, reason(code)),
        }
    }
}

fn store(state: &mut State, key: String, mut obj: Value, code: StatusCode) -> (StatusCode, Value) {
    state.version += 1;
    obj["metadata"]["resourceVersion"] = json!(state.version.to_string());
    if obj["metadata"]["uid"].is_null() {
        obj["metadata"]["uid"] = json!(format!("uid-{}", state.version));
    }
    if obj["metadata"]["generation"].is_null() {
        obj["metadata"]["generation"] = json!(1);
    }
    state.objects.insert(key, obj.clone());
    (code, obj)
}

/// Applies one PATCH by its content type.
fn patch(existing: Option<Value>, content_type: &str, input: &Value) -> Result<Value, StatusCode> {
    match content_type {
        // Server-side apply: creates, or merges the applied fields over what is there (every
        // field the operator applies is its own, and `force` takes the rest).
        "application/apply-patch+yaml" => {
            let mut obj = existing.unwrap_or_else(|| json!({"metadata": {}}));
            json_patch::merge(&mut obj, input);
            Ok(obj)
        }
        "application/merge-patch+json" => {
            let mut obj = existing.ok_or(StatusCode::NOT_FOUND)?;
            json_patch::merge(&mut obj, input);
            Ok(obj)
        }
        "application/json-patch+json" => {
            let mut obj = existing.ok_or(StatusCode::NOT_FOUND)?;
            // The API server treats an absent list as null for `test`.
            if obj["metadata"].get("finalizers").is_none() {
                obj["metadata"]["finalizers"] = Value::Null;
            }
            let ops: json_patch::Patch =
                serde_json::from_value(input.clone()).map_err(|_| StatusCode::BAD_REQUEST)?;
            json_patch::patch(&mut obj, &ops).map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            if obj["metadata"]["finalizers"].is_null()
                && let Some(meta) = obj["metadata"].as_object_mut()
            {
                meta.remove("finalizers");
            }
            Ok(obj)
        }
        _ => Err(StatusCode::UNSUPPORTED_MEDIA_TYPE),
    }
}

/// The `reason` the API server gives with each status (kube's `get_opt` reads `NotFound`).
fn reason(code: StatusCode) -> &'static str {
    match code {
        StatusCode::NOT_FOUND => "NotFound",
        StatusCode::CONFLICT => "AlreadyExists",
        StatusCode::UNPROCESSABLE_ENTITY => "Invalid",
        StatusCode::BAD_REQUEST => "BadRequest",
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        _ => "UnsupportedMediaType",
    }
}

fn status(code: StatusCode, reason: &str) -> (StatusCode, Value) {
    (
        code,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("{reason} (fake API server)"),
            "reason": reason,
            "code": code.as_u16(),
        }),
    )
}
