//! error: the one error type of the program: a one-line message and the exit status to leave
//! with (2 for bad input, 126/127 when the command cannot run, as a shell does, 1 otherwise).

/// A failure before or instead of tracing.
#[derive(Debug)]
pub struct Error {
    pub message: String,
    pub exit_code: i32,
}

impl Error {
    pub fn new(message: impl Into<String>, exit_code: i32) -> Error {
        Error {
            message: message.into(),
            exit_code,
        }
    }

    /// Nothing to say, nothing went wrong: standard output was closed by its reader (`| head`),
    /// whose interest has ended. Status 0, as ripgrep and fd do, so `set -o pipefail` scripts
    /// don't see a failure that isn't one.
    pub fn quiet() -> Error {
        Error::new("", 0)
    }

    /// Bad input from the user: a usage error, status 2.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(message, 2)
    }
}
