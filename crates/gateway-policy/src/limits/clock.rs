//! Time for the limiter: a monotonic clock (tokio's, so tests run under paused time) and the
//! UTC calendar windows of budgets, derived from the wall clock read once at start plus
//! monotonic time since (so paused-time tests move budgets into the next day too).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::rules::Window;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
    wall_at_epoch: Duration,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            epoch: Instant::now(),
            wall_at_epoch: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    /// Nanoseconds since the clock was made (monotonic).
    pub fn nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Time since the unix epoch, UTC.
    pub fn wall(&self) -> Duration {
        self.wall_at_epoch + self.epoch.elapsed()
    }
}

/// A budget window: its id (stable across instances) and when it ends (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowSpan {
    pub id: u64,
    pub ends_at: u64,
}

impl WindowSpan {
    /// Time left in the window at `wall` (time since the unix epoch).
    pub fn left(&self, wall: Duration) -> Duration {
        Duration::from_secs(self.ends_at).saturating_sub(wall)
    }
}

/// The window of kind `w` containing `wall` (time since the unix epoch).
pub(crate) fn window_at(w: Window, wall: Duration) -> WindowSpan {
    let secs = wall.as_secs();
    let day = secs / 86_400;
    match w {
        Window::Day => WindowSpan {
            id: day,
            ends_at: (day + 1) * 86_400,
        },
        Window::Month => {
            let (year, month) = civil_month(day);
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            WindowSpan {
                id: year * 12 + (month - 1),
                ends_at: days_from_civil(next_year, next_month) * 86_400,
            }
        }
    }
}

/// When the window `span` of kind `w` started (unix seconds).
pub(crate) fn window_start(w: Window, span: WindowSpan) -> u64 {
    match w {
        Window::Day => span.id * 86_400,
        Window::Month => days_from_civil(span.id / 12, span.id % 12 + 1) * 86_400,
    }
}

/// Year and month (1-12) of `day` days after 1970-01-01 (Howard Hinnant's civil algorithms).
fn civil_month(day: u64) -> (u64, u64) {
    let z = day + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month)
}

/// Days from 1970-01-01 to the first of `month` in `year`.
fn days_from_civil(year: u64, month: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(y: i32, m: u8, d: u8, h: u8) -> Duration {
        let date = time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
        let t = date.with_hms(h, 0, 0).unwrap().assume_utc();
        Duration::from_secs(t.unix_timestamp() as u64)
    }

    #[test]
    fn months_and_days_match_the_calendar() {
        for (y, m, d) in [(2024, 2, 29), (2025, 12, 31), (2026, 1, 1), (2100, 3, 15)] {
            let at = unix(y, m, d, 13);
            let month = window_at(Window::Month, at);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            assert_eq!(
                Duration::from_secs(month.ends_at),
                unix(ny, nm, 1, 0),
                "{y}-{m}"
            );
            assert_eq!(month.id, y as u64 * 12 + u64::from(m) - 1);
            assert_eq!(
                Duration::from_secs(window_start(Window::Month, month)),
                unix(y, m, 1, 0)
            );
            let day = window_at(Window::Day, at);
            assert_eq!(day.left(at), Duration::from_secs(11 * 3600));
        }
    }
}
