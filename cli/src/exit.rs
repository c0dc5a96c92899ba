//! The exit codes of pmem-assemble and pmemtab-memmap (their man pages' EXIT STATUS), and the
//! path from the command line to the exit both binaries share.

/// How a run ended. A worse outcome has a higher value, so several results combine by `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Ok,
    /// The request is refused as written: fix the input (pmemtab, the namespaces, the
    /// requested size), not the system.
    Refused,
    /// Bad command line.
    Usage,
    /// The system failed an operation (I/O, device-mapper, mount, a timeout).
    System,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Refused => 1,
            Exit::Usage => 2,
            Exit::System => 3,
        }
    }
}

/// Parses the command line (`argv` with the program first, as the kernel passed it) as `T`.
/// `Err` is the exit of a run that ends here: `--help` printed (and `Ok` unless stdout
/// failed), or a usage error said on stderr, an argument that is not UTF-8 included (every
/// name, path and option pmemtab takes is text). `prog` names the program in messages when
/// argv has no usable name.
pub fn parse_args<T: argh::FromArgs>(argv: &[std::ffi::OsString], prog: &str) -> Result<T, Exit> {
    let Some((cmd, rest)) = argv.split_first() else {
        return Err(Exit::Usage);
    };
    let name = std::path::Path::new(cmd)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(prog);
    let mut bad = 0;
    let words: Vec<&str> = rest
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.to_str().unwrap_or_else(|| {
                if bad == 0 {
                    bad = i + 1;
                }
                ""
            })
        })
        .collect();
    if bad > 0 {
        crate::errln!("{name}: argument {bad} is not UTF-8: names, paths and options are text\nRun {name} --help for usage.");
        return Err(Exit::Usage);
    }
    T::from_args(&[name], &words).map_err(|early| {
        // --help prints to stdout and succeeds; a usage error goes to stderr.
        if early.status.is_ok() {
            crate::out!("{}", early.output);
            finish(prog, Exit::Ok)
        } else {
            crate::err!("{}", early.output);
            crate::errln!("Run {name} --help for usage.");
            Exit::Usage
        }
    })
}

/// The exit status, made `System` when standard output could not be written (a closed pipe
/// is not a failure: see [`crate::out`]).
pub fn finish(prog: &str, exit: Exit) -> Exit {
    if crate::out::failed_write(prog) {
        exit.max(Exit::System)
    } else {
        exit
    }
}
