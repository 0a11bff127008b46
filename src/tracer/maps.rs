//! maps: a process's memory mappings from `/proc/PID/maps`, parsed, and cached per process until
//! they can have changed. What we chose: a process's mappings are read once and reused; they are
//! read again after its exec, and whenever an address we look up lies in no cached mapping (a
//! new thread stack, a dlopen'd library). The cost: an address inside a mapping that was since
//! unmapped and replaced at the same place is described by the old one (glibc reuses a thread
//! stack it cached as it was; posix_spawn maps its 36 KiB stack at the same place each time), and
//! the bounds of a mapping the kernel has since merged with a neighbour are the old ones. Reading
//! the maps at every creation with a stack would cost about 20 µs each. Never calls ptrace.

use crate::event::Pid;
use std::collections::HashMap;
use std::fs::File;
use std::rc::Rc;

/// One line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    pub offset: u64,
    pub inode: u64,
    /// The file, or a pseudo-name like `[stack]`, `[heap]`; `None` for anonymous memory.
    pub path: Option<String>,
}

impl Mapping {
    pub fn contains(&self, address: u64) -> bool {
        (self.start..self.end).contains(&address)
    }

    /// No access at all: a guard.
    pub fn inaccessible(&self) -> bool {
        !self.read && !self.write && !self.exec
    }

    /// A file (not a pseudo-name, not anonymous).
    pub fn file(&self) -> Option<&str> {
        self.path
            .as_deref()
            .filter(|p| p.starts_with('/') && self.inode != 0)
    }
}

/// Parses `/proc/PID/maps` text; lines that do not parse are skipped.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mapping> {
    let mut fields = line.splitn(6, ' ');
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?.as_bytes();
    let offset = fields.next()?;
    let _dev = fields.next()?;
    let inode = fields.next()?;
    let path = fields.next().map(str::trim_start).filter(|p| !p.is_empty());
    Some(Mapping {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        read: perms.first() == Some(&b'r'),
        write: perms.get(1) == Some(&b'w'),
        exec: perms.get(2) == Some(&b'x'),
        offset: u64::from_str_radix(offset, 16).ok()?,
        inode: inode.parse().ok()?,
        path: path.map(str::to_string),
    })
}

/// The kernel's `struct procmap_query` (Linux 6.11): one mapping looked up by address.
#[repr(C)]
#[derive(Default)]
struct ProcmapQuery {
    size: u64,
    query_flags: u64,
    query_addr: u64,
    vma_start: u64,
    vma_end: u64,
    vma_flags: u64,
    vma_page_size: u64,
    vma_offset: u64,
    inode: u64,
    dev_major: u32,
    dev_minor: u32,
    vma_name_size: u32,
    build_id_size: u32,
    vma_name_addr: u64,
    build_id_addr: u64,
}

/// `_IOWR('f', 17, struct procmap_query)`.
const PROCMAP_QUERY: libc::c_ulong = (3 << 30) | (104 << 16) | (0x66 << 8) | 17;

