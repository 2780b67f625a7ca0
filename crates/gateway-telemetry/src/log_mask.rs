//! The log writer: stderr, with every formatted line — text or JSON, message, fields and span
//! fields alike — passed through [`gateway_core::secret_mask`] first, so that no configured
//! secret (upstream API keys and the like, registered by the application) and no caller
//! credential (gateway keys, JWTs) reaches a log line, wherever it sits in it. The cost is paid
//! only for lines that are written.

use std::io::Write;

use gateway_core::secret_mask::mask_bytes;

/// Makes the writer of each event: stderr, masked.
#[derive(Debug, Clone, Copy, Default)]
pub struct MaskedStderr;

/// One event's output on its way to stderr.
#[derive(Debug)]
pub struct MaskedWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MaskedStderr {
    type Writer = MaskedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter
    }
}

/// Masks `buf` and writes it whole to `out`; returns how much of `buf` was consumed (all).
fn write_masked(out: &mut impl Write, buf: &[u8]) -> std::io::Result<usize> {
    out.write_all(&mask_bytes(buf))?;
    Ok(buf.len())
}

impl Write for MaskedWriter {
    /// The formatter hands over each event whole, so a secret never straddles two writes.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_masked(&mut std::io::stderr().lock(), buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_lines_are_masked() {
        let key = "sk-live-WriterTestKey0123456789";
        gateway_core::secret_mask::set_known_secrets([key]);
        let mut out = Vec::new();
        let line = format!("WARN upstream said bad key:{key}\n");
        assert_eq!(write_masked(&mut out, line.as_bytes()).unwrap(), line.len());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "WARN upstream said bad key:[redacted]\n"
        );
    }
}
