//! The `tenor` command line (and plugin worker), built with the tests.

fn main() -> std::process::ExitCode {
    tenor_core::cli::main()
}
