//! explain: at a creation's event stop, what the creator's registers, mappings and files say
//! beyond the call's arguments — the library call behind it (`via`), where the child's stack
//! lies (`stack_region`), the creator's RLIMIT_STACK for threads, and with `--backtrace` the
//! creator's whole user stack. Reads only (registers, memory, `/proc`, files); never resumes,
//! stops or writes to a tracee, and every read tolerates the task having vanished.

use super::maps::{Mapping, MapsCache};
use super::objects::Objects;
use super::unwind::{self, Registers, Site, Unwinders};
use super::{limits, ptrace};
use crate::event::{Create, Frame, Kind, Pid, RegionKind, StackRegion, Syscall};
use crate::explain::{self, Callers, Flavour};
use std::collections::HashMap;
use std::rc::Rc;

/// Frames unwound to decide `via` (a runtime sits a few frames above the C library).
const VIA_FRAMES: usize = 12;
/// Frames kept for `--backtrace`.
const BACKTRACE_FRAMES: usize = 64;
/// Resolved sites kept per process before its cache starts again.
const MAX_SITES: usize = 4096;

/// A process's resolved code addresses, by address and whether it was a return address.
type KnownSites = HashMap<(u64, bool), Rc<Site>>;

/// What the explanations keep between creations: each process's mappings and unwinder, and
/// each file's symbols and unwind sections.
#[derive(Default)]
pub struct Explainer {
    maps: MapsCache,
    objects: Objects,
    unwinders: Unwinders,
    /// Each process's code addresses resolved so far (with whether each was a return address),
    /// valid for the mappings they were resolved in.
    sites: HashMap<Pid, (Rc<Vec<Mapping>>, KnownSites)>,
    /// Whether a frame of each process could name a runtime, for the mappings it was decided on.
    runtimes: HashMap<Pid, (Rc<Vec<Mapping>>, bool)>,
    /// `--backtrace`: keep the whole stack in the record.
    pub backtrace: bool,
}

impl Explainer {
    /// Fills `create`'s `via`, `stack_region`, `rlimit_stack` and (with `--backtrace`)
    /// `backtrace`, from the creator `tid` of process `tgid` stopped at its creation event,
    /// whose registers `unwind_from` were read at that stop (`None`: unreadable).
    pub fn explain(
        &mut self,
        tid: Pid,
        tgid: Pid,
        unwind_from: ptrace::UnwindRegisters,
        create: &mut Create,
    ) {
        if create.stack != 0 {
            // The stack's top, where the child starts using it (it grows down): clone3 gives
            // the lowest address and a size (glibc's includes the guard page), clone the top.
            let address = match (create.syscall, create.stack_size) {
                (Syscall::Clone3, Some(size)) if size > 0 => create.stack + size - 1,
                (Syscall::Clone3, _) => create.stack,
                _ => create.stack - 1,
            };
            // The mapping holding it is asked of the kernel (a new thread stack was just
            // mapped); the cached maps serve for the binaries' sections. Without the query
            // (Linux < 6.11), the cached maps, read again when they lack the address.
            let queried = self.maps.query(tgid, tid, address);
            let maps = match &queried {
                Some(_) => self.maps.get(tgid, tid),
                None => self.maps.find(tgid, tid, address).map(|(maps, _)| maps),
            };
            if let Some(maps) = maps {
                let (holding, below) = match queried {
                    Some(found) => found,
                    None => {
                        let i = maps.iter().position(|m| m.contains(address));
                        let holding = i.map(|i| maps[i].clone());
                        let below = i.and_then(|i| i.checked_sub(1)).map(|b| maps[b].clone());
                        (holding, below)
                    }
                };
                create.stack_region = Some(Box::new(
                    self.region_of(tid, &maps, address, holding, below),
                ));
            }
        }
        if create.kind == Kind::Thread {
            create.rlimit_stack = limits::read_rlimit(tid, libc::RLIMIT_STACK);
        }
        let Some((ip, sp, bp, rdi, rdx)) = unwind_from else {
            return;
        };
        let Some((maps, _)) = self.maps.find(tgid, tid, ip) else {
            return;
        };
        let here = self.site(tgid, tid, ip, false, &maps);
        let flavour = here.object.as_ref().map(|o| o.flavour);
        let function = here.function.as_deref().unwrap_or("");
        // The vfork wrappers pop their return address into a register before the syscall
        // (glibc: rdi, musl: rdx), so the stack no longer holds it: unwind from there.
        let vfork_return = match (flavour, function) {
            (Some(Flavour::Glibc), "__vfork" | "vfork") => Some(rdi),
            (Some(Flavour::Musl), "vfork") => Some(rdx),
            _ => None,
        };
        // How far to unwind: --backtrace, the whole stack; for `via` alone, as far as its
        // decision looks (a loop of pthread_create or fork needs a frame or three, not twelve).
        let (max, to_first_caller) = if self.backtrace {
            (BACKTRACE_FRAMES, false)
        } else {
            match explain::callers_needed(create, &view(&here)) {
                Callers::None => (0, false),
                _ if self.may_name_runtime(tgid, tid, &maps) => (VIA_FRAMES, false),
                Callers::NoneUnlessRuntime => (0, false),
                Callers::LibcUnlessRuntime => (VIA_FRAMES, true),
            }
        };
        let mut sites = vec![here];
        if max > 0 {
            let start = match vfork_return {
                Some(ra) => Registers { ip: ra, sp, bp },
                None => Registers { ip, sp, bp },
            };
            let skip = usize::from(vfork_return.is_none());
            let known = sites_of(&mut self.sites, tgid, &maps);
            self.unwinders.unwind(
                tgid,
                tid,
                start,
                &maps,
                &mut self.objects,
                max,
                |objects, n, address| {
                    if n < skip {
                        return false;
                    }
                    // The first address after a vfork wrapper is a return address too.
                    let return_address = n > 0 || vfork_return.is_some();
                    let site = cached_site(known, tid, address, return_address, &maps, objects);
                    let outside = view(&site)
                        .flavour
                        .is_none_or(|f| !matches!(f, Flavour::Glibc | Flavour::Musl));
                    sites.push(site);
                    to_first_caller && outside
                },
            );
        }
        let views: Vec<explain::Site> = sites.iter().map(|s| view(s)).collect();
        create.via = explain::decide_via(create, &views);
        if self.backtrace {
            create.backtrace = sites.iter().map(|s| frame_of(s)).collect();
        }
    }

