//! The event-stream parser: any bytes, split anywhere, give the same events (or the same
//! error) as the whole read at once, within the line cap.
#![no_main]

use gateway_providers::fuzzing::parse_sse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // Two leading bytes choose the line cap and the split points; the rest is the stream.
    let [cap, seed, stream @ ..] = input else {
        return;
    };
    let max_line = 8 + usize::from(*cap) * 4;
    let step = 1 + usize::from(*seed % 17);
    let cuts: Vec<usize> = (1..stream.len()).step_by(step).collect();
    let whole = parse_sse(stream, &[], max_line);
    let split = parse_sse(stream, &cuts, max_line);
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "events depend on the split"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("whole: {whole:?}, split: {split:?}"),
    }
    if let Ok(events) = whole {
        for event in events {
            assert!(event.data.len() <= max_line, "event over the cap");
        }
    }
});
