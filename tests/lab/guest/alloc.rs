// lab-alloc MIB STOPFILE: the lab's memory user. Allocates MIB MiB, writes a pattern into
// every word (so every page is touched and backed), prints "lab-alloc: ready", then waits
// for STOPFILE to exist and checks that every word still holds its pattern: exit 0 when the
// data survived whatever the kernel did to the memory meanwhile (migration, offlining), 1
// when a word changed. Run it under `numactl --membind=N` to place the memory on node N.
// Built by tests/lab/lib.sh with rustc alone (std only), static for the busybox guest.
use std::{env, fs, process, thread, time::Duration};

fn word(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5eed
}

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: lab-alloc MIB STOPFILE");
        process::exit(2);
    }
    let mib: usize = args[1].parse().unwrap_or(0);
    let mut v: Vec<u64> = vec![0; mib << 17];
    for (i, x) in v.iter_mut().enumerate() {
        *x = word(i);
    }
    println!("lab-alloc: ready {mib} MiB");
    while fs::metadata(&args[2]).is_err() {
        thread::sleep(Duration::from_millis(100));
    }
    let changed = v.iter().enumerate().filter(|(i, x)| **x != word(*i)).count();
    println!("lab-alloc: {changed} of {} words changed", v.len());
    process::exit(if changed == 0 { 0 } else { 1 });
}
