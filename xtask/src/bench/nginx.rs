//! nginx as the plain reverse-proxy baseline: find (or, on request, install) it,
//! write a minimal config in a scratch directory, run it in the foreground.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::procs::{Service, free_port};
use crate::Result;
use crate::util::{find_on_path, run_status};

/// The nginx binary, installing it with apt-get first when `install` is set.
pub fn locate(install: bool) -> Option<PathBuf> {
    if let Some(path) = find_on_path("nginx") {
        return Some(path);
    }
    if install {
        println!("nginx not found; installing it (--install-nginx)");
        let apt_install = || {
            let mut cmd = Command::new("apt-get");
            cmd.args(["install", "-y", "nginx"])
                .env("DEBIAN_FRONTEND", "noninteractive");
            run_status(&mut cmd)
        };
        if apt_install().is_err() {
            let _ = run_status(Command::new("apt-get").arg("update"));
            if let Err(err) = apt_install() {
                println!("nginx install failed: {err}");
            }
        }
    }
    find_on_path("nginx")
}

/// The nginx config: one server per upstream, each a keep-alive reverse proxy with
/// buffering off (so streams pass through as they are written).
pub fn render_config(dir: &Path, routes: &[(u16, SocketAddr)]) -> String {
    let dir = dir.display();
    let mut conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes 1;\nworker_rlimit_nofile 16384;\n\
         pid {dir}/nginx.pid;\nerror_log stderr warn;\n\n\
         events {{\n    worker_connections 8192;\n}}\n\n\
         http {{\n    access_log off;\n    keepalive_requests 1000000;\n\
         \x20   client_body_temp_path {dir}/client_body;\n    proxy_temp_path {dir}/proxy;\n\
         \x20   fastcgi_temp_path {dir}/fastcgi;\n    uwsgi_temp_path {dir}/uwsgi;\n\
         \x20   scgi_temp_path {dir}/scgi;\n"
    );
    for (index, (listen_port, upstream)) in routes.iter().enumerate() {
        conf.push_str(&format!(
            "\n    upstream mock{index} {{\n        server {upstream};\n        keepalive 256;\n\
             \x20       keepalive_requests 1000000;\n    }}\n\
             \x20   server {{\n        listen 127.0.0.1:{listen_port};\n        location / {{\n\
             \x20           proxy_pass http://mock{index};\n            proxy_http_version 1.1;\n\
             \x20           proxy_set_header Connection \"\";\n            proxy_buffering off;\n\
             \x20           proxy_request_buffering off;\n        }}\n    }}\n"
        ));
    }
    conf.push_str("}\n");
    conf
}

/// A running nginx with the address of each route, in the order given.
pub struct Nginx {
    pub service: Service,
    pub addrs: Vec<SocketAddr>,
}

/// Starts nginx proxying a fresh local port to each upstream.
pub fn start(binary: &Path, scratch: &Path, upstreams: &[SocketAddr]) -> Result<Nginx> {
    std::fs::create_dir_all(scratch)?;
    let mut routes = Vec::new();
    for upstream in upstreams {
        routes.push((free_port()?, *upstream));
    }
    let conf_path = scratch.join("nginx.conf");
    std::fs::write(&conf_path, render_config(scratch, &routes))?;
    let mut cmd = Command::new(binary);
    cmd.arg("-p")
        .arg(scratch)
        .arg("-c")
        .arg(&conf_path)
        .args(["-e", "stderr"]);
    let mut service = Service::spawn("nginx", cmd)?;
    let mut addrs = Vec::new();
    for (port, _) in &routes {
        let addr = SocketAddr::from(([127, 0, 0, 1], *port));
        service.wait_ready(Some(addr), Duration::from_secs(10))?;
        addrs.push(addr);
    }
    Ok(Nginx { service, addrs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_proxies_each_route_with_keepalive_and_no_buffering() {
        let routes = [
            (8001, "127.0.0.1:9001".parse().unwrap()),
            (8002, "127.0.0.1:9002".parse().unwrap()),
        ];
        let conf = render_config(Path::new("/tmp/bench-nginx"), &routes);
        assert!(conf.starts_with("daemon off;\n"));
        assert!(conf.contains("worker_processes 1;"));
        assert!(conf.contains("pid /tmp/bench-nginx/nginx.pid;"));
        assert!(
            conf.contains(
                "upstream mock1 {\n        server 127.0.0.1:9002;\n        keepalive 256;"
            )
        );
        assert!(conf.contains("listen 127.0.0.1:8001;"));
        assert_eq!(conf.matches("proxy_buffering off;").count(), 2);
        assert_eq!(conf.matches("proxy_set_header Connection \"\";").count(), 2);
        assert_eq!(conf.matches('{').count(), conf.matches('}').count());
    }
}
