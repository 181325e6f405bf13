//! Reading counters from mssd's Prometheus `/metrics` endpoint.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::{Error, Result, io};

/// The value of the unlabelled sample `name` in Prometheus text, if present.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let mut parts = line.split_whitespace();
            if parts.next()? != name {
                return None;
            }
            parts.next()?.parse().ok()
        })
}

/// GET /metrics over HTTP/1.1; returns the body.
pub fn fetch(addr: SocketAddr) -> Result<String> {
    let what = format!("GET http://{addr}/metrics");
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(io(what.clone()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io(what.clone()))?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(io(what.clone()))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(io(what.clone()))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| Error::Metrics(format!("{what}: no end of headers")))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(Error::Metrics(format!(
            "{what}: {}",
            head.lines().next().unwrap_or_default()
        )));
    }
    Ok(body.to_string())
}

/// Store counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreCounters {
    pub writes: f64,
    pub commits: f64,
}

impl StoreCounters {
    pub fn read(addr: SocketAddr) -> Result<StoreCounters> {
        let text = fetch(addr)?;
        let get = |name: &str| {
            sample(&text, name).ok_or_else(|| Error::Metrics(format!("no {name} in /metrics")))
        };
        Ok(StoreCounters {
            writes: get("mssd_store_writes_total")?,
            commits: get("mssd_store_commits_total")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_table() {
        let text = "# HELP mssd_store_writes_total Writes\n# TYPE mssd_store_writes_total counter\nmssd_store_writes_total 7\nmssd_store_commits_total 2.5\nmssd_connections_total{listener=\"smtp\"} 3\nmssd_store_writes_total_extra 9\nbroken\n";
        let cases = [
            ("mssd_store_writes_total", Some(7.0)),
            ("mssd_store_commits_total", Some(2.5)),
            ("mssd_store_writes_total_extra", Some(9.0)),
            ("mssd_store_writes", None),
            ("mssd_connections_total", None),
            ("broken", None),
            ("# HELP", None),
            ("missing", None),
        ];
        for (name, expected) in cases {
            assert_eq!(sample(text, name), expected, "{name}");
        }
    }
}
