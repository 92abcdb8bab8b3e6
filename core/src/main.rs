//! The `tenor` command-line tool (and, started with a hidden argument, a plugin's worker).

fn main() -> std::process::ExitCode {
    tenor_core::cli::main()
}
