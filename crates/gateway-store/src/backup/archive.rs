//! The encrypted archive file: a plaintext header, AES-256-GCM chunks, a trailer.
//!
//! ```text
//! "GWBACKUP" | u8 format (1) | u32 header length | header JSON
//! frame*     : u32 sealed length | sealed chunk (ciphertext + 16-byte tag)
//! trailer    : "GWBKEND1" | u64 offset of the last frame | u64 number of frames
//! ```
//!
//! Every frame but the last holds up to `chunk_bytes` of the payload; the last holds the
//! manifest. Each archive has a random 32-byte salt; its key is HKDF-SHA256(salt, configured
//! key), so nonces (the frame index) never repeat under one key. The AAD of frame `i` is
//! `SHA-256(header) | i | final flag`: a changed header, a frame moved, dropped or appended,
//! or a payload frame passed off as the last all fail authentication. The trailer is not
//! secret and not trusted: a wrong value only makes authentication fail.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter};

use super::error::BackupError;

const MAGIC: &[u8; 8] = b"GWBACKUP";
const END_MAGIC: &[u8; 8] = b"GWBKEND1";
const FORMAT: u8 = 1;
const TAG_LEN: usize = 16;
const TRAILER_LEN: u64 = 24;
/// Payload bytes per chunk: bounded memory on both ends whatever the store's size.
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;
/// The manifest frame is small; anything larger is not an archive of ours.
const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
const HEADER_MAX: u32 = 4096;
const KDF_INFO: &[u8] = b"llm-gateway backup v1 AES-256-GCM";

/// The archive key: 32 bytes, from `[backup] key` (standard base64, usually `${VAR}`).
#[derive(Clone)]
pub struct BackupKey([u8; 32]);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupKey(id {})", self.id())
    }
}

impl BackupKey {
    /// Parses 32 bytes of standard base64 (`openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<Self, BackupError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| BackupError::Key("not standard base64".to_owned()))?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            BackupError::Key(format!(
                "{} bytes, need 32 (openssl rand -base64 32)",
                b.len()
            ))
        })?;
        Ok(BackupKey(key))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        BackupKey(bytes)
    }

    /// A public identifier of the key (16 hex digits of a domain-separated SHA-256), written
    /// in the header so that a wrong key is reported as such, not as damage.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"llm-gateway backup key id\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..8])
    }

    fn archive_key(&self, salt: &[u8]) -> Result<LessSafeKey, BackupError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&self.0);
        let okm = prk
            .expand(&[KDF_INFO], &AES_256_GCM)
            .map_err(|_| BackupError::Key("key derivation failed".to_owned()))?;
        Ok(LessSafeKey::new(UnboundKey::from(okm)))
    }
}

/// The plaintext header: what is needed to decrypt, nothing about the contents.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    cipher: String,
    kdf: String,
    salt: String,
    key_id: String,
    chunk_bytes: usize,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(bytes));
    out
}

