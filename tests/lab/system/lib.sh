# shellcheck shell=bash
# Host helpers of the system lab (tests/lab/system/run, tests/lab/demo): a real Debian userland
# with systemd as the root filesystem, on a pmemtab stripe of emulated NVDIMMs, booted through
# an initramfs built by Debian's own dracut with the pmemtab module. Sourced after
# tests/lab/lib.sh (WORK, KDIR, kver, build_initramfs, boot).
#
# Cached under work/ (git-ignored):
#   work/system/debian-root.tar       mmdebstrap minbase + systemd, udev, kmod, dracut, e2fsprogs
#   work/system-KERNEL/root/          that root with the lab kernel's modules and pmemtab's .deb installed
#   work/system-KERNEL/initrd.img     dracut's image, built in a chroot of that root by the package's trigger
#   work/system-KERNEL/root.img       the root as an ext4 image, written onto the stripe
#   work/system-KERNEL/dimms/nv0,nv1  the NVDIMMs: namespaces, the root stripe, data

SYSLAB=$LAB/system
# The initramfs builder of the root (LAB_SYS_FLAVOUR, or system/run --flavour):
#   dracut  Debian's dracut, with systemd in the initrd (pmemtab-generator writes the units)
#   itools  initramfs-tools, Debian's and Ubuntu's default: no systemd in the initrd, the
#           hook's local-top/local-block/local-bottom scripts run pmem-assemble itself
SYS_FLAVOUR=${LAB_SYS_FLAVOUR:-dracut}
case $SYS_FLAVOUR in
dracut) builder=dracut flavour_dir="" ;;
itools) builder=initramfs-tools,zstd flavour_dir=-itools ;;
*) echo "system lab: unknown flavour '$SYS_FLAVOUR' (dracut or itools)" >&2; exit 2 ;;
esac
# The Debian userland (LAB_SYS_SUITE, or system/run --suite): bookworm (Debian 12), trixie
# (Debian 13), testing or sid, made by mmdebstrap SUITE; booted with that suite's own kernel
# unless LAB_KERNEL (--kernel) names another (bookworm: 6.1, or 6.12 with --kernel 6.12).
SYS_SUITE=${LAB_SYS_SUITE:-bookworm}
case $SYS_SUITE in
bookworm) sys_kernel=6.1 ;;
trixie | testing | sid) sys_kernel=$SYS_SUITE ;;
*) echo "system lab: unknown suite '$SYS_SUITE' (bookworm, trixie, testing or sid)" >&2; exit 2 ;;
esac
# The suite's kernel is the default; an explicit other one gets its own cache.
if [ -z "${LAB_KERNEL_GIVEN:-}" ]; then
    LAB_KERNEL=$sys_kernel
    lab_kernel_set
fi
if [ "$LAB_KERNEL" = "$sys_kernel" ]; then
    SYS=$WORK/system-$SYS_SUITE$flavour_dir
else
    SYS=$WORK/system-$SYS_SUITE-$LAB_KERNEL$flavour_dir
fi
# The second kernel the package path installs (sys_pkg_kernel), a real Debian package from
# the lab's kernel cache: the one a user of this suite still has installed beside the current
# one: Debian 12's 6.1 after an upgrade to 13, 13's 6.12 on testing, 6.12 from bookworm's own
# archive on Debian 12 (the newer kernel a user adds).
case $SYS_SUITE in
bookworm) SYS_KERNEL2=6.12 ;;
trixie) SYS_KERNEL2=6.1 ;;
*) SYS_KERNEL2=trixie ;;
esac
[ "$SYS_KERNEL2" != "$LAB_KERNEL" ] || SYS_KERNEL2=6.1
SYSROOT=$SYS/root
# What the Debian root holds beyond minbase: its initramfs builder (initramfs-tools with zstd,
# its default compression, which it recommends), and GRUB's update-grub
# (grub2-common, grub-pc-bin: no boot loader is installed, update-grub writes grub.cfg); no
# dmsetup, lvm2 or ndctl, so nothing but pmemtab can build or name the devices.
# linux-base: what a kernel package depends on (the second kernel is installed from its .deb).
SYSROOT_PKGS="systemd-sysv,udev,kmod,$builder,e2fsprogs,grub2-common,grub-pc-bin,linux-base"
# Cached once per suite and package list: a changed list or suite makes another.
SYSROOT_TAR=$WORK/system/debian-$SYS_SUITE-$(echo "$SYS_SUITE $SYSROOT_PKGS" | md5sum | cut -c1-8).tar
# Modules the root (and so dracut, which packs from it) gets from the lab kernel, with their
# dependencies: pmem, dm, the filesystems, what systemd loads itself, the provisioning disk.
SYS_MODULES="nfit nd_pmem nd_btt dax_pmem device_dax nd_e820 dm_mod ext4 xfs kmem autofs4 virtio_pci virtio_blk"
# Root image size and the root stripe: 2 x 448 MiB namespaces, 2 MiB chunks.
ROOT_IMG_MB=720
# Namespaces of the system lab: name, NVDIMM (a = nv0, b = nv1, k = km0 on NUMA node 1), size
# (all: the whole NVDIMM), namespace uuid. pmemtab names them by this uuid (ndctl's raw_uuid),
# so it is written before they exist. km0's is devdax (system-ram), the others fsdax.
SYS_NAMESPACES="
rootA a 448M 5eed5001-0000-4000-8000-00000000000a
rootB b 448M 5eed5001-0000-4000-8000-00000000000b
dataA a 128M 5eed5002-0000-4000-8000-00000000000a
dataB b 128M 5eed5002-0000-4000-8000-00000000000b
solo a 96M 5eed5003-0000-4000-8000-00000000000a
earlyA a 96M 5eed5004-0000-4000-8000-00000000000a
earlyB b 96M 5eed5004-0000-4000-8000-00000000000b
flakyA b 64M 5eed5005-0000-4000-8000-00000000000a
plain a 752M 5eed5006-0000-4000-8000-00000000000a
nodax b 320M 5eed5007-0000-4000-8000-00000000000b
ram k all 5eed5008-0000-4000-8000-00000000000a
"
sys_uuid() { echo "$SYS_NAMESPACES" | awk -v n="$1" '$1 == n {print $4}'; }
# A namespace that never exists: the missing member of the nofail entry.
GONE_UUID=5eed50ff-0000-4000-8000-0000000000ff

