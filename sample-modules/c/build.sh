#!/bin/sh
# Rebuilds kernels.wasm from kernels.c with Debian's clang, lld and wasi-libc
# (apt-get install clang lld wasi-libc). Run from this folder.
set -eu
clang --target=wasm32-wasi --sysroot=/usr -O2 -g0 -mmutable-globals \
  -Wl,--export=__heap_base -Wl,--export=__data_end -Wl,--export=__stack_pointer \
  -o kernels.wasm kernels.c
