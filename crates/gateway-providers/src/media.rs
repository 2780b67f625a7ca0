//! Media references shared by the vendor adapters: `data:` URLs (inline base64) versus remote
//! URLs, and a MIME type guessed from a URL's extension when a vendor insists on one.

/// An image (or other media) reference from an OpenAI `image_url` / `file` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRef<'a> {
    /// `data:<mime>;base64,<data>`.
    Inline { mime: &'a str, data: &'a str },
    /// Any other URL (`https://...`, `gs://...`).
    Remote { url: &'a str },
}

impl<'a> MediaRef<'a> {
    /// Classify a URL. A `data:` URL that is not base64-encoded is treated as remote (the
    /// vendor will reject it with its own message).
    pub fn parse(url: &'a str) -> Self {
        if let Some(rest) = url.strip_prefix("data:")
            && let Some((meta, data)) = rest.split_once(',')
            && let Some(mime) = meta.strip_suffix(";base64")
        {
            let mime = if mime.is_empty() {
                "application/octet-stream"
            } else {
                mime
            };
            return MediaRef::Inline { mime, data };
        }
        MediaRef::Remote { url }
    }
}

/// The MIME type a remote URL's extension suggests (query and fragment ignored).
pub fn guess_mime(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "txt" => "text/plain",
        _ => "image/jpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_and_remote_urls() {
        assert_eq!(
            MediaRef::parse("data:image/png;base64,iVBORw0KGgo="),
            MediaRef::Inline {
                mime: "image/png",
                data: "iVBORw0KGgo="
            }
        );
        assert_eq!(
            MediaRef::parse("https://x/cat.jpg"),
            MediaRef::Remote {
                url: "https://x/cat.jpg"
            }
        );
        assert_eq!(
            MediaRef::parse("data:text/plain,hello"),
            MediaRef::Remote {
                url: "data:text/plain,hello"
            }
        );
        assert_eq!(guess_mime("https://x/a.PNG?sig=1"), "image/png");
        assert_eq!(guess_mime("https://x/photo"), "image/jpeg");
    }
}
