//! `amlis-serve`: serves the model files of a directory over the Open Inference Protocol
//! (V2) REST API. See `amlis::service::serve` and `amlis-serve --help`.

fn main() -> std::process::ExitCode {
    amlis::service::serve::main(amlis::service::serve::Options::from_args())
}