fn nonce(index: u64) -> Nonce {
    let mut n = [0u8; NONCE_LEN];
    n[NONCE_LEN - 8..].copy_from_slice(&index.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn aad(header_digest: &[u8; 32], index: u64, last: bool) -> [u8; 41] {
    let mut a = [0u8; 41];
    a[..32].copy_from_slice(header_digest);
    a[32..40].copy_from_slice(&index.to_be_bytes());
    a[40] = u8::from(last);
    a
}

/// Writes an archive: payload bytes through [`ArchiveWriter::write`], then
/// [`ArchiveWriter::finish`] with the manifest.
pub(crate) struct ArchiveWriter {
    out: BufWriter<tokio::fs::File>,
    key: LessSafeKey,
    header_digest: [u8; 32],
    buf: Vec<u8>,
    index: u64,
    offset: u64,
    payload_hash: Sha256,
    payload_bytes: u64,
}

impl ArchiveWriter {
    pub(crate) async fn create(
        file: tokio::fs::File,
        key: &BackupKey,
    ) -> Result<Self, BackupError> {
        let mut salt = [0u8; 32];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| BackupError::Key("no randomness for the salt".to_owned()))?;
        let header = serde_json::to_vec(&Header {
            cipher: "AES-256-GCM".to_owned(),
            kdf: "HKDF-SHA256".to_owned(),
            salt: hex::encode(salt),
            key_id: key.id(),
            chunk_bytes: CHUNK_BYTES,
        })
        .map_err(|e| BackupError::Malformed(e.to_string()))?;
        let header_len = u32::try_from(header.len()).unwrap_or(u32::MAX);
        let mut out = BufWriter::with_capacity(CHUNK_BYTES + 64, file);
        out.write_all(MAGIC).await?;
        out.write_all(&[FORMAT]).await?;
        out.write_all(&header_len.to_be_bytes()).await?;
        out.write_all(&header).await?;
        Ok(ArchiveWriter {
            out,
            key: key.archive_key(&salt)?,
            header_digest: sha256(&header),
            buf: Vec::with_capacity(CHUNK_BYTES + TAG_LEN),
            index: 0,
            offset: (MAGIC.len() + 1 + 4 + header.len()) as u64,
            payload_hash: Sha256::new(),
            payload_bytes: 0,
        })
    }

    /// Appends payload bytes (sealed a chunk at a time).
    pub(crate) async fn write(&mut self, mut bytes: &[u8]) -> Result<(), BackupError> {
        self.payload_hash.update(bytes);
        self.payload_bytes += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = CHUNK_BYTES - self.buf.len();
            let take = room.min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == CHUNK_BYTES {
                self.seal(false).await?;
            }
        }
        Ok(())
    }

    /// SHA-256 (hex) and length of the payload written so far.
    pub(crate) fn payload_digest(&self) -> (String, u64) {
        (
            hex::encode(self.payload_hash.clone().finalize()),
            self.payload_bytes,
        )
    }

    async fn seal(&mut self, last: bool) -> Result<(), BackupError> {
        let aad = aad(&self.header_digest, self.index, last);
        self.key
            .seal_in_place_append_tag(nonce(self.index), Aad::from(aad), &mut self.buf)
            .map_err(|_| BackupError::Malformed("encryption failed".to_owned()))?;
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.out.write_all(&len.to_be_bytes()).await?;
        self.out.write_all(&self.buf).await?;
        self.offset += 4 + self.buf.len() as u64;
        self.buf.clear();
        self.index += 1;
        Ok(())
    }

    /// Seals the rest of the payload, then the manifest as the final frame, writes the
    /// trailer and syncs the file.
    pub(crate) async fn finish(mut self, manifest: &[u8]) -> Result<u64, BackupError> {
        if !self.buf.is_empty() {
            self.seal(false).await?;
        }
        let manifest_offset = self.offset;
        self.buf.extend_from_slice(manifest);
        self.seal(true).await?;
        self.out.write_all(END_MAGIC).await?;
        self.out.write_all(&manifest_offset.to_be_bytes()).await?;
        self.out.write_all(&self.index.to_be_bytes()).await?;
        self.out.flush().await?;
        self.out.get_ref().sync_all().await?;
        Ok(self.offset + TRAILER_LEN)
    }
}

/// Reads an archive: the manifest first (from the trailer), then the payload chunk by chunk.
pub(crate) struct ArchiveReader {
    input: BufReader<tokio::fs::File>,
    key: LessSafeKey,
    header_digest: [u8; 32],
    chunk_bytes: usize,
    frames: u64,
    manifest_offset: u64,
    payload_start: u64,
    index: u64,
}

