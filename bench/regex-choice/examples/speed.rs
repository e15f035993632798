use std::time::Instant;
fn main() {
    let mut hay = String::new();
    for i in 0..1_000_000u64 {
        let x = i.wrapping_mul(2654435761) % 100000;
        hay.push_str(&format!("{}-{}\n", ["prod", "dev", "CREATE", "res"][(x % 4) as usize], x));
    }
    for pat in ["^prod-[0-9]+$", "(?i)create", "^res-9+$", "a|b|c|prod-1"] {
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..3 {
            let t = Instant::now();
            n = rxbench::run(pat, &hay);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{pat:16} {n:8} matches {:8.1} ns/line", best * 1e9 / 1e6);
    }
}
