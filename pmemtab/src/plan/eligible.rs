//! Whether a resolved namespace can serve the entry's layout: a DAX block device for single,
//! linear and striped, a devdax device on a NUMA node for system-ram.

use super::{KmemDev, Reason};
use crate::devnum::DevNum;
use crate::ns::{Mode, Namespace};
use crate::size::HUGE_PAGE_BYTES;
use crate::tab::Member;

/// Checks that a resolved namespace can serve as a member of a DAX block layout and returns
/// its block device number.
pub(super) fn dax_member(member: &Member, ns: &Namespace) -> Result<DevNum, Reason> {
    let wrong_mode = || Reason::WrongMode {
        member: member.clone(),
        dev: ns.dev.clone(),
        mode: ns.mode,
        need: "fsdax",
    };
    if ns.mode != Mode::Fsdax && !(ns.mode == Mode::Raw && ns.dax) {
        return Err(wrong_mode());
    }
    let (Some(blockdev), Some(devnum)) = (&ns.blockdev, ns.devnum) else {
        return Err(Reason::NotReady {
            member: member.clone(),
            dev: ns.dev.clone(),
        });
    };
    if !ns.dax {
        return Err(Reason::NotDax {
            member: member.clone(),
            dev: ns.dev.clone(),
            blockdev: blockdev.clone(),
        });
    }
    Ok(devnum)
}

/// Checks that a resolved namespace can be onlined as system RAM.
pub(super) fn kmem_member(member: &Member, ns: &Namespace) -> Result<KmemDev, Reason> {
    if ns.mode != Mode::Devdax {
        return Err(Reason::WrongMode {
            member: member.clone(),
            dev: ns.dev.clone(),
            mode: ns.mode,
            need: "devdax",
        });
    }
    let Some(dax) = &ns.chardev else {
        return Err(Reason::NoDaxDevice {
            member: member.clone(),
            dev: ns.dev.clone(),
        });
    };
    let Some(node) = ns.target_node.filter(|n| *n >= 0) else {
        return Err(Reason::NoNode {
            member: member.clone(),
            dev: ns.dev.clone(),
        });
    };
    Ok(KmemDev {
        dax: dax.clone(),
        node,
        size: ns.size,
    })
}

/// A member of a block layout: its namespace must do DAX (its device number); a start off the
/// 2 MiB grid is warned about.
pub(super) fn block_member(
    member: &Member,
    ns: &Namespace,
    warnings: &mut Vec<String>,
) -> Result<DevNum, Reason> {
    let devnum = dax_member(member, ns)?;
    if let Some(start) = ns.data_start {
        if start % HUGE_PAGE_BYTES != 0 {
            warnings.push(format!(
                "member {member} ({}) starts at {start:#x}, not 2 MiB aligned: DAX falls back to 4 KiB page faults",
                ns.dev
            ));
        }
    }
    Ok(devnum)
}