impl ArchiveReader {
    pub(crate) async fn open(path: &std::path::Path, key: &BackupKey) -> Result<Self, BackupError> {
        let mut file = tokio::fs::File::open(path).await?;
        let len = file.metadata().await?.len();
        let mut magic = [0u8; 9];
        file.read_exact(&mut magic)
            .await
            .map_err(|_| BackupError::NotAnArchive)?;
        if &magic[..8] != MAGIC || magic[8] != FORMAT {
            return Err(BackupError::NotAnArchive);
        }
        let header_len = file.read_u32().await.map_err(|_| BackupError::Truncated)?;
        if header_len > HEADER_MAX {
            return Err(BackupError::Malformed("header too large".to_owned()));
        }
        let mut header_bytes = vec![0u8; header_len as usize];
        file.read_exact(&mut header_bytes)
            .await
            .map_err(|_| BackupError::Truncated)?;
        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|e| BackupError::Malformed(format!("header: {e}")))?;
        if header.cipher != "AES-256-GCM" || header.kdf != "HKDF-SHA256" {
            return Err(BackupError::Malformed(format!(
                "unsupported cipher {} / {}",
                header.cipher, header.kdf
            )));
        }
        if header.key_id != key.id() {
            return Err(BackupError::WrongKey {
                archive: header.key_id,
                configured: key.id(),
            });
        }
        if header.chunk_bytes == 0 || header.chunk_bytes > 16 * 1024 * 1024 {
            return Err(BackupError::Malformed("chunk size out of range".to_owned()));
        }
        let salt = hex::decode(&header.salt)
            .map_err(|_| BackupError::Malformed("salt is not hex".to_owned()))?;
        let payload_start = (9 + 4 + header_bytes.len()) as u64;
        if len < payload_start + TRAILER_LEN {
            return Err(BackupError::Truncated);
        }
        file.seek(std::io::SeekFrom::Start(len - TRAILER_LEN))
            .await?;
        let mut trailer = [0u8; TRAILER_LEN as usize];
        file.read_exact(&mut trailer).await?;
        if &trailer[..8] != END_MAGIC {
            return Err(BackupError::Truncated);
        }
        let manifest_offset = u64::from_be_bytes(trailer[8..16].try_into().unwrap_or_default());
        let frames = u64::from_be_bytes(trailer[16..24].try_into().unwrap_or_default());
        if frames == 0 || manifest_offset < payload_start || manifest_offset >= len - TRAILER_LEN {
            return Err(BackupError::Malformed("trailer out of range".to_owned()));
        }
        file.seek(std::io::SeekFrom::Start(payload_start)).await?;
        Ok(ArchiveReader {
            input: BufReader::with_capacity(header.chunk_bytes + 64, file),
            key: key.archive_key(&salt)?,
            header_digest: sha256(&header_bytes),
            chunk_bytes: header.chunk_bytes,
            frames,
            manifest_offset,
            payload_start,
            index: 0,
        })
    }

    async fn read_frame(&mut self, index: u64, last: bool) -> Result<Vec<u8>, BackupError> {
        let len = self
            .input
            .read_u32()
            .await
            .map_err(|_| BackupError::Truncated)? as usize;
        let max = TAG_LEN
            + if last {
                MAX_MANIFEST_BYTES
            } else {
                self.chunk_bytes
            };
        if len < TAG_LEN || len > max {
            return Err(BackupError::Tampered { chunk: index });
        }
        let mut sealed = vec![0u8; len];
        self.input
            .read_exact(&mut sealed)
            .await
            .map_err(|_| BackupError::Truncated)?;
        let plain_len = self
            .key
            .open_in_place(
                nonce(index),
                Aad::from(aad(&self.header_digest, index, last)),
                &mut sealed,
            )
            .map_err(|_| BackupError::Tampered { chunk: index })?
            .len();
        sealed.truncate(plain_len);
        Ok(sealed)
    }

    /// The manifest (JSON bytes), authenticated; the payload position is kept.
    pub(crate) async fn manifest(&mut self) -> Result<Vec<u8>, BackupError> {
        self.input
            .seek(std::io::SeekFrom::Start(self.manifest_offset))
            .await?;
        let manifest = self.read_frame(self.frames - 1, true).await?;
        let mut end = [0u8; 8];
        self.input.read_exact(&mut end).await?;
        if &end != END_MAGIC {
            return Err(BackupError::Malformed(
                "data after the final chunk".to_owned(),
            ));
        }
        self.input
            .seek(std::io::SeekFrom::Start(self.payload_start))
            .await?;
        self.index = 0;
        Ok(manifest)
    }

    /// The next payload chunk, `None` after the last one.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, BackupError> {
        if self.index + 1 >= self.frames {
            return Ok(None);
        }
        let index = self.index;
        let chunk = self.read_frame(index, false).await?;
        self.index += 1;
        Ok(Some(chunk))
    }
}

/// Splits the decrypted payload into lines (bounded), hashing it on the way.
pub(crate) struct PayloadLines {
    reader: ArchiveReader,
    carry: Vec<u8>,
    pending: std::collections::VecDeque<Vec<u8>>,
    hash: Sha256,
    bytes: u64,
    done: bool,
}

/// The longest row line accepted (a stored answer or batch line is large, not unbounded).
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

impl PayloadLines {
    pub(crate) fn new(reader: ArchiveReader) -> Self {
        PayloadLines {
            reader,
            carry: Vec::new(),
            pending: std::collections::VecDeque::new(),
            hash: Sha256::new(),
            bytes: 0,
            done: false,
        }
    }

    pub(crate) async fn next_line(&mut self) -> Result<Option<Vec<u8>>, BackupError> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Ok(Some(line));
            }
            if self.done {
                if self.carry.is_empty() {
                    return Ok(None);
                }
                return Err(BackupError::Malformed(
                    "payload does not end with a newline".to_owned(),
                ));
            }
            match self.reader.next_chunk().await? {
                None => self.done = true,
                Some(chunk) => {
                    self.hash.update(&chunk);
                    self.bytes += chunk.len() as u64;
                    let mut rest = &chunk[..];
                    while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
                        let mut line = std::mem::take(&mut self.carry);
                        line.extend_from_slice(&rest[..pos]);
                        self.pending.push_back(line);
                        rest = &rest[pos + 1..];
                    }
                    self.carry.extend_from_slice(rest);
                    if self.carry.len() > MAX_LINE_BYTES {
                        return Err(BackupError::Malformed(format!(
                            "a row is longer than {MAX_LINE_BYTES} bytes"
                        )));
                    }
                }
            }
        }
    }

    /// SHA-256 (hex) and length of the payload read so far.
    pub(crate) fn digest(&self) -> (String, u64) {
        (hex::encode(self.hash.clone().finalize()), self.bytes)
    }
}
