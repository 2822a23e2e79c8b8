//! The physical limit: wrk against the same receiver, sending what the
//! sender sends (a rendered body, signed-delivery headers), over as many
//! connections as the sender keeps busy.
use anyhow::{Context, Result, bail};
use std::process::Command;

pub fn wrk_path() -> Option<std::path::PathBuf> {
    ["/usr/bin/wrk", "/usr/local/bin/wrk"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

/// `wrk --version`'s first words.
pub fn wrk_version() -> String {
    Command::new("wrk")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string()
                + &String::from_utf8_lossy(&o.stderr);
            text.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
                .into()
        })
        .unwrap_or_else(|| "wrk".into())
}

/// Requests per second wrk reached in `seconds`.
pub fn wrk(
    url: &str,
    body: &str,
    headers: &[(String, String)],
    connections: usize,
    seconds: u32,
) -> Result<f64> {
    let Some(exe) = wrk_path() else {
        bail!("wrk is not installed (scripts/bench.sh installs it: apt-get install wrk)");
    };
    let dir = std::env::temp_dir().join(format!("hubhooks-bench-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("body.json"), body)?;
    let mut script = format!(
        "wrk.method = \"POST\"\nlocal f = io.open(\"{}\", \"rb\")\nwrk.body = f:read(\"*a\")\nf:close()\n",
        dir.join("body.json").display()
    );
    for (name, value) in headers {
        script.push_str(&format!("wrk.headers[{name:?}] = {value:?}\n"));
    }
    std::fs::write(dir.join("post.lua"), script)?;
    let out = Command::new(exe)
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
            &dir.join("post.lua").display().to_string(),
            &format!("{url}/hooks/load"),
        ])
        .output()
        .context("running wrk")?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if let Some(line) = text.lines().find(|l| l.contains("Non-2xx")) {
        bail!("wrk got error answers: {line}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))
}
