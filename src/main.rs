fn main() -> std::process::ExitCode {
    refboard::cli::main()
}
