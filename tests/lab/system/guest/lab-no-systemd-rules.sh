#!/bin/bash
# The system lab's dracut module lab-no-systemd-rules (installed into the lab's Debian root as
# 99lab-no-systemd-rules): takes 99-systemd.rules out of the image, as dracut-ng 106+ leaves it
# out when its systemd-udevd module is not included. pmemtab's own 09-pmemtab.rules must then
# still make the .device units of its devices (the hostonly scenario boots such an image).
# Included only when asked for: dracut --add lab-no-systemd-rules.

# called by dracut
check() { return 255; }

# called by dracut
depends() { return 0; }

# called by dracut
install() {
    # shellcheck disable=SC2154 # dracut sets initdir
    rm -f "$initdir/usr/lib/udev/rules.d/99-systemd.rules" "$initdir/lib/udev/rules.d/99-systemd.rules"
}
