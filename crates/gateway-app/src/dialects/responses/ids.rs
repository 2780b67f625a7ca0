//! Ids of responses and their items: a type prefix (`resp`, `msg`, `fc`, `rs`) and a UUIDv7
//! in hex, so ids sort by creation time and cannot be guessed.

/// Longest id accepted from a caller (in a path, `previous_response_id` or an input item).
pub const MAX_ID_LEN: usize = 128;

/// A new id with `prefix`, e.g. `resp_0193b5...`.
pub fn new_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let random: [u8; 10] = rand::random();
    let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    format!("{prefix}_{}", uuid.simple())
}

/// Whether `id` can name a stored object: short printable ASCII without separators.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_distinct_valid_and_prefixed() {
        let (a, b) = (new_id("resp"), new_id("resp"));
        assert_ne!(a, b);
        assert!(a.starts_with("resp_") && a.len() == 5 + 32, "{a}");
        assert!(is_valid_id(&a));
        for bad in ["", "a/b", "a b", "x\u{e9}", &"x".repeat(129)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