    /// `address` in process `tgid` resolved to its file and function, from the cache of its
    /// sites while its mappings are these.
    fn site(
        &mut self,
        tgid: Pid,
        tid: Pid,
        address: u64,
        return_address: bool,
        maps: &Rc<Vec<Mapping>>,
    ) -> Rc<Site> {
        let known = sites_of(&mut self.sites, tgid, maps);
        cached_site(known, tid, address, return_address, maps, &mut self.objects)
    }

    /// Whether a frame of process `tgid` could name a runtime above the C library: a file whose
    /// name or functions `via` recognises is mapped. Decided once per reading of its mappings.
    fn may_name_runtime(&mut self, tgid: Pid, tid: Pid, maps: &Rc<Vec<Mapping>>) -> bool {
        if let Some((known, answer)) = self.runtimes.get(&tgid)
            && Rc::ptr_eq(known, maps)
        {
            return *answer;
        }
        let answer = maps.iter().any(|m| {
            m.path
                .as_deref()
                .is_some_and(explain::path_may_name_runtime)
                || m.file()
                    .and_then(|path| self.objects.get(tid, path))
                    .is_some_and(|info| info.names_runtime)
        });
        self.runtimes.insert(tgid, (maps.clone(), answer));
        answer
    }

    /// The process exec'd or ended: its mappings and unwinder are stale.
    pub fn forget(&mut self, tgid: Pid) {
        self.maps.forget(tgid);
        self.unwinders.forget(tgid);
        self.sites.remove(&tgid);
        self.runtimes.remove(&tgid);
    }

