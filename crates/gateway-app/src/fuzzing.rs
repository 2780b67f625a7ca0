//! Entry points over the edge's decoders that are not public otherwise, for the fuzz targets
//! in `fuzz/` (`cargo xtask fuzz`). Not a stable API (hidden from the docs).

use gateway_core::GatewayError;

/// A `POST /query` body, parsed and checked as the handler does.
pub fn decode_query(body: &[u8]) -> Result<(), GatewayError> {
    crate::dialects::query::decode(body).map(|_| ())
}
