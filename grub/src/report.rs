//! What a run prints: the proposal, the refusal, the pmemtab lines and how to install the
//! argument. Text only; nothing here reads or writes the system.

use crate::dropin::{self, Grub};
use pmemtab::memmap::ranges::{Proposal, Request, Unfit, GUARD, HIGH, LOW_LIMIT};
use pmemtab::memmap::{arg, PhysRange};
use pmemtab::size::{honest_bytes, suffixed, HUGE_PAGE_BYTES};
use std::fmt::Write as _;
use std::path::Path;

/// The chunk of the striped entry: one PMD page, so faults stay huge-page sized.
pub const STRIPE_CHUNK: &str = "2M";

fn range(s: PhysRange) -> String {
    format!("{:#x}-{:#x}", s.start, s.last())
}

/// The regions in address order, as the argument and the entry list them.
pub fn spans(plan: &Proposal) -> Vec<PhysRange> {
    let mut v: Vec<PhysRange> = plan.regions.iter().map(|r| r.span).collect();
    v.sort();
    v
}

/// The pmemtab entry for the regions: `single` for one, `striped` for several.
pub fn entry(name: &str, mount: &str, spans: &[PhysRange]) -> String {
    let members: Vec<String> = spans
        .iter()
        .map(|s| format!("addr={:#x}", s.start))
        .collect();
    let layout = if spans.len() == 1 {
        "single".to_string()
    } else {
        format!("striped:{STRIPE_CHUNK}")
    };
    format!(
        "{name}  {layout}  {}  {mount}  ext4  mkfs",
        members.join(",")
    )
}

fn align_name(align: u64, block: Option<u64>) -> String {
    let mut s = honest_bytes(align);
    if Some(align) == block {
        s.push_str(" (memory block)");
    } else if align == HUGE_PAGE_BYTES {
        s.push_str(" (huge page)");
    }
    s
}

/// Where the map came from and what was found in it.
pub fn header(source: &str, entries: usize, ram: u64, block: Option<u64>) -> String {
    let block = block.map_or("none".to_string(), honest_bytes);
    format!(
        "firmware map: {source}, {entries} entries; usable System RAM {}; memory block {block}\n",
        honest_bytes(ram)
    )
}

/// The room regions could go in.
pub fn room(room: &[PhysRange]) -> String {
    let mut out = format!(
        "room for pmem (System RAM at or above {}, {} from every other range):\n",
        honest_bytes(LOW_LIMIT),
        honest_bytes(GUARD)
    );
    if room.is_empty() {
        out.push_str("  none\n");
    }
    for s in room {
        let _ = writeln!(out, "  {:<28} {}", range(*s), honest_bytes(s.len()));
    }
    out
}

/// The proposal and the pmemtab lines.
pub fn proposal(
    plan: &Proposal,
    block: Option<u64>,
    req: &Request,
    name: &str,
    mount: &str,
) -> String {
    let spans = spans(plan);
    let mut out = format!("proposed: {}\n", arg::kernel_argument(&spans));
    let mut regions = plan.regions.clone();
    regions.sort_by_key(|r| r.span);
    for (i, r) in regions.iter().enumerate() {
        let place = if r.span.start >= HIGH {
            "above 4 GiB"
        } else {
            "below 4 GiB"
        };
        let _ = writeln!(
            out,
            "  region {}: {}  {}  {place}, aligned to {}",
            i + 1,
            range(r.span),
            honest_bytes(r.span.len()),
            align_name(r.align, block)
        );
    }
    let _ = writeln!(
        out,
        "RAM left: {} of {} (floor {}, --min-ram)",
        honest_bytes(plan.left),
        honest_bytes(plan.ram),
        honest_bytes(req.min_ram)
    );
    out.push('\n');
    out.push_str(
        "# /etc/pmemtab: legacy pmem is RAM; its content is gone at every cold boot.\n\
         # Keep mkfs on this line and never keep data there.\n",
    );
    let _ = writeln!(out, "{}", entry(name, mount, &spans));
    out
}

/// The argument in the forms the install advice needs.
pub struct Install<'a> {
    /// Ours alone (`memmap=512M!2G`): what the drop-in appends as a word of its own.
    pub argument: &'a str,
    /// Ours after the running command line's other `memmap=` items
    /// (`memmap=1G$4G,512M!2G`): what replaces every `memmap=` word.
    pub replacing: &'a str,
    /// Those other items.
    pub foreign: &'a [String],
}