    /// What `address` lies in: a binary's `.bss` or `.data`, the heap, the main stack, an
    /// anonymous mapping (with the size of the guard below it), or another file.
    /// `holding` is the mapping holding it, `below` the one below that; `maps` the process's
    /// (cached) mappings, for the binaries' sections.
    fn region_of(
        &mut self,
        tid: Pid,
        maps: &[Mapping],
        address: u64,
        holding: Option<Mapping>,
        below: Option<Mapping>,
    ) -> StackRegion {
        let Some(mapping) = holding else {
            return StackRegion {
                kind: RegionKind::Unmapped,
                start: 0,
                end: 0,
                guard: 0,
                object: None,
                variable: None,
            };
        };
        let region = |kind, start, end, object: Option<&str>| StackRegion {
            kind,
            start,
            end,
            guard: 0,
            object: object.map(str::to_string),
            variable: None,
        };
        // A large .bss runs on past its file's last page as anonymous memory: look at the
        // sections of every writable file mapping, not only the one holding the address.
        for file_map in maps.iter().filter(|m| m.write && m.file().is_some()) {
            let path = file_map.file().unwrap_or_default();
            let Some(info) = self.objects.get(tid, path) else {
                continue;
            };
            let Some(bias) = info.bias(
                file_map.start,
                file_map.offset,
                file_map.write,
                file_map.exec,
            ) else {
                continue;
            };
            for (kind, range) in [(RegionKind::Bss, &info.bss), (RegionKind::Data, &info.data)] {
                if let Some(range) = range {
                    let (start, end) = (range.start + bias, range.end + bias);
                    if (start..end).contains(&address) {
                        // The static array itself, when the binary names it.
                        if let Some((name, at, size)) = info.variable(address - bias) {
                            return StackRegion {
                                variable: Some(name.to_string()),
                                ..region(kind, at + bias, at + bias + size, Some(path))
                            };
                        }
                        return region(kind, start, end, Some(path));
                    }
                }
            }
        }
        match mapping.path.as_deref() {
            Some("[stack]") => region(RegionKind::MainStack, mapping.start, mapping.end, None),
            Some("[heap]") => region(RegionKind::Heap, mapping.start, mapping.end, None),
            _ if mapping.file().is_some() => {
                region(RegionKind::File, mapping.start, mapping.end, mapping.file())
            }
            _ => {
                let guard = below
                    .filter(|below| below.end == mapping.start && below.inaccessible())
                    .map_or(0, |below| below.end - below.start);
                StackRegion {
                    guard,
                    ..region(RegionKind::Mmap, mapping.start, mapping.end, None)
                }
            }
        }
    }
}

/// The cache of process `tgid`'s resolved sites, emptied when its mappings were read again
/// (or it grew large: a JIT's addresses are many).
fn sites_of<'c>(
    sites: &'c mut HashMap<Pid, (Rc<Vec<Mapping>>, KnownSites)>,
    tgid: Pid,
    maps: &Rc<Vec<Mapping>>,
) -> &'c mut KnownSites {
    let known = sites
        .entry(tgid)
        .or_insert_with(|| (maps.clone(), HashMap::new()));
    if !Rc::ptr_eq(&known.0, maps) || known.1.len() > MAX_SITES {
        *known = (maps.clone(), HashMap::new());
    }
    &mut known.1
}

/// `address` resolved once per process and mappings: from `known`, or symbolized and kept there.
fn cached_site(
    known: &mut KnownSites,
    tid: Pid,
    address: u64,
    return_address: bool,
    maps: &[Mapping],
    objects: &mut Objects,
) -> Rc<Site> {
    known
        .entry((address, return_address))
        .or_insert_with(|| {
            Rc::new(unwind::symbolize(
                tid,
                address,
                return_address,
                maps,
                objects,
            ))
        })
        .clone()
}

/// A site as `via`'s decision sees it.
fn view(site: &Site) -> explain::Site<'_> {
    explain::Site {
        flavour: site.object.as_ref().map(|o| o.flavour),
        path: site.path.as_deref(),
        function: site.function.as_deref(),
    }
}

fn frame_of(site: &Site) -> Frame {
    Frame {
        address: site.address,
        function: site.function.as_deref().map(str::to_string),
        offset: site.offset,
        object: site.path.clone(),
    }
}

/// The range of a new task's own stack (a thread's, or a clone child's given one), for `--stack-usage`: the
/// anonymous mapping it lies in (glibc's clone3 `stack`/`stack_size` start at the guard page
/// and stop short of the top, where the thread starts: the mapping is what it can use), or for
/// a stack in a static array, the array's section below the pointer.
pub fn stack_range(create: &Create) -> Option<(u64, u64)> {
    // Without CLONE_VM the child runs on its own copy of that memory: the same range, in it.
    if create.stack == 0 {
        return None;
    }
    let region = create.stack_region.as_ref()?;
    match (region.kind, create.syscall) {
        (RegionKind::Unmapped, _) => None,
        (RegionKind::Mmap, _) => Some((region.start, region.end)),
        (_, Syscall::Clone) => Some((region.start, create.stack)),
        (_, _) => {
            let size = create.stack_size.unwrap_or(0);
            Some((create.stack, create.stack + size))
        }
    }
}
