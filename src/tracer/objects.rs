//! objects: what the tracer needs from the ELF files a tracee has mapped — function symbols
//! (`.symtab`, `.dynsym`, and a build-id debug file's `.symtab` when one is installed), the
//! unwind sections, `.data`/`.bss` ranges and the load layout — read once per file and shared by
//! every process that maps it. Reads files only: never the tracee, never ptrace.

pub use crate::explain::Flavour;
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};
use std::collections::HashMap;
use std::fs::File;
use std::ops::{Deref, Range};
use std::rc::Rc;

/// Section bytes shared between the per-process unwinders (one copy per file).
#[derive(Clone, Default)]
pub struct Bytes(pub Rc<Vec<u8>>);

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A function symbol: its start and size (0: unknown, up to the next symbol) in the file's own
/// addresses.
#[derive(Debug, Clone)]
struct Symbol {
    start: u64,
    size: u64,
    name: Rc<str>,
}

/// The parts of one ELF file the tracer uses.
pub struct ObjectInfo {
    symbols: Vec<Symbol>,
    /// Data objects (static arrays and variables), for naming a stack in `.bss`/`.data`.
    variables: Vec<Symbol>,
    /// `.data` and `.bss`, in the file's own addresses.
    pub data: Option<Range<u64>>,
    pub bss: Option<Range<u64>>,
    /// Each loadable segment's (file offset, address): turns a mapping's offset into the bias
    /// the file was loaded at.
    segments: Vec<(u64, u64, u64, u32)>,
    pub text: Option<Range<u64>>,
    pub eh_frame: Option<(Range<u64>, Bytes)>,
    pub eh_frame_hdr: Option<(Range<u64>, Bytes)>,
    pub got: Option<Range<u64>>,
    /// Which runtime's code this file is.
    pub flavour: Flavour,
    /// Some function of this file could name a runtime above the C library (`via`'s
    /// `may_name_runtime`): a stack through this file is unwound whole to decide `via`.
    pub names_runtime: bool,
}

impl ObjectInfo {
    /// The load bias of a mapping of this file at `start` from file `offset` with these
    /// permissions: what is added to the file's addresses to get the process's. A mapping's
    /// offset is page-aligned while a segment's need not be (lld packs them), so the segment is
    /// the one whose pages hold the offset and whose write/execute permissions match.
    pub fn bias(&self, start: u64, offset: u64, write: bool, exec: bool) -> Option<u64> {
        const PF_X: u32 = 1;
        const PF_W: u32 = 2;
        let holds = |(file_offset, size, _, _): &&(u64, u64, u64, u32)| {
            (*file_offset & !4095..file_offset + size).contains(&offset)
        };
        let &(file_offset, _, address, _) = self
            .segments
            .iter()
            .filter(holds)
            .find(|(_, _, _, flags)| (flags & PF_X != 0) == exec && (flags & PF_W != 0) == write)
            .or_else(|| self.segments.iter().find(holds))?;
        Some(
            start
                .wrapping_sub(offset)
                .wrapping_sub(address.wrapping_sub(file_offset) & !4095),
        )
    }

    /// The variable (a data object with a size) covering `address`: its name, start and size.
    pub fn variable(&self, address: u64) -> Option<(Rc<str>, u64, u64)> {
        let index = self.variables.partition_point(|s| s.start <= address);
        let symbol = self.variables.get(index.checked_sub(1)?)?;
        (symbol.size > 0 && address < symbol.start + symbol.size)
            .then(|| (symbol.name.clone(), symbol.start, symbol.size))
    }

    /// The function covering `address` (the file's own address) and the offset into it.
    pub fn symbolize(&self, address: u64) -> Option<(Rc<str>, u64)> {
        let index = self.symbols.partition_point(|s| s.start <= address);
        let symbol = self.symbols.get(index.checked_sub(1)?)?;
        let end = if symbol.size > 0 {
            symbol.start + symbol.size
        } else {
            self.symbols.get(index).map_or(u64::MAX, |next| next.start)
        };
        (address < end).then(|| (symbol.name.clone(), address - symbol.start))
    }
}

/// Every file read so far, by path (`None`: it could not be read as ELF).
#[derive(Default)]
pub struct Objects {
    files: HashMap<String, Option<Rc<ObjectInfo>>>,
}

impl Objects {
    /// The file at `path` (as the tracee's maps name it; opened through `/proc/PID/root` so a
    /// process in another mount namespace gets its own file).
    pub fn get(&mut self, pid: i32, path: &str) -> Option<Rc<ObjectInfo>> {
        if let Some(known) = self.files.get(path) {
            return known.clone();
        }
        let info = File::open(format!("/proc/{pid}/root{path}"))
            .or_else(|_| File::open(path))
            .ok()
            .and_then(|file| read_object(file, path))
            .map(Rc::new);
        self.files.insert(path.to_string(), info.clone());
        info
    }
}

fn section_range<'d, R: object::ReadRef<'d>>(
    file: &object::File<'d, R>,
    name: &str,
) -> Option<Range<u64>> {
    let section = file.section_by_name(name)?;
    Some(section.address()..section.address() + section.size())
}

fn section_bytes<'d, R: object::ReadRef<'d>>(
    file: &object::File<'d, R>,
    name: &str,
) -> Option<(Range<u64>, Bytes)> {
    let section = file.section_by_name(name)?;
    let data = section.data().ok()?;
    Some((
        section.address()..section.address() + section.size(),
        Bytes(Rc::new(data.to_vec())),
    ))
}