# The pmemtab of the booted system (and, packed by dracut, of the initrd).
sys_pmemtab() {
    cat <<TAB
# The root: attached in the initrd because it is /, whether root= says /dev/mapper/root or,
# as update-grub writes it, UUID= of its filesystem. 30 s for its members: on a loaded machine
# under emulation udev took over 10 s to load nd_pmem and make their block devices.
root   striped:2M  uuid=$(sys_uuid rootA),uuid=$(sys_uuid rootB)  /  ext4  x-systemd.device-timeout=30
# Set up by the booted system's own generator run.
# (x-systemd.requires=: the mount waits for lab-marker.service, as fstab-generator makes it.)
data   striped:2M  uuid=$(sys_uuid dataA),uuid=$(sys_uuid dataB)  /srv/data   ext4  mkfs,noatime,x-systemd.requires=lab-marker.service
solo   single      uuid=$(sys_uuid solo)                          /srv/solo   ext4  mkfs
# Attached and mounted in the initrd, kept after switch-root.
early  linear      uuid=$(sys_uuid earlyA),uuid=$(sys_uuid earlyB)  /srv/early  ext4  mkfs,x-initrd.attach
# A member that never appears: nofail lets the boot finish with only this entry failed.
flaky  linear      uuid=$(sys_uuid flakyA),uuid=$GONE_UUID  /srv/flaky  ext4  nofail,x-systemd.device-timeout=5
# The NVDIMM on node 1 as system RAM: no mount, node 1 gets memory in ZONE_MOVABLE.
ram    system-ram  uuid=$(sys_uuid ram)                           -           -     -
# XFS with 1 KiB blocks (made in provisioning) mounts, but XFS turns DAX off: the boot-time
# DAX check fails it, and nofail keeps that from failing the boot.
nodax  single      uuid=$(sys_uuid nodax)                         /srv/nodax  xfs   nofail
TAB
}

say_sys() { echo "system lab: $*" >&2; }

# The Debian userland, once per work dir (~20 s, ~220 MB).
sys_root_tar() {
    [ -s "$SYSROOT_TAR" ] && return 0
    mkdir -p "$(dirname "$SYSROOT_TAR")"
    say_sys "mmdebstrap $SYS_SUITE ($SYSROOT_PKGS)"
    # mmdebstrap tells the format by the name's extension. A testing or sid Release file can
    # be past its Valid-Until by the machine's clock when the mirror lags (seen here: 30 days);
    # its signature is still checked. The option stays in the root's apt, for the chroot's
    # apt-get install.
    mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
        --include="$SYSROOT_PKGS" "$SYS_SUITE" "${SYSROOT_TAR%.tar}.part.tar" >&2 &&
        mv "${SYSROOT_TAR%.tar}.part.tar" "$SYSROOT_TAR"
}

# Copies the lab kernel's SYS_MODULES (and what they need) into root $1.
sys_modules() {
    local root=$1 k f
    k=$(kver)
    mkdir -p "$WORK/no-modprobe.d"
    for m in $SYS_MODULES; do
        modprobe -C "$WORK/no-modprobe.d" -d "$KDIR/root" -S "$k" --show-depends "$m" |
            awk '$1 == "insmod" {print $2}'
    done | sort -u | while read -r f; do
        install -D -m 644 "$f" "$root/lib/modules/$k/${f#"$KDIR/root/lib/modules/$k/"}"
    done
    cp "$KDIR/root/lib/modules/$k"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$k/"
    depmod -b "$root" "$k"
    install -D -m 644 "$KDIR/root/boot/vmlinuz-$k" "$root/boot/vmlinuz-$k"
    # update-initramfs reads it (which compressions the kernel unpacks), as installing the
    # kernel package would leave it.
    install -D -m 644 "$KDIR/root/boot/config-$k" "$root/boot/config-$k"
}

