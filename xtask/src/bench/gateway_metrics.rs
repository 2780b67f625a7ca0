//! The gateway's own account of a run, read from its Prometheus endpoint once a target's
//! measurements are done: the usage records it had to drop (its buffer full, or a write
//! that failed for good). A bench that loses records is not measuring the gateway a
//! platform team would run, so the report says so beside the CPU and memory.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Usage records dropped since the gateway started; `None` when `/metrics` cannot be read.
pub fn usage_records_dropped(addr: SocketAddr) -> Option<u64> {
    parse_usage_dropped(&get_metrics(addr).ok()?)
}

fn get_metrics(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// The counter's value from a whole HTTP response. A family without samples is not
/// printed at all, so when the usage writer has written records and no drop is counted the
/// answer is 0; `None` for anything but a 200 showing the writer at work.
fn parse_usage_dropped(response: &str) -> Option<u64> {
    if !response.starts_with("HTTP/1.1 200") {
        return None;
    }
    let mut written = false;
    for line in response.lines() {
        if line.starts_with("gateway_telemetry_written_records_total{name=\"usage\"} ") {
            written = true;
        }
        if let Some(value) =
            line.strip_prefix("gateway_telemetry_dropped_records_total{name=\"usage\"} ")
        {
            // Counters are printed as integers; a float form is read too.
            let value: f64 = value.trim().parse().ok()?;
            return Some(value as u64);
        }
    }
    written.then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n";

    #[test]
    fn reads_the_usage_sample_only() {
        let body = "# HELP gateway_telemetry_dropped_records Usage records and audit events dropped.\n\
                    # TYPE gateway_telemetry_dropped_records counter\n\
                    gateway_telemetry_dropped_records_total{name=\"audit\"} 7\n\
                    gateway_telemetry_dropped_records_total{name=\"usage\"} 126448\n";
        assert_eq!(parse_usage_dropped(&format!("{HEAD}{body}")), Some(126_448));
    }

    #[test]
    fn records_written_and_none_dropped_is_zero() {
        let body = "# TYPE gateway_telemetry_written_records counter\n\
                    gateway_telemetry_written_records_total{name=\"usage\"} 955861\n# EOF\n";
        assert_eq!(parse_usage_dropped(&format!("{HEAD}{body}")), Some(0));
    }

    #[test]
    fn anything_else_is_unknown() {
        assert_eq!(parse_usage_dropped(&format!("{HEAD}# EOF\n")), None);
        assert_eq!(parse_usage_dropped("HTTP/1.1 404 Not Found\r\n\r\n"), None);
        assert_eq!(
            parse_usage_dropped(&format!(
                "{HEAD}gateway_telemetry_dropped_records_total{{name=\"usage\"}} lots\n"
            )),
            None
        );
    }
}
