//! Reading `/proc`: a process's CPU time and memory, and the machine description
//! printed at the top of the benchmark report.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

/// CPU time of a process, in clock ticks, split as the kernel accounts it: in the process's
/// own code (user) and in system calls and the interrupts it took (system).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub system: u64,
}

impl CpuTicks {
    pub fn total(self) -> u64 {
        self.user + self.system
    }

    /// The ticks spent since `earlier`.
    pub fn since(self, earlier: CpuTicks) -> CpuTicks {
        CpuTicks {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

impl std::ops::Add for CpuTicks {
    type Output = CpuTicks;

    fn add(self, other: CpuTicks) -> CpuTicks {
        CpuTicks {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }
}

/// CPU time of a process and its live children (nginx's workers), from `/proc/PID/stat`.
pub fn cpu_ticks(pid: u32) -> Option<CpuTicks> {
    let own = parse_stat_cpu_ticks(&read_stat(pid)?)?;
    Some(
        children(pid)
            .into_iter()
            .filter_map(|child| parse_stat_cpu_ticks(&read_stat(child)?))
            .fold(own, |sum, child| sum + child),
    )
}

fn read_stat(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()
}

/// The live processes whose parent is `pid` (found by scanning `/proc`, which works on
/// kernels without `/proc/PID/task/TID/children`).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&candidate| {
            read_stat(candidate).and_then(|stat| parse_stat_ppid(&stat)) == Some(pid)
        })
        .collect()
}

/// The parent pid (field 4) of a `/proc/PID/stat` line.
pub fn parse_stat_ppid(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// utime and stime (fields 14 and 15) of a `/proc/PID/stat` line. The command name
/// (field 2) may contain spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<CpuTicks> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    // after the comm come field 3 (state) .. ; utime is field 14 => index 11 here.
    let user: u64 = fields.nth(11)?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(CpuTicks { user, system })
}

/// CPU time of a process, its threads and its live children's threads, in nanoseconds, from
/// `/proc/PID/task/TID/schedstat`: exact where clock ticks (10 ms) are far too coarse for the
/// few hundred requests of a light-rate run. Time of threads that exited is not counted
/// (the measured servers keep theirs for the whole run). `None` on a kernel built without
/// scheduler statistics, rather than a time of zero.
pub fn cpu_nanos(pid: u32) -> Option<u64> {
    let of_process = |pid: u32| -> Option<u64> {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        tasks
            .filter_map(|task| {
                let path = task.ok()?.path().join("schedstat");
                parse_schedstat_nanos(&std::fs::read_to_string(path).ok()?)
            })
            .reduce(|sum, nanos| sum + nanos)
    };
    let own = of_process(pid)?;
    Some(
        own + children(pid)
            .into_iter()
            .filter_map(of_process)
            .sum::<u64>(),
    )
}

/// The time on the CPU (first field, in ns) of a `schedstat` line.
pub fn parse_schedstat_nanos(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

/// CPU µs per response: `ticks` of CPU time, at `ticks_per_sec`, over `responses`; `None`
/// when nothing was answered.
pub fn cpu_us_per_response(ticks: u64, ticks_per_sec: f64, responses: u64) -> Option<f64> {
    (responses > 0).then(|| ticks as f64 / ticks_per_sec * 1e6 / responses as f64)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux when that fails).
pub fn clock_ticks_per_sec() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}

/// Resident and peak resident memory of a process, in KiB (`VmRSS`, `VmHWM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

/// Reads `/proc/PID/status` of a process and its live children, summed.
pub fn memory(pid: u32) -> Option<Memory> {
    let read = |pid: u32| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        parse_status_memory(&status)
    };
    let mut total = read(pid)?;
    for child in children(pid).into_iter().filter_map(read) {
        total.rss_kib += child.rss_kib;
        total.peak_kib += child.peak_kib;
    }
    Some(total)
}

/// Extracts `VmRSS` and `VmHWM` from a `/proc/PID/status` text.
pub fn parse_status_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

/// Where and when the benchmark ran.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub date: String,
    pub commit: String,
    pub command: String,
}

impl Machine {
    /// Describes this machine and the repository at `root`.
    pub fn describe(root: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
        let date = time::OffsetDateTime::now_utc()
            .format(&format)
            .unwrap_or_else(|_| "unknown".into());
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self {
            cpu_model: parse_cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            date,
            commit: git_commit(root),
            command: format!("cargo xtask {}", args.join(" "))
                .trim_end()
                .to_owned(),
        }
    }
}

/// The first `model name` of `/proc/cpuinfo`.
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

fn git_commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "no commit yet".into();
    };
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_per_response_is_ticks_in_microseconds_over_responses() {
        // 25 ticks at 100/s = 250 ms over 5,000 responses = 50 µs each.
        assert_eq!(cpu_us_per_response(25, 100.0, 5_000), Some(50.0));
        assert_eq!(cpu_us_per_response(25, 100.0, 0), None);
    }

    #[test]
    fn stat_cpu_ticks_skip_tricky_comm() {
        let stat = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 1000000 500 18446744073709551615";
        assert_eq!(
            parse_stat_cpu_ticks(stat),
            Some(CpuTicks {
                user: 250,
                system: 75
            })
        );
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
        assert_eq!(parse_stat_ppid(stat), Some(1));
        assert_eq!(parse_stat_ppid("garbage"), None);
    }

    #[test]
    fn children_are_found_and_counted() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = children(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
    }

    #[test]
    fn own_process_has_cpu_and_memory() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_some());
        let mem = memory(pid).unwrap();
        assert!(mem.rss_kib > 0 && mem.peak_kib >= mem.rss_kib);
    }

    #[test]
    fn schedstat_time_on_cpu_grows_with_work() {
        assert_eq!(
            parse_schedstat_nanos("472567826 346906182 2989\n"),
            Some(472_567_826)
        );
        assert_eq!(parse_schedstat_nanos(""), None);
        let pid = std::process::id();
        let before = cpu_nanos(pid).unwrap();
        // Spin for 20 ms of wall time on this thread: at least some of it is on the CPU.
        let started = std::time::Instant::now();
        let mut spins = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(20) {
            spins = std::hint::black_box(spins + 1);
        }
        assert!(cpu_nanos(pid).unwrap() > before, "{spins} spins");
    }

    #[test]
    fn status_memory_fields() {
        let status = "Name:\tx\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status_memory(status),
            Some(Memory {
                rss_kib: 10240,
                peak_kib: 20480
            })
        );
        assert_eq!(parse_status_memory("Name: x\n"), None);
    }

    #[test]
    fn cpu_model_line() {
        let info = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
        assert_eq!(parse_cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
    }
}
