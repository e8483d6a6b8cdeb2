# SPDX-License-Identifier: GPL-2.0
#
# make                 build kmod/funnel.ko (newest installed Debian kernel) and ctl/
# make KVER=...        build the module for another installed kernel
# make kmods           build the module for every installed kernel (build/KVER/)
# make deps            install build/test/demo dependencies (apt, root)
# make check           everything: unit tests, lint, VM selftests on 6.1 and 6.12
# make lint            checkpatch --strict and sparse (C=1) on kmod/
# make demo            two sites in the VM, DNS and RADIUS through Funnel
# make soak            5 minutes of flood, resets, rekeys and a KDC outage in
#                      the VM (KVER=..., SOAK_SECS=..., SOAK_DEBUG=1: -d)
# make install         install funneld, funnelctl, funnel.ko, man pages, unit
# make deb             Debian packages funnel and funnel-dkms in build/deb/
#                      (dpkg-buildpackage in a copy of the tree; lintian)
# make ynl             unpack the kernel's netlink tools (tools/net/ynl of
#                      linux-source-6.12) into build/ksrc-6.12 for the tests
# make ynl-gen         regenerate uapi/linux/funnel_netlink.h and
#                      kmod/netlink-gen.[ch] from Documentation/netlink/specs/

SHELL    := /bin/bash
TOP      := $(CURDIR)
KVERS    := $(shell ls -1 /lib/modules 2>/dev/null | while read k; do \
		[ -e /lib/modules/$$k/build/Makefile ] && echo $$k; done | sort -V)
KVER     ?= $(lastword $(KVERS))
KDIR      = /lib/modules/$(1)/build
BUILD     = $(TOP)/build/$(1)
KSRCS    := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild Kbuild \
	    selftests/vm/warn/Kbuild selftests/vm/warn/funnel_selftest_warn.c
UAPI     := $(wildcard uapi/linux/*.h)

.PHONY: all kmod kmods ctl tools deps check lint clean print-kvers demo install soak check-long \
	ynl ynl-gen deb
all: kmod ctl

# One kbuild tree per kernel: build/KVER/ mirrors the sources with
# symlinks, so builds for 6.1 and 6.12 never share objects.
define kmod_rule
$(call BUILD,$(1))/kmod/funnel.ko: $(KSRCS) $(UAPI) VERSION
	@[ -e $(call KDIR,$(1))/Makefile ] || { echo "no headers for $(1): run make deps" >&2; exit 1; }
	@mkdir -p $(call BUILD,$(1))/kmod $(call BUILD,$(1))/selftests/vm/warn
	@for f in $(KSRCS); do ln -sfn $(TOP)/$$$$f $(call BUILD,$(1))/$$$$f; done
	@ln -sfn $(TOP)/uapi $(call BUILD,$(1))/uapi
	@ln -sfn $(TOP)/VERSION $(call BUILD,$(1))/VERSION
	$(MAKE) -C $(call KDIR,$(1)) M=$(call BUILD,$(1)) W=$(W) C=$(C) modules
endef
$(foreach k,$(KVERS),$(eval $(call kmod_rule,$(k))))

kmod: $(call BUILD,$(KVER))/kmod/funnel.ko
	@ln -sfn ../build/$(KVER)/kmod/funnel.ko kmod/funnel.ko

kmods: $(foreach k,$(KVERS),$(call BUILD,$(k))/kmod/funnel.ko)

ctl:
	$(MAKE) -C ctl

# test tools that do not need libnl
tools: build/tools/ulp_test build/tools/udp_pump
build/tools/ulp_test: selftests/tools/ulp_test.c $(UAPI)
	@mkdir -p build/tools
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iuapi -o $@ $< -lpthread
build/tools/udp_pump: selftests/tools/udp_pump.c
	@mkdir -p build/tools
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iuapi -o $@ $< -lpthread

# the VM test t_47_ynl.sh runs cli.py from here: the guest's root is read-only
ynl:
	@./scripts/ynl.sh unpack >/dev/null

ynl-gen:
	@./scripts/ynl.sh gen

print-kvers:
	@echo $(KVERS)

deps:
	@./scripts/deps.sh

lint:
	@./scripts/lint.sh $(KVERS)

check: deps
	@./selftests/check.sh

# make check, then the VM runner's own selftest (five more boots) and the
# package tests (selftests/pkg: DKMS on the host, a guest on each kernel)
check-long: deps
	@FUNNEL_CHECK_LONG=1 ./selftests/check.sh

demo: deps
	@$(MAKE) -s kmods ctl tools >/dev/null
	@./scripts/demo.sh

soak: deps
	@$(MAKE) -s kmods ctl tools >/dev/null
	@selftests/vm/run $(if $(SOAK_DEBUG),-d) -k $(KVER) -t $$(( $${SOAK_SECS:-300} + 600 )) \
		-- env SOAK_SECS=$${SOAK_SECS:-300} selftests/soak/soak.sh

install: kmod ctl
	@KVER=$(KVER) ./scripts/install.sh $(DESTDIR)

deb:
	@./scripts/deb.sh

clean:
	rm -rf build kmod/funnel.ko
	$(MAKE) -C ctl clean