/// How to put the argument on the kernel command line, given the installed grub-mkconfig.
pub fn install(grub: &Grub, arg: &Install<'_>, written: bool, root: &Path) -> String {
    let dropin = root.join(dropin::DROPIN);
    let argument = arg.argument;
    match grub {
        Grub::DropIns(path) if written => format!(
            "\nnext: run update-grub (or grub-mkconfig -o /boot/grub/grub.cfg), reboot, then add the\n\
             pmemtab line above (its addr= is what `pmem-assemble list` shows after that boot).\n\
             grub-mkconfig ({}) reads {}.\n",
            path.display(),
            dropin.display()
        ),
        Grub::DropIns(path) => format!(
            "\ninstall: {} reads /etc/default/grub.d: run again with --write to write\n\
             {} (it appends {argument} to GRUB_CMDLINE_LINUX),\n\
             then update-grub (or grub-mkconfig -o /boot/grub/grub.cfg) and reboot.\n",
            path.display(),
            dropin.display()
        ),
        other => {
            let why = match other {
                Grub::NoDropIns(path) => format!(
                    "{} does not read /etc/default/grub.d drop-ins",
                    path.display()
                ),
                _ => format!("no grub-mkconfig under {}", root.display()),
            };
            // grubby keys arguments by name: --args='memmap=...' replaces the entry's
            // memmap=, so the argument carries the command line's other items, and undoing
            // it puts them back.
            let (grubby, kernel_cmdline) = if arg.foreign.is_empty() {
                (
                    "every boot entry; undo: grubby --update-kernel=ALL --remove-args=memmap"
                        .to_string(),
                    format!("add {argument} to /etc/kernel/cmdline"),
                )
            } else {
                let theirs = arg::replacing_argument(arg.foreign, &[]);
                (
                    format!(
                        "every boot entry; grubby keeps one memmap= per entry, so this one carries the command line's own {theirs}; undo: grubby --update-kernel=ALL --args='{theirs}'"
                    ),
                    format!(
                        "put {} in /etc/kernel/cmdline, in place of its memmap= words",
                        arg.replacing
                    ),
                )
            };
            format!(
                "\ninstall: {why}; instead:\n\
                 \x20 grubby --update-kernel=ALL --args='{}'\n\
                 \x20     (Fedora, RHEL: {grubby})\n\
                 \x20 or {kernel_cmdline}\n\
                 \x20     (systemd kernel-install: then reinstall the kernel, e.g. kernel-install add)\n\
                 then reboot.\n",
                arg.replacing
            )
        }
    }
}

/// One line: why nothing is proposed.
pub fn refusal(r: &Unfit, req: &Request) -> String {
    let each = honest_bytes(req.size);
    let what = if req.count == 1 {
        format!("a region of {each}")
    } else {
        format!("{} regions of {each}", req.count)
    };
    match r {
        Unfit::Size { size } => format!(
            "--size {} is not a whole number of 2 MiB (huge-page) units",
            suffixed(*size)
        ),
        Unfit::Count => "--count must be at least 1".to_string(),
        Unfit::TooMany { count } => format!(
            "--count {count}: at most {} regions; use fewer, larger ones (each is an item of the memmap= argument on a kernel command line of at most {} bytes)",
            pmemtab::memmap::ranges::MAX_COUNT,
            arg::COMMAND_LINE_SIZE - 1
        ),
        Unfit::ExactMap => "the kernel command line has memmap=exactmap: the firmware map is not the map this kernel uses, so no range can be chosen from it".to_string(),
        Unfit::Floor { ram, left, floor } => format!(
            "refused: {what} would leave {} of the {} of RAM, below the floor of {} (--min-ram)",
            honest_bytes(*left),
            honest_bytes(*ram),
            honest_bytes(*floor)
        ),
        Unfit::NoFit { fits, largest, .. } => {
            let largest = match largest {
                Some(s) => format!(
                    "the largest possible region is {} at {} (memmap={})",
                    honest_bytes(s.len()),
                    range(*s),
                    arg::pmem_item(*s)
                ),
                None => format!(
                    "there is no room at all: no System RAM at or above {} keeps {} from every other range",
                    honest_bytes(LOW_LIMIT),
                    honest_bytes(GUARD)
                ),
            };
            let fits = if req.count > 1 {
                format!("only {fits} fit; ")
            } else {
                String::new()
            };
            let verb = if req.count == 1 { "does" } else { "do" };
            format!("refused: {what} {verb} not fit in System RAM: {fits}{largest}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What we print for pmemtab is what pmemtab's parser accepts, with the members we meant.
    #[test]
    fn printed_entries_parse() {
        let one = [PhysRange {
            start: 0x1_1800_0000,
            end: 0x1_3800_0000,
        }];
        let two = [
            PhysRange {
                start: 0x1_1000_0000,
                end: 0x1_2000_0000,
            },
            PhysRange {
                start: 0x1_2800_0000,
                end: 0x1_3800_0000,
            },
        ];
        for spans in [&one[..], &two[..]] {
            let line = entry("scratch", "/mnt/scratch", spans);
            let parsed = pmemtab::tab::parse(&line);
            assert!(!parsed.has_errors(), "{line}: {:?}", parsed.diagnostics);
            assert_eq!(parsed.entries.len(), 1);
            assert_eq!(parsed.entries[0].members().len(), spans.len(), "{line}");
        }
    }
}
