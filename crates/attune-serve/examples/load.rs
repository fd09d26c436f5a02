//! A load generator for `POST /v1/answers`: `connections` keep-alive HTTP/1.1 connections on
//! loopback, driven from one thread, each sending answers (every one with a fresh id, so each
//! is stored and updates a learner's state) for `seconds`; the run reports answers per second
//! and the latency percentiles of the acknowledgements. A general tool such as `oha` repeats
//! one body, whose answer id would be a duplicate after the first request; this one varies the
//! id, learner and item, and like `oha` it is asynchronous (a thread per connection spent the
//! shared cores on switching threads).
//!
//! `cargo run --release -p attune-serve --example load -- <url> <key> [seconds=10]
//! [connections=32] [answers per request=1] [learners=2000]`

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one response: its status, with the body consumed (by `Content-Length`).
async fn read_response(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).ok()?;
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = [0u8; 8192];
                let n = tcp.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return Some(status);
        }
        let mut chunk = [0u8; 8192];
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: load <url> <key> [seconds=10] [connections=32] [answers per request=1] [learners=2000]");
        std::process::exit(2);
    }
    let addr = args[1].trim_start_matches("http://").trim_end_matches('/').to_owned();
    let key = args[2].clone();
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (seconds, connections, batch, learners) = (num(3, 10), num(4, 32), num(5, 1), num(6, 2000));
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(seconds);
    let results = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..connections {
            let (addr, key) = (addr.clone(), key.clone());
            tasks.spawn(async move {
                let mut tcp = TcpStream::connect(&addr).await.unwrap();
                tcp.set_nodelay(true).unwrap();
                let (mut latencies, mut answers, mut errors) = (Vec::new(), 0u64, 0u64);
                let mut buf = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let body: Vec<_> = (0..batch)
                        .map(|_| {
                            i += 1;
                            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ w;
                            json!({
                                "id": format!("load-{run}-{w}-{i}"),
                                "learner": format!("load-{}", h % learners),
                                "item": format!("{}", 1 + (h >> 20) % 110),
                                "correct": !(h >> 40).is_multiple_of(3),
                            })
                        })
                        .collect();
                    let body =
                        if batch == 1 { body[0].to_string() } else { serde_json::Value::Array(body).to_string() };
                    let request = format!(
                        "POST /v1/answers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
                         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let start = Instant::now();
                    if tcp.write_all(request.as_bytes()).await.is_err() {
                        errors += 1;
                        break;
                    }
                    match read_response(&mut tcp, &mut buf).await {
                        Some(200) => {
                            latencies.push(start.elapsed().as_micros() as u32);
                            answers += batch;
                        }
                        Some(_) => errors += 1,
                        None => {
                            errors += 1;
                            break;
                        }
                    }
                }
                (latencies, answers, errors)
            });
        }
        tasks.join_all().await
    });
    let secs = t0.elapsed().as_secs_f64();
    let (mut lat, mut answers, mut errors) = (Vec::new(), 0, 0);
    for (l, a, e) in results {
        lat.extend(l);
        answers += a;
        errors += e;
    }
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |&v| f64::from(v) / 1000.0)
    };
    println!(
        "{answers} answers in {} requests over {secs:.1} s: {:.0} answers/s, {:.0} requests/s; \
         latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}; {errors} errors",
        lat.len(),
        answers as f64 / secs,
        lat.len() as f64 / secs,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
    );
}
