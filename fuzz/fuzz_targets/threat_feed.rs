//! Threat-intelligence feed files (plain lists, CSV with a header, STIX 2.1 bundles) for each
//! feed kind: any bytes give entries or an error, never a panic, and never more than
//! `MAX_ENTRIES` entries.
//!
//! Input: one selector byte (kind, format), then the feed's bytes.
#![no_main]

use std::time::{Duration, SystemTime};

use gateway_policy::threat_intel::{FeedFormat, FeedKind, MAX_ENTRIES, parse_entries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [selector, feed @ ..] = input else {
        return;
    };
    let kind = match selector % 3 {
        0 => FeedKind::IpBlocklist,
        1 => FeedKind::PromptSignatures,
        _ => FeedKind::LeakedKeys,
    };
    let format = match (selector / 3) % 4 {
        0 => FeedFormat::Plain,
        1 => FeedFormat::Csv {
            column: "indicator".to_owned(),
        },
        2 => FeedFormat::Csv {
            column: "0".to_owned(),
        },
        _ => FeedFormat::Stix2,
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    if let Ok(entries) = parse_entries(kind, &format, feed, now) {
        assert!(entries.len() <= MAX_ENTRIES);
    }
});
