//! Bedrock's binary event-stream framing (`application/vnd.amazon.eventstream`) and the
//! ConverseStream decoder behind it: any bytes, split anywhere, give the same messages (or
//! the same error) as the whole read at once, each within the message cap; never a panic.
#![no_main]

use gateway_providers::fuzzing::decode_eventstream;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // Two leading bytes choose the message cap and the split points; the rest is the body.
    let [cap, seed, body @ ..] = input else {
        return;
    };
    let max_message = 16 + usize::from(*cap) * 16;
    let step = 1 + usize::from(*seed % 17);
    let cuts: Vec<usize> = (1..body.len()).step_by(step).collect();
    let whole = decode_eventstream(body, &[], max_message);
    let split = decode_eventstream(body, &cuts, max_message);
    match (&whole, &split) {
        (Ok((a, _)), Ok((b, _))) => assert_eq!(a, b, "messages depend on the split"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("whole: {whole:?}, split: {split:?}"),
    }
    if let Ok((messages, _)) = whole {
        for message in messages {
            // An `error` message's text is re-encoded as JSON (escapes grow it at most 6x).
            assert!(message.data.len() <= 6 * max_message, "message over the cap");
        }
    }
});