# How the lab wants dracut's image, as Debian's dracut reads it in every run (the package's
# trigger included): not host-only (Debian's default; host-only detection in a chroot would
# look at this machine), and none of dracut's dm, lvm, crypt, mdraid, multipath and nvdimm
# modules: pmemtab must need none of them. The pmemtab module is not named: it includes
# itself when /etc/pmemtab has something for the initrd (here, the root).
sys_dracut_conf() {
    cat <<'CONF'
hostonly="no"
omit_dracutmodules+=" dm lvm crypt mdraid multipath nvdimm plymouth "
CONF
}

# chroot with /proc, /sys and /dev of the host, as dracut and dpkg need them.
sys_chroot_mount() { mount --bind /proc "$1/proc" && mount --bind /sys "$1/sys" && mount --bind /dev "$1/dev" && mount --bind /dev/pts "$1/dev/pts"; }
sys_chroot_umount() { umount "$1/dev/pts" "$1/dev" "$1/sys" "$1/proc"; }
# apt-get in the root, from its /tmp (where the .deb is): apt takes ./FILE.deb as a package file.
sys_apt_get() { DEBIAN_FRONTEND=noninteractive chroot "$SYSROOT" sh -c 'cd /tmp && exec apt-get "$@"' - "$@"; }

# The root for this kernel: Debian + modules + lab units + /etc/pmemtab, then pmemtab's .deb
# (SYS_DEB, or the one make deb left) installed with apt-get in a chroot: its trigger makes
# Debian's dracut build /boot/initrd.img-KVER. With SYS_PKG_CYCLE=1, then the package's
# reinstall and remove/purge/install cycle (sys_pkg_cycle). Last the lab's dracut
# configuration goes again, so that later dracut runs (bench/dax-root) see Debian's defaults.
sys_build_root() {
    local root=$SYSROOT deb=${SYS_DEB:-} rc=0
    # Else the newest name the glob sorts last, as ls would.
    [ -n "$deb" ] || for deb in "${CARGO_TARGET_DIR:-${LAB_CARGO_TARGET_DIR:-$WORK/target}}"/pkg/pmemtab_*_amd64.deb; do :; done
    [ -f "$deb" ] || { echo "system lab: no pmemtab .deb (make deb)" >&2; return 1; }
    rm -rf "$root"
    mkdir -p "$root"
    tar -C "$root" -xf "$SYSROOT_TAR" || return 1
    sys_modules "$root" || return 1
    # The administrator's file, before the package: it never creates one, and the image its
    # trigger builds packs this one.
    sys_pmemtab > "$root/etc/pmemtab"
    echo pmemlab > "$root/etc/hostname"
    # The user's GRUB settings (grub-pc's postinst would make this file): the lab's console,
    # no endless emergency shell, DAX for the root, and which report to run.
    cat > "$root/etc/default/grub" << 'GRUB'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0 panic=1 rootflags=dax rd.shell=0 rd.emergency=reboot rd.timeout=100 systemd.show_status=0 loglevel=4 lab.sys=grub"
GRUB_DISABLE_OS_PROBER=true
GRUB
    [ "$SYS_FLAVOUR" = itools ] && sed -i 's/ lab.sys=grub"/ lab.sys=grub lab.flavour=itools"/' "$root/etc/default/grub"
    mkdir -p "$root/boot/grub" "$root/srv/data" "$root/srv/solo" "$root/srv/early" "$root/srv/flaky" "$root/srv/nodax" "$root/var/lib/lab"
    install -m 644 "$SYSLAB/guest/lab-marker.service" "$root/etc/systemd/system/lab-marker.service"
    install -m 755 "$SYSLAB/guest/lab-report" "$root/usr/local/sbin/lab-report"
    install -D -m 644 "$LAB/guest/markers.sh" "$root/usr/local/lib/lab/markers.sh"
    install -m 644 "$SYSLAB/guest/pmemtab-lab.service" "$root/etc/systemd/system/pmemtab-lab.service"
    # The lab's dracut module for the hostonly scenario: an image without 99-systemd.rules
    # (included only when asked for, --add lab-no-systemd-rules).
    if [ "$SYS_FLAVOUR" = dracut ]; then
        install -D -m 755 "$SYSLAB/guest/lab-no-systemd-rules.sh" \
            "$root/usr/lib/dracut/modules.d/99lab-no-systemd-rules/module-setup.sh"
    fi
    for t in multi-user emergency; do
        mkdir -p "$root/etc/systemd/system/$t.target.wants"
        ln -sf ../pmemtab-lab.service "$root/etc/systemd/system/$t.target.wants/pmemtab-lab.service"
    done
    # Nothing may wait on the console: a failed boot reports and powers off instead.
    for u in emergency.service rescue.service getty@tty1.service serial-getty@ttyS0.service \
        console-getty.service systemd-firstboot.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
    done
    # The project, installed the way users install it: its Debian package.
    mkdir -p "$root/etc/dracut.conf.d"
    sys_dracut_conf > "$root/etc/dracut.conf.d/90-pmemtab-lab.conf"
    cp "$deb" "$root/tmp/" || return 1
    SYS_DEB_IN_ROOT=/tmp/$(basename "$deb")
    sys_chroot_mount "$root" || return 1
    mkdir -p "$SYS/logs"
    # initramfs-tools' trigger updates the images there are: a system has one from its kernel
    # package (`update-initramfs -c`, as linux-image's postinst runs it).
    if [ "$SYS_FLAVOUR" = itools ]; then
        chroot "$root" update-initramfs -c -k "$(kver)" > "$SYS/logs/update-initramfs.log" 2>&1 ||
            { tail -n 20 "$SYS/logs/update-initramfs.log" >&2; sys_chroot_umount "$root"; return 1; }
    fi
    say_sys "apt-get install ./$(basename "$deb") (its trigger runs $builder)"
    sys_apt_get install -y "./${SYS_DEB_IN_ROOT#/tmp/}" \
        > "$SYS/logs/pkg-install.log" 2>&1 || { tail -n 20 "$SYS/logs/pkg-install.log" >&2; rc=1; }
    if [ $rc = 0 ] && [ "${SYS_PKG_CYCLE:-}" = 1 ]; then
        say_sys "package cycle: reinstall, remove, purge, install (each rebuilds the image)"
        sys_pkg_cycle || rc=1
        sys_generator_oracle
        if [ $rc = 0 ] && [ "${SYS_PKG_KERNELS:-}" = 1 ]; then
            say_sys "package path: an upgrade in the apt run that installs kernel $SYS_KERNEL2, then the package alone"
            sys_pkg_kernels || rc=1
        fi
    fi
    sys_chroot_umount "$root"
    rm -f "$root/etc/dracut.conf.d/90-pmemtab-lab.conf" "$root$SYS_DEB_IN_ROOT"
    return $rc
}

