//! pmem-assemble: builds, mounts and tears down the pmem devices /etc/pmemtab declares.
//! Each command is a few lines in `cmd/` calling the library (parse, scan, plan) and, for the
//! commands that change the system, the modules that touch the kernel (assemble, dm, nodes,
//! mount, wait).

#[macro_use]
extern crate cli;
mod assemble;
mod cmd;
mod crash;
mod ctx;
mod cxl;
mod dm;
mod error;
mod exit;
#[cfg(feature = "host")]
mod json;
mod kmem;
mod links;
mod lock;
mod mkfs;
mod mount;
#[cfg(target_env = "musl")]
mod musl;
mod nodes;
mod publish;
#[cfg(feature = "host")]
mod show;
mod signature;
mod wait;

use argh::{FromArgs, SubCommand};
use ctx::Ctx;
use std::path::PathBuf;

/// The program's name in its messages.
const PROG: &str = "pmem-assemble";

/// Assemble, mount and tear down the persistent-memory devices declared in pmemtab(5).
#[derive(FromArgs, Debug)]
#[argh(
    note = "Reads pmemtab (default /etc/pmemtab) and the namespaces in sysfs; see pmem-assemble(8).",
    error_code(1, "a pmemtab entry is invalid or cannot be built as declared"),
    error_code(2, "usage error"),
    error_code(
        3,
        "the system failed an operation (device-mapper, mount, timeout, I/O)"
    )
)]
struct Args {
    /// pmemtab file to read (default /etc/pmemtab)
    #[argh(option, default = "PathBuf::from(pmemtab::tab::DEFAULT_PATH)")]
    pmemtab: PathBuf,
    /// sysfs root to read namespaces from (default /sys)
    #[argh(option, default = "PathBuf::from(\"/sys\")")]
    sysfs: PathBuf,
    /// device directory (default /dev)
    #[argh(option, default = "PathBuf::from(\"/dev\")")]
    dev: PathBuf,
    /// run-time directory for the links of single entries (default /run)
    #[argh(option, default = "PathBuf::from(pmemtab::paths::RUN_DIR)")]
    run: PathBuf,
    /// proc root: mountinfo and the kernel command line (default /proc)
    #[argh(option, default = "PathBuf::from(\"/proc\")")]
    proc: PathBuf,
    #[argh(subcommand)]
    command: Command,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
enum Command {
    #[cfg(feature = "host")]
    List(cmd::list::Args),
    #[cfg(feature = "host")]
    Check(cmd::check::Args),
    #[cfg(feature = "host")]
    Table(cmd::table::Args),
    Up(cmd::up::Args),
    Down(cmd::down::Args),
    #[cfg(feature = "host")]
    Import(cmd::import::Args),
    #[cfg(feature = "host")]
    Initramfs(cmd::initramfs::Args),
    #[cfg(feature = "host")]
    Status(cmd::status::Args),
    Mount(cmd::mount::Args),
    VerifyDax(cmd::verify_dax::Args),
    UdevMember(cmd::udev_member::Args),
}

impl Command {
    /// The subcommand's name, as typed (`up`, `verify-dax`), for the crash line.
    fn name(&self) -> &'static str {
        match self {
            #[cfg(feature = "host")]
            Command::List(_) => cmd::list::Args::COMMAND.name,
            #[cfg(feature = "host")]
            Command::Check(_) => cmd::check::Args::COMMAND.name,
            #[cfg(feature = "host")]
            Command::Table(_) => cmd::table::Args::COMMAND.name,
            Command::Up(_) => cmd::up::Args::COMMAND.name,
            Command::Down(_) => cmd::down::Args::COMMAND.name,
            #[cfg(feature = "host")]
            Command::Import(_) => cmd::import::Args::COMMAND.name,
            #[cfg(feature = "host")]
            Command::Initramfs(_) => cmd::initramfs::Args::COMMAND.name,
            #[cfg(feature = "host")]
            Command::Status(_) => cmd::status::Args::COMMAND.name,
            Command::Mount(_) => cmd::mount::Args::COMMAND.name,
            Command::VerifyDax(_) => cmd::verify_dax::Args::COMMAND.name,
            Command::UdevMember(_) => cmd::udev_member::Args::COMMAND.name,
        }
    }
}

fn main() {
    // Before anything else: an internal error from here on says so in one line (crash.rs).
    crash::install();
    // As bytes: an argument that is not UTF-8 is a usage error (parse_args), not a panic.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `down` of a system-ram entry runs itself to offline a block it can kill at a deadline.
    if let [_, arg, state] = argv.as_slice() {
        if arg.as_os_str() == kmem::OFFLINE_CHILD_ARG {
            crash::running(cmd::down::Args::COMMAND.name);
            std::process::exit(kmem::offline_child(std::path::Path::new(state)));
        }
    }
    let args: Args = match cli::exit::parse_args(&argv, PROG) {
        Ok(args) => args,
        Err(exit) => std::process::exit(exit.code()),
    };
    let ctx = Ctx {
        pmemtab: args.pmemtab,
        sysfs: args.sysfs,
        dev: args.dev,
        run: args.run,
        proc: args.proc,
    };
    crash::running(args.command.name());
    let result = match args.command {
        #[cfg(feature = "host")]
        Command::List(a) => cmd::list::run(&ctx, a),
        #[cfg(feature = "host")]
        Command::Check(a) => cmd::check::run(&ctx, a),
        #[cfg(feature = "host")]
        Command::Table(a) => cmd::table::run(&ctx, a),
        Command::Up(a) => cmd::up::run(&ctx, a),
        Command::Down(a) => cmd::down::run(&ctx, a),
        #[cfg(feature = "host")]
        Command::Import(a) => cmd::import::run(&ctx, a),
        #[cfg(feature = "host")]
        Command::Initramfs(a) => cmd::initramfs::run(&ctx, a),
        #[cfg(feature = "host")]
        Command::Status(a) => cmd::status::run(&ctx, a),
        Command::Mount(a) => cmd::mount::run(&ctx, a),
        Command::VerifyDax(a) => cmd::verify_dax::run(&ctx, a),
        Command::UdevMember(a) => cmd::udev_member::run(&ctx, a),
    };
    // Every command's failure is said here, once, and decides the exit status.
    let exit = match result {
        Ok(()) => exit::Exit::Ok,
        Err(e) => {
            e.report();
            e.exit()
        }
    };
    std::process::exit(cli::exit::finish(PROG, exit).code());
}
