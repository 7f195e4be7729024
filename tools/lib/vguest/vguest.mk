# SPDX-License-Identifier: GPL-2.0
#
# The vguest library's sources, for the Makefiles that build it into their
# programs (selftests, bench, fuzz):  include this file, then compile
# $(VGUEST_SRCS) (headers: $(VGUEST_HDRS); -I$(VGUEST)).

VGUEST      := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VGUEST_SRCS := $(sort $(wildcard $(VGUEST)/*.c))
VGUEST_HDRS := $(sort $(wildcard $(VGUEST)/*.h))
