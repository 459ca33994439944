//! A load client for `make bench` where redis-benchmark cannot express the work: the original
//! client's read-then-write damage (two round trips per operation). It also runs ACCOUNT.DAMAGE
//! the same way, so both are measured with one tool.
//!
//! bench_client PORT MODE CLIENTS PIPELINE SECONDS   (MODE: rw | damage)
//! Prints the operations per second.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (port, mode, clients, pipeline, secs): (u16, String, usize, usize, f64) = (
        a[1].parse().unwrap(),
        a[2].clone(),
        a[3].parse().unwrap(),
        a[4].parse().unwrap(),
        a[5].parse().unwrap(),
    );
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            let (stop, done, mode) = (&stop, &done, mode.as_str());
            s.spawn(move || {
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
                let mut c = client.get_connection().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    match mode {
                        "rw" => {
                            // Round trip 1: read the vital; compute the clamped damage in the client.
                            let mut p = redis::pipe();
                            for _ in 0..pipeline {
                                p.cmd("JSON.GET").arg("ac:1").arg("$.stats.hp");
                            }
                            let reads: Vec<String> = p.query(&mut c).unwrap();
                            // Round trip 2: write the new value back.
                            let mut p = redis::pipe();
                            for r in reads {
                                let v: serde_json::Value = serde_json::from_str(&r).unwrap();
                                let cur = v[0]["cur"].as_i64().unwrap();
                                p.cmd("JSON.SET")
                                    .arg("ac:1")
                                    .arg("$.stats.hp.cur")
                                    .arg((cur - 1).max(0))
                                    .ignore();
                            }
                            p.query::<()>(&mut c).unwrap();
                        }
                        _ => {
                            let mut p = redis::pipe();
                            for _ in 0..pipeline {
                                p.cmd("ACCOUNT.DAMAGE").arg("ac:1").arg(1).ignore();
                            }
                            p.query::<()>(&mut c).unwrap();
                        }
                    }
                    done.fetch_add(pipeline as u64, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!("{rate:.0}");
}
