//! unwind: a stopped tracee's user stack, unwound from the CFI (`.eh_frame`) of the files it has
//! mapped with framehop, from our own reads of its memory (process_vm_readv, a page at a time),
//! then symbolized from `objects`. One unwinder per process, rebuilt after its exec. Reads only:
//! never writes to a tracee, never resumes or stops one.

use super::inspect;
use super::maps::Mapping;
use super::objects::{Bytes, ObjectInfo, Objects};
use crate::event::Pid;
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{ExplicitModuleSectionInfo, FrameAddress, Module, Unwinder};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// A code address in a tracee, resolved as far as its files allow.
#[derive(Clone)]
pub struct Site {
    pub address: u64,
    pub object: Option<Rc<ObjectInfo>>,
    pub path: Option<String>,
    pub function: Option<Rc<str>>,
    pub offset: u64,
}

struct ProcessUnwinder {
    unwinder: UnwinderX86_64<Bytes>,
    /// Start addresses of the executable mappings already registered.
    added: HashSet<u64>,
}

/// The unwinders of the processes seen so far, and framehop's rule cache shared by all.
pub struct Unwinders {
    processes: HashMap<Pid, ProcessUnwinder>,
    cache: CacheX86_64,
}

impl Default for Unwinders {
    fn default() -> Self {
        Unwinders {
            processes: HashMap::new(),
            cache: CacheX86_64::new(),
        }
    }
}

/// The registers unwinding starts from.
#[derive(Debug, Clone, Copy)]
pub struct Registers {
    pub ip: u64,
    pub sp: u64,
    pub bp: u64,
}

impl Unwinders {
    /// Up to `max` code addresses of `tid`'s stack, innermost first: `regs.ip`, then return
    /// addresses, each handed to `enough` (with its index and `objects`) as it is found; the
    /// unwinding stops early when `enough` says so. `maps` are its process's mappings.
    #[allow(clippy::too_many_arguments)]
    pub fn unwind(
        &mut self,
        tgid: Pid,
        tid: Pid,
        regs: Registers,
        maps: &[Mapping],
        objects: &mut Objects,
        max: usize,
        mut enough: impl FnMut(&mut Objects, usize, u64) -> bool,
    ) {
        let process = self
            .processes
            .entry(tgid)
            .or_insert_with(|| ProcessUnwinder {
                unwinder: UnwinderX86_64::new(),
                added: HashSet::new(),
            });
        for mapping in maps.iter().filter(|m| m.exec) {
            if process.added.contains(&mapping.start) {
                continue;
            }
            process.added.insert(mapping.start);
            let Some(path) = mapping.file() else {
                continue;
            };
            let Some(info) = objects.get(tid, path) else {
                continue;
            };
            let Some(bias) = info.bias(mapping.start, mapping.offset, mapping.write, mapping.exec)
            else {
                continue;
            };
            let section = ExplicitModuleSectionInfo {
                base_svma: 0,
                text_svma: info.text.clone(),
                got_svma: info.got.clone(),
                eh_frame_svma: info.eh_frame.as_ref().map(|(r, _)| r.clone()),
                eh_frame: info.eh_frame.as_ref().map(|(_, d)| d.clone()),
                eh_frame_hdr_svma: info.eh_frame_hdr.as_ref().map(|(r, _)| r.clone()),
                eh_frame_hdr: info.eh_frame_hdr.as_ref().map(|(_, d)| d.clone()),
                ..Default::default()
            };
            process.unwinder.add_module(Module::new(
                path.to_string(),
                mapping.start..mapping.end,
                bias,
                section,
            ));
        }
        let mut pages: HashMap<u64, Option<Vec<u8>>> = HashMap::new();
        let mut read_stack = |address: u64| -> Result<u64, ()> {
            let page = address & !4095;
            let bytes = pages
                .entry(page)
                .or_insert_with(|| inspect::read_memory(tid, page, 4096));
            let at = (address - page) as usize;
            let word = bytes.as_ref().and_then(|b| b.get(at..at + 8)).ok_or(())?;
            Ok(u64::from_le_bytes(word.try_into().map_err(|_| ())?))
        };
        let mut frames = process.unwinder.iter_frames(
            regs.ip,
            UnwindRegsX86_64::new(regs.ip, regs.sp, regs.bp),
            &mut self.cache,
            &mut read_stack,
        );
        for n in 0..max {
            let address = match frames.next() {
                Ok(Some(FrameAddress::InstructionPointer(ip))) => ip,
                Ok(Some(FrameAddress::ReturnAddress(ra))) => ra.get(),
                _ => break,
            };
            if enough(objects, n, address) {
                break;
            }
        }
    }

    /// The process exec'd or ended.
    pub fn forget(&mut self, tgid: Pid) {
        self.processes.remove(&tgid);
    }
}

/// Resolves `address` to its file and function. `return_address`: look up the call before it
/// (a return address can be the first byte of the next function).
pub fn symbolize(
    tid: Pid,
    address: u64,
    return_address: bool,
    maps: &[Mapping],
    objects: &mut Objects,
) -> Site {
    let mut site = Site {
        address,
        object: None,
        path: None,
        function: None,
        offset: 0,
    };
    let Some(mapping) = maps.iter().find(|m| m.contains(address)) else {
        return site;
    };
    site.path = mapping.path.clone();
    let Some(path) = mapping.file() else {
        return site;
    };
    let Some(info) = objects.get(tid, path) else {
        return site;
    };
    if let Some(bias) = info.bias(mapping.start, mapping.offset, mapping.write, mapping.exec) {
        let lookup = address.wrapping_sub(bias) - u64::from(return_address);
        if let Some((name, offset)) = info.symbolize(lookup) {
            site.function = Some(name);
            site.offset = offset + u64::from(return_address);
        }
    }
    site.object = Some(info);
    site
}
