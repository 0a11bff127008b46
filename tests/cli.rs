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

/// The live lines of `clonetrace ARGS -- sh -c 'true; true'` (two forks of /bin/true).
fn live_lines(args: &[&str], command: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--");
    all.extend_from_slice(command);
    let run = common::run_clonetrace(&all);
    assert!(run.status.success(), "{}", run.stderr);
    run.stderr
}

#[test]
fn argv_strings_are_capped_at_s_characters() {
    let long = "x".repeat(50);
    let text = live_lines(&["--color", "never", "-s", "8"], &["/bin/echo", &long]);
    // Every string, argv[0] included, as strace's -s does.
    assert!(text.contains(r#"["/bin/ech"..., "xxxxxxxx"...]"#), "{text}");
    let text = live_lines(&["--color", "never"], &["/bin/echo", &long]);
    // strace's default: 32 characters.
    assert!(
        text.contains(&format!("\"{}\"...", "x".repeat(32))),
        "{text}"
    );
}

#[test]
fn control_characters_in_argv_are_escaped_never_written_raw() {
    let text = live_lines(&["--color", "never"], &["/bin/echo", "a\x1b[31mb\nc\"d"]);
    assert!(text.contains(r#""a\x1b[31mb\nc\"d""#), "{text}");
    assert!(
        !text.contains('\x1b'),
        "a raw escape reached the output: {text:?}"
    );
}

#[test]
fn colour_follows_the_color_option_and_no_color() {
    let ansi = |text: &str| text.contains("\x1b[");
    assert!(ansi(&live_lines(&["--color", "always"], &["/bin/true"])));
    assert!(!ansi(&live_lines(&["--color", "never"], &["/bin/true"])));
    // Not a terminal: auto means none.
    assert!(!ansi(&live_lines(&[], &["/bin/true"])));
}

#[test]
fn the_tree_can_be_drawn_in_ascii() {
    let command = ["sh", "-c", "/bin/true; /bin/true"];
    let unicode = live_lines(&["--color", "never", "--tree"], &command);
    assert!(
        unicode.contains("├─ ") && unicode.contains("└─ "),
        "{unicode}"
    );
    let ascii = live_lines(&["--color", "never", "--tree", "--ascii"], &command);
    assert!(ascii.contains("|- ") && ascii.contains("`- "), "{ascii}");
    // The tree's lines (after the live lines, which keep their µs) are plain ASCII.
    let tree: Vec<&str> = ascii
        .lines()
        .skip_while(|l| !l.contains(" /usr/bin/sh -c"))
        .collect();
    assert!(tree.len() == 3, "{ascii}");
    assert!(tree.iter().all(|l| l.is_ascii()), "{tree:?}");
}

#[test]
fn timestamps_prefix_each_line_as_strace_does() {
    let first = |args: &[&str]| {
        let text = live_lines(args, &["/bin/true"]);
        text.lines().next().unwrap_or_default().to_string()
    };
    let is_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let clock = |s: &str| {
        let parts: Vec<&str> = s.split(':').collect();
        parts.len() == 3 && parts.iter().all(|p| p.len() == 2 && is_digits(p))
    };
    // -t: HH:MM:SS
    let line = first(&["--color", "never", "-t"]);
    assert!(clock(line.split(' ').next().unwrap()), "{line}");
    // -tt: HH:MM:SS.micro
    let line = first(&["--color", "never", "-tt"]);
    let (hms, micro) = line.split(' ').next().unwrap().split_once('.').unwrap();
    assert!(clock(hms) && micro.len() == 6 && is_digits(micro), "{line}");
    // -ttt: seconds since the epoch, near now.
    let line = first(&["--color", "never", "-ttt"]);
    let epoch: f64 = line.split(' ').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - epoch).abs() < 60.0, "{line}");
    // -r: seconds since the previous line, first one counted from the start.
    let line = first(&["--color", "never", "-r"]);
    let delta: f64 = line.split_whitespace().next().unwrap().parse().unwrap();
    assert!((0.0..10.0).contains(&delta), "{line}");
}

#[test]
fn the_command_needs_no_double_dash_and_keeps_its_own_options() {
    // As strace: options first, then the command; `-n` after it is echo's, not clonetrace's.
    let run = common::run_clonetrace(&["--color", "never", "sh", "-c", "echo -n hi; exit 3"]);
    assert_eq!(run.status.code(), Some(3), "{}", run.stderr);
    assert_eq!(run.stdout, b"hi");
    assert!(
        run.stderr.contains("execve(\"/usr/bin/sh\"") || run.stderr.contains("execve(\"/bin/sh\""),
        "{}",
        run.stderr
    );
    // `--` still works, and makes a subcommand's name a command.
    let run = common::run_clonetrace(&["--", "true"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    let run = common::run_clonetrace(&["--", "demo"]);
    assert_eq!(run.status.code(), Some(127), "{}", run.stderr);
    assert!(run.stderr.contains("demo"), "{}", run.stderr);
}

#[test]
fn strace_options_clonetrace_lacks_get_a_one_line_hint() {
    for (args, words) in [
        (
            &["-f", "-e", "trace=process", "true"][..],
            &["strace -f -e trace=process", "--syscalls"][..],
        ),
        (&["-etrace=process", "true"], &["--syscalls"]),
        (&["-c", "true"], &["--summary"]),
        (&["-ff", "true"], &["--json -o FILE"]),
    ] {
        let run = common::run_clonetrace(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        for word in words {
            assert!(
                run.stderr.contains(word),
                "{args:?} lacks {word:?}: {}",
                run.stderr
            );
        }
    }
    // After the command, such words are the command's own.
    let run = common::run_clonetrace(&["sh", "-c", "exit 0", "-c"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
}

#[test]
fn options_that_read_stopped_tasks_are_refused_with_the_ebpf_engine() {
    for (args, option) in [
        (&["--backend", "ebpf", "-k", "true"][..], "--backtrace"),
        (&["--system", "--stack-usage"][..], "--stack-usage"),
    ] {
        let done = crate::common::run_clonetrace(args);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        assert_eq!(
            done.stderr,
            format!(
                "clonetrace: {option} needs the ptrace engine (it reads each task while it is stopped)\n"
            )
        );
    }
}