/// A file mapped read-only into our memory: the kernel pages in only what parsing touches, in
/// one syscall instead of a read per symbol name.
struct Mapped {
    base: *mut libc::c_void,
    len: usize,
}

impl Mapped {
    fn new(file: &File) -> Option<Mapped> {
        use std::os::fd::AsRawFd;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a private read-only mapping of a file we opened; unmapped in Drop, and only
        // read through `bytes` while it lives.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (base != libc::MAP_FAILED).then_some(Mapped { base, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `base` maps `len` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.base.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Reads the parts we use from the mapped file (a 100 MB binary costs the pages of its symbol
/// tables and unwind sections, not the whole file).
fn read_object(file: File, path: &str) -> Option<ObjectInfo> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let mapped = Mapped::new(&file)?;
    let elf = object::File::parse(mapped.bytes()).ok()?;
    let mut symbols: Vec<Symbol> = Vec::new();
    add_symbols(elf.symbols(), SymbolKind::Text, &mut symbols);
    add_symbols(elf.dynamic_symbols(), SymbolKind::Text, &mut symbols);
    let mut variables: Vec<Symbol> = Vec::new();
    add_symbols(elf.symbols(), SymbolKind::Data, &mut variables);
    variables.sort_by_key(|s| s.start);
    let build_id = elf.build_id().ok().flatten().map(<[u8]>::to_vec);
    let go = elf.section_by_name(".go.buildinfo").is_some()
        || symbols.iter().any(|s| &*s.name == "runtime.rt0_go");
    let info = ObjectInfo {
        data: section_range(&elf, ".data"),
        bss: section_range(&elf, ".bss"),
        segments: elf
            .segments()
            .map(|s| {
                let (offset, size) = s.file_range();
                let flags = match s.flags() {
                    object::SegmentFlags::Elf { p_flags, .. } => p_flags.0,
                    _ => 0,
                };
                (offset, size.max(1), s.address(), flags)
            })
            .collect(),
        text: section_range(&elf, ".text"),
        eh_frame: section_bytes(&elf, ".eh_frame"),
        eh_frame_hdr: section_bytes(&elf, ".eh_frame_hdr"),
        got: section_range(&elf, ".got"),
        flavour: Flavour::Other,
        names_runtime: false,
        symbols: Vec::new(),
        variables,
    };
    drop(elf);
    // A stripped library's own symbols (glibc's static do_system, __clone_internal) live in
    // its build-id debug file when one is installed (Debian's libc6-dbg).
    if let Some(id) = build_id.filter(|id| id.len() > 1)
        && let Ok(debug) = File::open(debug_file_path(&id))
        && let Some(debug) = Mapped::new(&debug)
        && let Ok(elf) = object::File::parse(debug.bytes())
    {
        add_symbols(elf.symbols(), SymbolKind::Text, &mut symbols);
    }
    symbols.sort_by(|a, b| a.start.cmp(&b.start).then(b.size.cmp(&a.size)));
    // One symbol per address: the first (the longest) wins.
    symbols.dedup_by(|later, first| later.start == first.start);
    let has = |name: &str| symbols.iter().any(|s| &*s.name == name);
    let flavour = if go {
        Flavour::Go
    } else if base.starts_with("libc.so")
        || base.starts_with("libc-")
        || has("__libc_start_call_main")
    {
        Flavour::Glibc
    } else if base.contains("musl") || has("__init_libc") {
        Flavour::Musl
    } else {
        Flavour::Other
    };
    let names_runtime = symbols
        .iter()
        .any(|s| crate::explain::may_name_runtime(&s.name));
    Some(ObjectInfo {
        symbols,
        flavour,
        names_runtime,
        ..info
    })
}

/// Keeps the symbols of one kind (functions, or data objects).
fn add_symbols<'data, 'file, R: object::ReadRef<'data>>(
    iter: object::SymbolIterator<'data, 'file, R>,
    kind: SymbolKind,
    out: &mut Vec<Symbol>,
) {
    for symbol in iter {
        if symbol.kind() == kind
            && symbol.address() != 0
            && let Ok(name) = symbol.name()
        {
            out.push(Symbol {
                start: symbol.address(),
                size: symbol.size(),
                name: demangle(name).into(),
            });
        }
    }
}

/// `/usr/lib/debug/.build-id/ab/cdef….debug`, where debug packages put a file's symbols.
fn debug_file_path(id: &[u8]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("/usr/lib/debug/.build-id/{}/{}.debug", &hex[..2], &hex[2..])
}

/// Rust symbols (legacy and v0 mangling) without their hash; anything else as it is.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_binary_symbolizes_a_function_of_ours() {
        let mut objects = Objects::default();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let info = objects
            .get(std::process::id() as i32, exe.to_str().unwrap())
            .expect("our own ELF");
        assert!(info.eh_frame_hdr.is_some() && info.text.is_some());
        // Some function symbol resolves to itself at offset 0.
        let symbol = info.symbols.iter().find(|s| s.size > 0).unwrap();
        let (name, offset) = info.symbolize(symbol.start + 1).unwrap();
        assert_eq!((&*name, offset), (&*symbol.name, 1));
    }

    #[test]
    fn rust_names_are_demangled_without_hash() {
        assert_eq!(
            demangle("_ZN3std7process7Command5spawn17h0123456789abcdefE"),
            "std::process::Command::spawn"
        );
        assert_eq!(demangle("main"), "main");
    }
}
