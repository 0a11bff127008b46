//! demo: the built-in classroom tour (being written).

use crate::cli::DemoCommand;
use crate::run::RunError;

pub fn run(_demo: &DemoCommand) -> Result<i32, RunError> {
    Err(RunError {
        message: "the demo is being written".into(),
        exit_code: 1,
    })
}

pub fn run_scenario(_name: &str) -> i32 {
    1
}