# The package's life in the chroot (mounted), after its first install: reinstall, remove,
# purge, install again, each checked; the last install's image is the one the lab boots.
# Writes "PASS name" / "FAIL name: why" lines to $SYS/pkg-cycle.txt for system/run.
# shellcheck disable=SC2317 # its helpers are called by name, through t
sys_pkg_cycle() {
    local root=$SYSROOT k out=$SYS/pkg-cycle.txt log=$SYS/logs/pkg-cycle.log tab0
    k=$(kver)
    : > "$out"
    : > "$log"
    in_root() { DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"; }
    t() { local n=$1 why=$2; shift 2; echo "== $n: $*" >> "$log"; if "$@" >> "$log" 2>&1; then echo "PASS $n" >> "$out"; else echo "FAIL $n: $why" >> "$out"; fi; }
    # (lsinitrd's listing to a file first: grep -q would end it with SIGPIPE, and pipefail.)
    # The image's lister, and a file every image of this builder has (it was rebuilt, whole).
    local lister=(lsinitrd) always=' usr/lib/systemd/systemd$'
    [ "$SYS_FLAVOUR" = itools ] && lister=(lsinitramfs -l) always=' init$'
    img_list() { in_root "${lister[@]}" "/boot/initrd.img-$k" > "$SYS/pkg-lsinitrd.txt" 2>&1; }
    img_has_pmemtab() { img_list && grep -qE ' usr/sbin/pmem-assemble$' "$SYS/pkg-lsinitrd.txt"; }
    img_lacks_pmemtab() { img_list && grep -qE "$always" "$SYS/pkg-lsinitrd.txt" && ! grep -qE 'pmem-assemble|pmemtab' "$SYS/pkg-lsinitrd.txt"; }
    tab0=$(sha256sum < "$root/etc/pmemtab")
    tab_same() { [ "$(sha256sum < "$root/etc/pmemtab" 2> /dev/null)" = "$tab0" ]; }
    files_there() { [ -x "$root/usr/sbin/pmem-assemble" ] && [ -x "$root/usr/lib/systemd/system-generators/pmemtab-generator" ] && [ -f "$root/usr/lib/dracut/modules.d/55pmemtab/module-setup.sh" ]; }
    files_gone() { [ ! -e "$root/usr/sbin/pmem-assemble" ] && [ ! -e "$root/usr/lib/dracut/modules.d/55pmemtab" ] && [ ! -e "$root/usr/lib/udev/rules.d/09-pmemtab.rules" ]; }
    not_installed() { [ -z "$(in_root dpkg-query -W -f='${db:Status-Status}' pmemtab 2> /dev/null)" ] || [ "$(in_root dpkg-query -W -f='${db:Status-Status}' pmemtab 2> /dev/null)" = not-installed ]; }
    t pkg-install-trigger-built-image "/boot/initrd.img-$k has no usr/sbin/pmem-assemble (logs/pkg-install.log)" img_has_pmemtab
    t pkg-install-leaves-pmemtab "/etc/pmemtab changed" tab_same
    t pkg-install-verifies "dpkg --verify pmemtab" in_root dpkg --verify pmemtab
    t pkg-reinstall "apt-get install --reinstall failed (logs/pkg-cycle.log)" sys_apt_get install -y --reinstall "./${SYS_DEB_IN_ROOT#/tmp/}"
    t pkg-reinstall-leaves-pmemtab "/etc/pmemtab changed" tab_same
    t pkg-reinstall-image "no usr/sbin/pmem-assemble in the image" img_has_pmemtab
    t pkg-remove "dpkg -r pmemtab failed (the chroot's / is not on pmemtab)" in_root dpkg -r pmemtab
    t pkg-remove-removes-files "files left" files_gone
    t pkg-remove-leaves-pmemtab "/etc/pmemtab changed or gone" tab_same
    t pkg-remove-rebuilt-image-without-pmemtab "the trigger did not rebuild the image without pmemtab" img_lacks_pmemtab
    t pkg-purge "dpkg -P pmemtab failed" in_root dpkg -P pmemtab
    t pkg-purge-not-installed "status: $(in_root dpkg-query -W -f='${Status}' pmemtab 2>&1)" not_installed
    t pkg-purge-leaves-pmemtab "/etc/pmemtab changed or gone" tab_same
    t pkg-install-again "apt-get install failed (logs/pkg-cycle.log)" sys_apt_get install -y "./${SYS_DEB_IN_ROOT#/tmp/}"
    t pkg-install-again-restores-files "files missing" files_there
    t pkg-install-again-verifies "dpkg --verify pmemtab" in_root dpkg --verify pmemtab
    t pkg-install-again-image "no usr/sbin/pmem-assemble in the image" img_has_pmemtab
    t pkg-install-again-leaves-pmemtab "/etc/pmemtab changed" tab_same
    return 0
}

# The package path with two kernels (SYS_PKG_KERNELS=1, scenario kernels), in the chroot after
# sys_pkg_cycle: /etc/pmemtab changed, then one apt run installs an upgrade of pmemtab (the same
# .deb, version +lab1) and a second kernel, the real Debian package SYS_KERNEL2 from the lab's
# kernel cache (dpkg's path-exclude keeps only the modules the images need: the others are
# megabytes nothing here loads). Both kernels' images must then hold the changed /etc/pmemtab
# (the booted kernel's was rebuilt, not only the new kernel's made); then /etc/pmemtab changes
# again and a run with the package alone (reinstall) must rebuild both, the older kernel's too.
# Appends to $SYS/pkg-cycle.txt.
# shellcheck disable=SC2317 # its helpers are called by name, through t
sys_pkg_kernels() {
    local root=$SYSROOT out=$SYS/pkg-cycle.txt log=$SYS/logs/pkg-cycle.log k1 k2 kd2 deb2 up v f
    k1=$(kver)
    kd2=$WORK/kernel-$SYS_KERNEL2
    LAB_KERNEL=$SYS_KERNEL2 "$LAB/setup" > "$SYS/logs/setup-kernel2.log" 2>&1 ||
        { echo "FAIL pkg-kernel2-setup: tests/lab/setup --kernel $SYS_KERNEL2 failed (logs/setup-kernel2.log)" >> "$out"; return 0; }
    k2=$(cat "$kd2/kver")
    in_root() { DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"; }
    t() { local n=$1 why=$2; shift 2; echo "== $n: $*" >> "$log"; if "$@" >> "$log" 2>&1; then echo "PASS $n" >> "$out"; else echo "FAIL $n: $why" >> "$out"; fi; }
    # The pmemtab an image holds equals the root's (lsinitrd -f, or unmkinitramfs's tree).
    img_tab_current() {
        local img=/boot/initrd.img-$1 x=/tmp/lab-unpack got
        [ -s "$root$img" ] || { echo "no $img"; return 1; }
        if [ "$SYS_FLAVOUR" = itools ]; then
            rm -rf "$root$x"
            in_root unmkinitramfs "$img" "$x" || return 1
            got=$(find "$root$x" -path '*/etc/pmemtab' | head -n 1)
            cmp "$got" "$root/etc/pmemtab" && [ -x "$(dirname "$(dirname "$got")")/usr/sbin/pmem-assemble" ]
        else
            # (Listings to files: grep -q would end lsinitrd with SIGPIPE, and pipefail.)
            in_root lsinitrd -f etc/pmemtab "$img" > "$SYS/img-pmemtab.txt" && cmp "$SYS/img-pmemtab.txt" "$root/etc/pmemtab" &&
                in_root lsinitrd "$img" > "$SYS/img-list.txt" && grep -qE ' usr/sbin/pmem-assemble$' "$SYS/img-list.txt"
        fi
    }
    # The upgrade: this .deb with a higher version.
    up=$SYS/pkg-up
    rm -rf "$up"
    mkdir -p "$up"
    dpkg-deb -R "$root$SYS_DEB_IN_ROOT" "$up/x" || return 1
    v=$(sed -n 's/^Version: //p' "$up/x/DEBIAN/control")
    sed -i "s/^Version: .*/Version: $v+lab1/" "$up/x/DEBIAN/control"
    dpkg-deb -b "$up/x" "$root/tmp/pmemtab_up.deb" > /dev/null || return 1
    rm -rf "$up"
    # (Since 7.x a kernel is several packages: all of them, in the one run.)
    rm -rf "$root/tmp/kernel2"
    mkdir -p "$root/tmp/kernel2"
    cp "$kd2"/debs/*.deb "$root/tmp/kernel2/" || return 1
    deb2=$(cd "$root/tmp" && find kernel2 -name '*.deb' -printf './%p ')
    # Only the modules the images need (SYS_MODULES and their dependencies), as path-include
    # lines; the rest of the kernel's modules are left out by dpkg itself.
    {
        echo "path-exclude=/lib/modules/*/kernel/*"
        echo "path-exclude=/usr/lib/modules/*/kernel/*"
        for m in $SYS_MODULES; do
            modprobe -C "$WORK/no-modprobe.d" -d "$kd2/root" -S "$k2" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
        done | sort -u | while read -r f; do
            f=${f#"$kd2/root/"}
            f=${f#usr/}
            # The file and each directory down to it (an excluded directory is not made).
            while [ "${f%/*}" != "$f" ] && [ "${f##*/}" != kernel ]; do
                echo "path-include=/$f"
                echo "path-include=/usr/$f"
                f=${f%/*}
            done
        done | sort -u
    } > "$root/etc/dpkg/dpkg.cfg.d/lab-slim-kernel"
    echo "# lab: changed before the upgrade" >> "$root/etc/pmemtab"
    # shellcheck disable=SC2086 # package files, one a word
    t pkg-upgrade-with-kernel2-in-one-run "apt-get install ./pmemtab_up.deb $deb2 failed (logs/pkg-cycle.log)" \
        sys_apt_get install -y --no-install-recommends ./pmemtab_up.deb $deb2
    t pkg-upgrade-version "dpkg-query: $(in_root dpkg-query -W -f='${Version}' pmemtab 2>&1)" \
        sh -c '[ "$(chroot "$1" dpkg-query -W -f="\${Version}" pmemtab)" = "$2" ]' - "$root" "$v+lab1"
    t "pkg-upgrade-image-of-kernel2-$k2-current" "its image lacks pmem-assemble or holds an older /etc/pmemtab" img_tab_current "$k2"
    t "pkg-upgrade-image-of-kernel1-$k1-current" "its image lacks pmem-assemble or holds an older /etc/pmemtab" img_tab_current "$k1"
    echo "# lab: changed again, before a run with the package alone" >> "$root/etc/pmemtab"
    t pkg-upgraded-reinstall-alone "apt-get install --reinstall ./pmemtab_up.deb failed" \
        sys_apt_get install -y --reinstall ./pmemtab_up.deb
    t "pkg-rebuilds-every-kernel-$k1" "its image holds an older /etc/pmemtab" img_tab_current "$k1"
    t "pkg-rebuilds-every-kernel-$k2" "its image holds an older /etc/pmemtab" img_tab_current "$k2"
    rm -rf "$root/etc/dpkg/dpkg.cfg.d/lab-slim-kernel" "$root/tmp/pmemtab_up.deb" "$root/tmp/kernel2"
    return 0
}

# The root's own systemd-fstab-generator as the oracle for the fstab options newer systemd
# defines (x-systemd.wants=, x-systemd.validatefs: systemd 258+, so on testing and sid; older
# roots say which version they have and skip nothing else): the same line in fstab and in
# pmemtab, both generators run in the chroot, and the mount unit's Wants=/After= of the unit
# named, its .wants/ links and the target's ordering drop-ins must be the same.
# Appends to $SYS/pkg-cycle.txt.
sys_generator_oracle() {
    local root=$SYSROOT out=$SYS/pkg-cycle.txt d=/tmp/lab-gen v o
    v=$(chroot "$root" dpkg-query -W -f='${Version}' systemd 2> /dev/null | sed 's/[^0-9].*//')
    if [ "${v:-0}" -lt 258 ]; then
        echo "system lab: systemd ${v:-?} in the root: no fstab-generator with x-systemd.validatefs to compare with" >&2
        return 0
    fi
    rm -rf "$root$d"
    mkdir -p "$root$d/fstab.out" "$root$d/pmemtab.out"
    o="x-systemd.wants=lab-marker.service,x-systemd.validatefs"
    echo "/dev/mapper/odata /srv/odata ext4 $o 0 0" > "$root$d/fstab"
    echo "odata linear uuid=$(sys_uuid dataA) /srv/odata ext4 $o" > "$root$d/pmemtab"
    chroot "$root" env SYSTEMD_FSTAB=$d/fstab SYSTEMD_PROC_CMDLINE=quiet \
        /usr/lib/systemd/system-generators/systemd-fstab-generator "$d/fstab.out" "$d/fstab.out" "$d/fstab.out" 2> "$SYS/logs/oracle-fstab.log"
    chroot "$root" env PMEMTAB=$d/pmemtab SYSTEMD_PROC_CMDLINE=quiet \
        /usr/lib/systemd/system-generators/pmemtab-generator "$d/pmemtab.out" "$d/pmemtab.out" "$d/pmemtab.out" 2> "$SYS/logs/oracle-pmemtab.log"
    # What each wrote for the option: dependency lines of the mount, links and drop-ins.
    summary() {
        grep -hE '^(Wants|After)=lab-marker' "$1/srv-odata.mount" | sort
        (cd "$1" && find . -path './srv-odata.mount.wants/systemd-validatefs*' -printf '%p -> %l\n' && find . -path './*.target.d/*validatefs*' -printf '%p\n') | sort
        cat "$1"/*.target.d/*validatefs* 2> /dev/null | grep -v '^#' | sed '/^$/d'
    }
    summary "$root$d/fstab.out" > "$SYS/oracle-fstab.txt"
    summary "$root$d/pmemtab.out" > "$SYS/oracle-pmemtab.txt"
    if [ -s "$SYS/oracle-fstab.txt" ] && diff "$SYS/oracle-fstab.txt" "$SYS/oracle-pmemtab.txt" > "$SYS/logs/oracle.diff"; then
        echo "PASS generator-new-options-as-fstab-generator-$v" >> "$out"
    else
        echo "FAIL generator-new-options-as-fstab-generator-$v: differs from systemd-fstab-generator's: $(tr '\n' ' ' < "$SYS/logs/oracle.diff")" >> "$out"
    fi
    rm -rf "${root:?}$d"
}

# sys_lsinitrd IMG: the builder's listing of an image file on the host (lsinitrd, or
# lsinitramfs -l), run in a chroot of the root.
sys_lsinitrd() {
    local rc
    cp "$1" "$SYSROOT/tmp/lab-list.img" || return 1
    sys_chroot_mount "$SYSROOT" || return 1
    if [ "$SYS_FLAVOUR" = itools ]; then
        chroot "$SYSROOT" lsinitramfs -l /tmp/lab-list.img
    else
        chroot "$SYSROOT" lsinitrd /tmp/lab-list.img
    fi
    rc=$?
    sys_chroot_umount "$SYSROOT"
    rm -f "$SYSROOT/tmp/lab-list.img"
    return $rc
}

# dracut's image: the one the package's update-initramfs trigger made Debian's dracut build in
# the chroot (sys_build_root; sys_dracut_conf says how), and lsinitrd's listing of it.
sys_build_initrd() {
    local root=$SYSROOT k rc
    k=$(kver)
    [ -s "$root/boot/initrd.img-$k" ] || { echo "system lab: the package's trigger built no /boot/initrd.img-$k" >&2; return 1; }
    sys_chroot_mount "$root" || return 1
    if [ "$SYS_FLAVOUR" = itools ]; then
        chroot "$root" lsinitramfs -l "/boot/initrd.img-$k" > "$SYS/lsinitrd.txt" 2>&1
    else
        chroot "$root" lsinitrd "/boot/initrd.img-$k" > "$SYS/lsinitrd.txt" 2>&1
    fi
    rc=$?
    sys_chroot_umount "$root"
    [ $rc = 0 ] && cp "$root/boot/initrd.img-$k" "$SYS/initrd.img"
}

# The root filesystem image, with the stripe hints of the root entry (2 MiB x 2).
sys_build_image() {
    rm -f "$SYS/root.img"
    mke2fs -q -t ext4 -b 4096 -E stride=512,stripe_width=1024 -d "$SYSROOT" "$SYS/root.img" "${ROOT_IMG_MB}M"
}

# The NVDIMMs of a normal system boot: the two of the root and the one on NUMA node 1.
SYS_DIMMS=nv0,nv1,km0
# sys_boot LOG DIMMS APPEND [DISK...]: lib.sh's boot with the system lab's NVDIMMs, dracut's
# initramfs (or, with SYS_INITRD set, another), no `quiet`, and its longer time limit.
sys_boot() {
    DIMMS=$SYS/dimms BOOT_INITRD=${SYS_INITRD:-$SYS/initrd.img} BOOT_QUIET="" \
        BOOT_TIMEOUT=$SYS_BOOT_TIMEOUT boot "$@"
}
# A system boot takes 30-60 s under TCG; past this it hangs.
SYS_BOOT_TIMEOUT=${LAB_SYS_BOOT_TIMEOUT:-240}

# Everything before the first real boot, for system/run, the demo and the bench: packages,
# kernel and static binary (tests/lab/setup), `make deb`, the cached Debian userland, this
# kernel's root with the .deb installed, dracut's image, the root image; then fresh NVDIMMs provisioned
# in a busybox boot. Prints progress on stderr; fails with one line saying which step failed.
# sys_prepare plain (bench/dax-root) also writes a copy of the root image with a fresh
# filesystem uuid, $SYS/plain.img, onto the `plain` namespace itself; the provisioning log
# then says its block device: LAB-SAVE plain_dev=pmemX.
sys_prepare() { sys_prepare_images "${1:-}" && sys_provision "${1:-}"; }
# sys_prepare_images [plain]: sys_prepare's part before the provisioning boot (no qemu).
sys_prepare_images() {
    local t0 plain=${1:-}
    "$LAB/setup" >&2 || { echo "tests/lab/setup failed (kernel $LAB_KERNEL)"; return 1; }
    export CARGO_TARGET_DIR=${LAB_CARGO_TARGET_DIR:-$WORK/target}
    # The "system" group of tests/deps (mmdebstrap; dracut runs inside the root, not here) and
    # the "package" group (make deb).
    deps_install system package || { echo "the system lab's packages are missing (see above)"; return 1; }
    mkdir -p "$SYS/logs"
    # pmemtab's Debian package (make build + make install PREFIX=/usr inside debhelper).
    # (LAB_SYS_DEB: one built before, as tests/run-all does for its two lab streams.)
    if [ -n "${LAB_SYS_DEB:-}" ]; then
        SYS_DEB=$LAB_SYS_DEB
    else
        SYS_DEB=$("$LAB/../../packaging/build-deb" 2> "$SYS/build.log" | tail -n 1)
    fi
    [ -f "$SYS_DEB" ] || { tail -20 "$SYS/build.log" >&2; echo "make deb failed (log: $SYS/build.log)"; return 1; }
    sys_root_tar || { echo "mmdebstrap failed"; return 1; }
    t0=$(date +%s)
    sys_build_root || { echo "building the root in $SYSROOT failed"; return 1; }
    sys_build_initrd || { echo "no $builder image from the package's trigger (see above)"; return 1; }
    sys_build_image || { echo "mke2fs -d failed"; return 1; }
    if [ "$plain" = plain ]; then
        if ! { cp --sparse=always "$SYS/root.img" "$SYS/plain.img" && tune2fs -U random "$SYS/plain.img" > /dev/null; }; then
            echo "plain.img: cp or tune2fs -U random failed"; return 1
        fi
    fi
    say_sys "kernel $(kver): root, dracut image ($(( $(stat -c %s "$SYS/initrd.img") / 1024 )) KiB) and root.img in $(( $(date +%s) - t0 )) s"
}
# sys_provision [plain]: fresh NVDIMMs provisioned in a busybox boot (sys_prepare's last part).
sys_provision() {
    local t0 plain=${1:-} disk2="" append="quiet loglevel=3 lab.run=sysprov lab.boot=1"
    [ "$plain" = plain ] && append="$append lab.plain=1" disk2=$SYS/plain.img
    mkdir -p "$SYS/dimms"
    DIMMS=$SYS/dimms make_nvdimms
    sed "s|@NAMESPACES@|$(echo "$SYS_NAMESPACES" | tr '\n' '~')|" "$SYSLAB/provision.sh.in" | tr '~' '\n' > "$SYS/sysprov.sh"
    GUEST_MODULES="$GUEST_MODULES virtio_pci virtio_blk" build_initramfs "$SYS/sysprov.sh"
    t0=$(date +%s)
    SYS_INITRD=$WORK/initramfs.cpio.gz sys_boot "$SYS/logs/provision.log" "$SYS_DIMMS" \
        "$append" "$SYS/root.img" "$disk2"
    say_sys "provisioning boot: $(( $(date +%s) - t0 )) s"
}

# cxl-root (system/run): the root on an fsdax namespace of a CXL pmem region x2 over the CXL
# machine's cp0 and cp1 (tests/lab/lib.sh CXL_DEVICES), by serial. The namespace's uuid and the
# root filesystem's uuid are fixed, so the root's /etc/pmemtab and root=UUID= are written before
# the provisioning boot makes them.
CXL_ROOT_NS=5eedc1a0-0000-4000-8000-0000000000c0
# shellcheck disable=SC2034 # read by system/run (sys_scn_cxl_root)
CXL_ROOT_FS=5eedc1a0-0000-4000-8000-0000000000f5
# Modules of the CXL root (what Debian's kernel loads for a CXL pmem region): the root's
# /lib/modules gets them, the image gets what pmem-assemble initramfs names.
# shellcheck disable=SC2034 # read by system/run (sys_scn_cxl_root)
SYS_CXL_MODULES="cxl_acpi cxl_pci cxl_mem cxl_pmem"
sys_cxl_pmemtab() {
    cat <<TAB
# The root on CXL persistent memory: the region over cp0 (serial 0x2001, position 0) and
# cp1 (0x2002, position 1), made by the initrd at every boot (the kernel forgets it), then
# the namespace comes back from its label and / is on its /dev/pmemX.
cxlpm  cxl-pmem  serial=0x2001,serial=0x2002  -  -     -
sys    single    uuid=$CXL_ROOT_NS  /  ext4  x-systemd.device-timeout=60
TAB
}
