//! The `tenor` command-line tool.

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let code = tenor_core::cli::run(args, &mut std::io::stdout(), &mut tenor_core::cli::stderr());
    std::process::ExitCode::from(code as u8)
}
