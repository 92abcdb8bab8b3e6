//! The git revision of a rule set, when it lies in a git work tree with nothing uncommitted
//! under it: then the record can name the commit the rules were accepted from.

use std::path::Path;
use std::process::{Command, Stdio};

/// `HEAD` of the work tree holding `dir`, when git is installed, `dir` is in a work tree and
/// nothing under `dir` differs from `HEAD` (no changes, no untracked or ignored files: rules in
/// an ignored folder are in no commit); `None` otherwise.
pub fn rules_revision(dir: &Path) -> Option<String> {
    let head = git(dir, &["rev-parse", "--verify", "HEAD"])?;
    let status = git(
        dir,
        &[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--ignored",
            "--",
            ".",
        ],
    )?;
    let head = head.trim();
    (status.trim().is_empty() && !head.is_empty()).then(|| head.to_string())
}

/// Standard output of `git -C dir args…`, when it ran and succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
