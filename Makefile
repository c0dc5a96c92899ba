# Build and install pmemtab the way distributions expect: `make`, then
# `make install PREFIX=/usr DESTDIR=/tmp/stage`. Every directory can be overridden.

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
# The initramfs's pmem-assemble (the boot commands only), which the image builders copy into
# the image as $(SBINDIR)/pmem-assemble.
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR ?= $(PREFIX)/share/man
SYSTEMDGENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
# Where dracut looks for modules (/usr/lib/dracut/modules.d on every distribution).
DRACUTMODULEDIR ?= $(PREFIX)/lib/dracut/modules.d
# initramfs-tools (Debian's and Ubuntu's default builder): hooks/ and scripts/ below it.
INITRAMFSTOOLSDIR ?= $(PREFIX)/share/initramfs-tools
DESTDIR ?=
CARGO ?= cargo
INSTALL ?= install

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
ASSEMBLER := $(TARGET_DIR)/x86_64-unknown-linux-musl/release/pmem-assemble
ASSEMBLER_INITRD := $(TARGET_DIR)/x86_64-unknown-linux-musl/release/pmem-assemble-initrd
GENERATOR := $(TARGET_DIR)/release/pmemtab-generator
MEMMAP := $(TARGET_DIR)/release/pmemtab-memmap

.PHONY: all build install uninstall deb rpm check clean

all: build

# The generator runs the assembler by absolute path: bake in where it is installed.
build:
	assembler/build-static
	PMEMTAB_ASSEMBLE_PATH=$(SBINDIR)/pmem-assemble $(CARGO) build --release -p pmemtab-generator
	$(CARGO) build --release -p pmemtab-memmap

install:
	@test -x $(ASSEMBLER) -a -x $(ASSEMBLER_INITRD) -a -x $(GENERATOR) -a -x $(MEMMAP) || { echo "run make first"; exit 1; }
	$(INSTALL) -D -m 0755 $(ASSEMBLER) $(DESTDIR)$(SBINDIR)/pmem-assemble
	$(INSTALL) -D -m 0755 $(ASSEMBLER_INITRD) $(DESTDIR)$(LIBEXECDIR)/pmemtab/pmem-assemble
	$(INSTALL) -D -m 0755 $(MEMMAP) $(DESTDIR)$(SBINDIR)/pmemtab-memmap
	$(INSTALL) -D -m 0755 $(GENERATOR) $(DESTDIR)$(SYSTEMDGENERATORDIR)/pmemtab-generator
	$(INSTALL) -d $(DESTDIR)$(UDEVRULESDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' assembler/udev/09-pmemtab.rules > $(DESTDIR)$(UDEVRULESDIR)/09-pmemtab.rules
	chmod 0644 $(DESTDIR)$(UDEVRULESDIR)/09-pmemtab.rules
	$(INSTALL) -d $(DESTDIR)$(DRACUTMODULEDIR)/55pmemtab
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@SYSTEMDGENERATORDIR@|$(SYSTEMDGENERATORDIR)|g' \
	    -e 's|@UDEVRULESDIR@|$(UDEVRULESDIR)|g' dracut/55pmemtab/module-setup.sh.in \
	    > $(DESTDIR)$(DRACUTMODULEDIR)/55pmemtab/module-setup.sh
	chmod 0755 $(DESTDIR)$(DRACUTMODULEDIR)/55pmemtab/module-setup.sh
	$(INSTALL) -d $(DESTDIR)$(INITRAMFSTOOLSDIR)/hooks
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@UDEVRULESDIR@|$(UDEVRULESDIR)|g' \
	    initramfs-tools/hooks/pmemtab.in > $(DESTDIR)$(INITRAMFSTOOLSDIR)/hooks/pmemtab
	chmod 0755 $(DESTDIR)$(INITRAMFSTOOLSDIR)/hooks/pmemtab
	for s in local-top local-block local-bottom; do \
	    $(INSTALL) -D -m 0755 initramfs-tools/scripts/$$s/pmemtab $(DESTDIR)$(INITRAMFSTOOLSDIR)/scripts/$$s/pmemtab || exit 1; \
	done
	$(INSTALL) -D -m 0644 man/pmemtab.5 $(DESTDIR)$(MANDIR)/man5/pmemtab.5
	$(INSTALL) -D -m 0644 man/pmem-assemble.8 $(DESTDIR)$(MANDIR)/man8/pmem-assemble.8
	$(INSTALL) -D -m 0644 man/pmemtab-generator.8 $(DESTDIR)$(MANDIR)/man8/pmemtab-generator.8
	$(INSTALL) -D -m 0644 man/pmemtab-memmap.8 $(DESTDIR)$(MANDIR)/man8/pmemtab-memmap.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pmem-assemble \
	      $(DESTDIR)$(LIBEXECDIR)/pmemtab/pmem-assemble \
	      $(DESTDIR)$(SBINDIR)/pmemtab-memmap \
	      $(DESTDIR)$(SYSTEMDGENERATORDIR)/pmemtab-generator \
	      $(DESTDIR)$(UDEVRULESDIR)/09-pmemtab.rules \
	      $(DESTDIR)$(DRACUTMODULEDIR)/55pmemtab/module-setup.sh \
	      $(DESTDIR)$(INITRAMFSTOOLSDIR)/hooks/pmemtab \
	      $(DESTDIR)$(INITRAMFSTOOLSDIR)/scripts/local-top/pmemtab \
	      $(DESTDIR)$(INITRAMFSTOOLSDIR)/scripts/local-block/pmemtab \
	      $(DESTDIR)$(INITRAMFSTOOLSDIR)/scripts/local-bottom/pmemtab \
	      $(DESTDIR)$(MANDIR)/man5/pmemtab.5 \
	      $(DESTDIR)$(MANDIR)/man8/pmem-assemble.8 \
	      $(DESTDIR)$(MANDIR)/man8/pmemtab-generator.8 \
	      $(DESTDIR)$(MANDIR)/man8/pmemtab-memmap.8
	-rmdir $(DESTDIR)$(DRACUTMODULEDIR)/55pmemtab $(DESTDIR)$(LIBEXECDIR)/pmemtab 2>/dev/null

# Packages, built from a copy of the checkout (nothing written beside it), into
# $(TARGET_DIR)/pkg: debhelper's `dpkg-buildpackage -b` on debian/, and rpmbuild -bb on
# packaging/pmemtab.spec. Both run `make build` and `make install` above.
deb:
	packaging/build-deb

rpm:
	packaging/build-rpm

check:
	tests/run-all

clean:
	$(CARGO) clean
