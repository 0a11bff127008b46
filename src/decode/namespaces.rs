//! decode::namespaces: the namespace kinds of `/proc/TID/ns/`, their `CLONE_NEW*` flags and
//! names, and the `kind:[inode]` text of a namespace link. Pure, no I/O.

/// One link of `/proc/TID/ns/`: a namespace a task is in, or (`*_for_children`) the one its
/// children will be created in. The order is the directory's (alphabetical), which is also the
/// order records list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NsKind {
    Cgroup,
    Ipc,
    Mnt,
    Net,
    Pid,
    PidForChildren,
    Time,
    TimeForChildren,
    User,
    Uts,
}

/// Every kind with its link name and the flag that makes a new one at clone or unshare (for
/// the `*_for_children` links: the flag that changes them in the caller, via `unshare`).
pub const NAMESPACES: [(NsKind, &str, u64); 10] = [
    (NsKind::Cgroup, "cgroup", libc::CLONE_NEWCGROUP as u64),
    (NsKind::Ipc, "ipc", libc::CLONE_NEWIPC as u64),
    (NsKind::Mnt, "mnt", libc::CLONE_NEWNS as u64),
    (NsKind::Net, "net", libc::CLONE_NEWNET as u64),
    (NsKind::Pid, "pid", libc::CLONE_NEWPID as u64),
    (
        NsKind::PidForChildren,
        "pid_for_children",
        libc::CLONE_NEWPID as u64,
    ),
    (NsKind::Time, "time", CLONE_NEWTIME),
    (NsKind::TimeForChildren, "time_for_children", CLONE_NEWTIME),
    (NsKind::User, "user", libc::CLONE_NEWUSER as u64),
    (NsKind::Uts, "uts", libc::CLONE_NEWUTS as u64),
];

/// Not in every libc crate's list: 0x80 (it shares clone's exit-signal byte, so only clone3 and
/// unshare can pass it).
pub const CLONE_NEWTIME: u64 = 0x80;

/// Every `CLONE_NEW*` flag.
pub const CLONE_NEW_ANY: u64 = libc::CLONE_NEWCGROUP as u64
    | libc::CLONE_NEWIPC as u64
    | libc::CLONE_NEWNS as u64
    | libc::CLONE_NEWNET as u64
    | libc::CLONE_NEWPID as u64
    | CLONE_NEWTIME
    | libc::CLONE_NEWUSER as u64
    | libc::CLONE_NEWUTS as u64;

impl NsKind {
    pub const ALL: [NsKind; 10] = {
        let mut all = [NsKind::Cgroup; 10];
        let mut i = 0;
        while i < 10 {
            all[i] = NAMESPACES[i].0;
            i += 1;
        }
        all
    };

    /// Its position in [`NAMESPACES`] (and in a task's table of ids).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The link name in `/proc/TID/ns/`, which is also its name in records.
    pub fn name(self) -> &'static str {
        NAMESPACES[self.index()].1
    }

    pub fn from_name(name: &str) -> Option<NsKind> {
        NAMESPACES.iter().find(|(_, n, _)| *n == name).map(|e| e.0)
    }

    /// The kind a task itself is in, for the `*_for_children` links: what their children get.
    pub fn own(self) -> NsKind {
        match self {
            NsKind::PidForChildren => NsKind::Pid,
            NsKind::TimeForChildren => NsKind::Time,
            kind => kind,
        }
    }

    /// Whether a task can change it for itself (unshare, setns). A task's pid and time
    /// namespaces are fixed at its creation: those calls change only `*_for_children`.
    pub fn changes_in_place(self) -> bool {
        !matches!(self, NsKind::Pid | NsKind::Time)
    }
}

/// The kinds a creation with these flags gives the child new ones of (`CLONE_NEWTIME` only where
/// the flags word has no exit signal: `clone3`).
pub fn kinds_of_clone_flags(flags: u64, time_possible: bool) -> Vec<NsKind> {
    NAMESPACES
        .iter()
        .filter(|(kind, _, flag)| {
            flags & flag != 0
                && !matches!(kind, NsKind::PidForChildren | NsKind::TimeForChildren)
                && (*kind != NsKind::Time || time_possible)
        })
        .map(|e| e.0)
        .collect()
}

/// The inode number in a namespace link's text, `mnt:[4026531841]`.
pub fn parse_link(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    // The first `:[` found bytewise (split_once with a two-byte pattern builds a substring
    // searcher, several times the cost of the rest; eight links are parsed per process made).
    let at = text.as_bytes().windows(2).position(|w| w == b":[")?;
    text[at + 2..].strip_suffix(']')?.parse().ok()
}

/// One line of `/proc/TID/uid_map` or `gid_map`: `inside outside count`.
pub fn parse_id_map(text: &str) -> Vec<[u64; 3]> {
    text.lines()
        .filter_map(|line| {
            let mut n = line.split_whitespace().map(|w| w.parse::<u64>());
            match (n.next(), n.next(), n.next()) {
                (Some(Ok(a)), Some(Ok(b)), Some(Ok(c))) => Some([a, b, c]),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_in_table_order_and_named_as_their_links() {
        for (i, (kind, name, _)) in NAMESPACES.iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert_eq!(kind.name(), *name);
            assert_eq!(NsKind::from_name(name), Some(*kind));
        }
        assert_eq!(NsKind::PidForChildren.own(), NsKind::Pid);
        assert!(!NsKind::Pid.changes_in_place());
        assert!(NsKind::PidForChildren.changes_in_place());
    }

    #[test]
    fn clone_flags_name_the_child_s_new_namespaces() {
        let lxc = (libc::CLONE_NEWNS
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET) as u64;
        assert_eq!(
            kinds_of_clone_flags(lxc, true),
            [
                NsKind::Ipc,
                NsKind::Mnt,
                NsKind::Net,
                NsKind::Pid,
                NsKind::Uts
            ]
        );
        // In clone's flags word 0x80 is part of the exit signal, not CLONE_NEWTIME.
        assert!(kinds_of_clone_flags(0x80 | 17, false).is_empty());
        assert_eq!(kinds_of_clone_flags(0x80, true), [NsKind::Time]);
    }

    #[test]
    fn links_and_maps_parse() {
        assert_eq!(parse_link(b"mnt:[4026531841]"), Some(4026531841));
        assert_eq!(
            parse_link(b"pid_for_children:[4026531836]"),
            Some(4026531836)
        );
        assert_eq!(parse_link(b"garbage"), None);
        let by_split = |text: &[u8]| -> Option<u64> {
            let text = std::str::from_utf8(text).ok()?;
            let (_, rest) = text.split_once(":[")?;
            rest.strip_suffix(']')?.parse().ok()
        };
        for text in [
            &b"mnt:[1]"[..],
            b"a:[b:[2]",
            b":[3]",
            b"x:[]",
            b"x:[+4]",
            b"x:[5",
            b"x:[6]]",
            b"x:[18446744073709551616]",
            b":",
            b"",
            b"\xff:[7]",
            "é:[8]".as_bytes(),
        ] {
            assert_eq!(parse_link(text), by_split(text), "{text:?}");
        }
        assert_eq!(
            parse_id_map("         0       1000          1\n  1  100000  65536\n"),
            [[0, 1000, 1], [1, 100000, 65536]]
        );
    }
}