/// The mappings holding `address` and just below it (for a guard page) in the process whose
/// `/proc/PID/maps` is open as `file`, asked of the kernel one by one with PROCMAP_QUERY: cost
/// independent of how many mappings the process has (reading its whole maps for each new thread
/// stack would grow with its threads). `None` when the kernel lacks the query (before 6.11) or
/// the process vanished; `Some((None, _))` when no mapping holds the address. `name` is where
/// the kernel writes a mapping's name (kept by the caller: zeroing 4 KiB per ask cost more
/// than the rest of the query in our own instructions).
pub fn query(
    file: &File,
    address: u64,
    name: &mut [u8; 4096],
) -> Option<(Option<Mapping>, Option<Mapping>)> {
    use std::os::fd::AsRawFd;
    let mut ask = |at: u64| -> Option<Option<Mapping>> {
        let mut q = ProcmapQuery {
            size: std::mem::size_of::<ProcmapQuery>() as u64,
            query_addr: at,
            vma_name_size: name.len() as u32,
            vma_name_addr: name.as_mut_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: the kernel reads and writes `q` (its size is given) and writes at most
        // `vma_name_size` bytes at `vma_name_addr`, our buffer.
        let ret = unsafe { libc::ioctl(file.as_raw_fd(), PROCMAP_QUERY as _, &mut q) };
        if ret != 0 {
            return match nix::errno::Errno::last() {
                nix::errno::Errno::ENOENT => Some(None),
                _ => None,
            };
        }
        let len = (q.vma_name_size as usize).saturating_sub(1).min(name.len());
        let path = (q.vma_name_size > 0 && name[0] != 0)
            .then(|| String::from_utf8_lossy(&name[..len]).into_owned());
        Some(Some(Mapping {
            start: q.vma_start,
            end: q.vma_end,
            read: q.vma_flags & 1 != 0,
            write: q.vma_flags & 2 != 0,
            exec: q.vma_flags & 4 != 0,
            offset: q.vma_offset,
            inode: q.inode,
            path,
        }))
    };
    let holding = ask(address)?;
    let below = match &holding {
        Some(m) if m.start > 0 => ask(m.start - 1)?,
        _ => None,
    };
    Some((holding, below))
}

/// Processes whose `/proc/PID/maps` is kept open for [`MapsCache::query`]; more are opened for
/// each query (file descriptors are finite).
const OPEN_MAPS: usize = 64;

/// The mappings of the processes seen so far, by tgid.
#[derive(Default)]
pub struct MapsCache {
    processes: HashMap<Pid, Rc<Vec<Mapping>>>,
    /// `/proc/PID/maps` kept open per process for [`query`]: the open holds the process's
    /// memory (its mm), not a task, so it answers for every thread and for as long as the
    /// process lives, until its exec (when it is forgotten).
    open: HashMap<Pid, File>,
    /// The buffer [`query`] has the kernel write names into.
    name: Option<Box<[u8; 4096]>>,
}

impl MapsCache {
    /// [`query`] for `address` in process `tgid`, through its kept-open maps (opened through
    /// `tid`, any of its threads).
    pub fn query(
        &mut self,
        tgid: Pid,
        tid: Pid,
        address: u64,
    ) -> Option<(Option<Mapping>, Option<Mapping>)> {
        let name = self.name.get_or_insert_with(|| Box::new([0; 4096]));
        if let Some(file) = self.open.get(&tgid) {
            return query(file, address, name);
        }
        let file = File::open(format!("/proc/{tid}/maps")).ok()?;
        let answer = query(&file, address, name);
        if answer.is_some() && self.open.len() < OPEN_MAPS {
            self.open.insert(tgid, file);
        }
        answer
    }

    /// The cached mappings of `tgid` (read through `tid`, which may be any of its threads).
    pub fn get(&mut self, tgid: Pid, tid: Pid) -> Option<Rc<Vec<Mapping>>> {
        if let Some(maps) = self.processes.get(&tgid) {
            return Some(maps.clone());
        }
        self.refresh(tgid, tid)
    }

    /// Reads the mappings again.
    pub fn refresh(&mut self, tgid: Pid, tid: Pid) -> Option<Rc<Vec<Mapping>>> {
        let text = // maps comes a page of lines per read: read to the end, not one buffer.
        std::fs::read_to_string(format!("/proc/{tid}/maps")).ok()?;
        let maps = Rc::new(parse_maps(&text));
        if maps.is_empty() {
            self.processes.remove(&tgid);
            return None;
        }
        self.processes.insert(tgid, maps.clone());
        Some(maps)
    }

    /// The mapping holding `address`, reading the maps again once when the cached ones have none.
    pub fn find(&mut self, tgid: Pid, tid: Pid, address: u64) -> Option<(Rc<Vec<Mapping>>, usize)> {
        let maps = self.get(tgid, tid)?;
        if let Some(i) = maps.iter().position(|m| m.contains(address)) {
            return Some((maps, i));
        }
        let maps = self.refresh(tgid, tid)?;
        let i = maps.iter().position(|m| m.contains(address))?;
        Some((maps, i))
    }

    /// The process exec'd or ended: its mappings are no longer these.
    pub fn forget(&mut self, tgid: Pid) {
        self.processes.remove(&tgid);
        self.open.remove(&tgid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_every_kind_parse() {
        let text = "\
55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234                       /usr/bin/cat
7f0000000000-7f0000001000 ---p 00000000 00:00 0 
7f0000001000-7f0000801000 rw-p 00000000 00:00 0 
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
";
        let maps = parse_maps(text);
        assert_eq!(maps.len(), 4);
        assert_eq!(maps[0].file(), Some("/usr/bin/cat"));
        assert!(maps[1].inaccessible() && maps[1].path.is_none());
        assert!(maps[2].write && !maps[2].exec && maps[2].end - maps[2].start == 0x800000);
        assert_eq!(maps[3].path.as_deref(), Some("[stack]"));
        assert_eq!(maps[3].file(), None);
    }

    #[test]
    fn the_kernel_answers_a_query_as_the_maps_say() {
        let local = 0u64;
        let address = &local as *const u64 as u64;
        let me = std::process::id() as Pid;
        let mut cache = MapsCache::default();
        let Some((Some(holding), _)) = cache.query(me, me, address) else {
            eprintln!("skipped: no PROCMAP_QUERY here (Linux < 6.11)");
            return;
        };
        let (maps, i) = cache.find(me, me, address).unwrap();
        assert_eq!(holding, maps[i]);
        // Asked again through the maps kept open: the same answer.
        assert_eq!(cache.query(me, me, address).unwrap().0, Some(holding));
    }

    #[test]
    fn our_own_maps_hold_our_stack() {
        let local = 0u64;
        let address = &local as *const u64 as u64;
        let me = std::process::id() as Pid;
        let mut cache = MapsCache::default();
        let (maps, i) = cache.find(me, me, address).unwrap();
        assert!(maps[i].write);
    }
}
