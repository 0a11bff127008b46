//! First contact: shell completions, the man page and the version, generated from the same clap
//! definitions as the parser.

use crate::common;

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _clonetrace"),
        ("zsh", "#compdef clonetrace"),
        ("fish", "complete -c clonetrace"),
    ] {
        let run = common::run_clonetrace(&["completions", shell]);
        assert!(run.status.success(), "{shell}: {}", run.stderr);
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(text.contains(marker), "{shell} completions lack {marker:?}");
        // Options and subcommands come from the parser itself.
        assert!(
            text.contains("reap-grace") && text.contains("demo"),
            "{shell}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let run = common::run_clonetrace(&["completions", "cmd.exe"]);
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_with_every_option() {
    let run = common::run_clonetrace(&["man"]);
    assert!(run.status.success(), "{}", run.stderr);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains(".TH clonetrace 1"), "{text}");
    for option in ["\\-\\-tree", "\\-\\-json", "\\-\\-syscalls", "\\-\\-attach"] {
        assert!(text.contains(option), "man page lacks {option}");
    }
}

#[test]
fn the_version_names_the_package_version() {
    let run = common::run_clonetrace(&["--version"]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.starts_with(concat!("clonetrace ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
}
