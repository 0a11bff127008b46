#!/bin/sh
# Compiles the BPF program into the object clonetrace embeds (src/ebpf/load.rs). Run after
# changing bpf/*.c or bpf/*.h, and commit the object: building clonetrace itself needs no clang.
# The test ebpf_object_is_fresh runs this into a temporary file and compares.
set -eu
cd "$(dirname "$0")"
out="${1:-clonetrace.bpf.o}"
arch_include="/usr/include/$(uname -m)-linux-gnu"
# -fdebug-prefix-map and no -g paths of this machine: the object depends on the source only.
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$arch_include" \
  -fdebug-prefix-map="$(pwd)"=bpf -fno-ident \
  -c clonetrace.bpf.c -o "$out"
