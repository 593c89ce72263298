//! Running the `hookline` binary in tests; the capturing receiver is the
//! server testkit's.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

#[allow(unused_imports)]
pub use hookline_server::testkit::{Receiver, Reply};

/// Runs the `hookline` binary with `args` (and `stdin`), bounded by 60 s.
pub async fn hookline(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookline"));
    cmd.args(args)
        .env_remove("HOOKLINE_SECRET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn hookline");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or_default())
        .await
        .expect("write stdin");
    drop(pipe);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("hookline finished within 60 s")
        .expect("hookline ran")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
