#!/bin/sh
# Regenerates tests/fixtures/regalloc2-logs/ (see the README there).
# Usage: tools/ra-logs/make-fixtures.sh   (from anywhere)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../tests/fixtures/regalloc2-logs"
cd "$here"
# feature  release  seed regs bytes [first byte]
while read -r feature release args; do
    cargo build --quiet --release --features "$feature"
    # shellcheck disable=SC2086
    RUST_LOG=regalloc2=trace ./target/release/ra-logs $args 2> "$out/regalloc2-$release.log"
    echo "regalloc2-$release.log: $(wc -c < "$out/regalloc2-$release.log") bytes"
done <<'LIST'
v0_9 0.9.3 108 2 4096 2
v0_10 0.10.2 108 2 4096 2
v0_11 0.11.2 108 2 4096 2
v0_12 0.12.2 108 2 4096 2
v0_13 0.13.1 108 2 4096 2
v0_15 0.15.2 40 2 1024
LIST

# regalloc2 0.11.3 (yanked) splits this function's bundles into minimal bundles
# forever; 0.11.2 allocates it. The log is cut at 300,000 bytes, at a line end.
# 0.11.3 is locked in a scratch copy so this package's Cargo.lock keeps 0.11.2.
scratch=$(mktemp -d)
cp -r Cargo.toml Cargo.lock src "$scratch"
(
    cd "$scratch"
    cargo update --quiet -p regalloc2@0.11.2 --precise 0.11.3
    cargo build --quiet --release --features v0_11
    RUST_LOG=regalloc2=trace timeout 10 ./target/release/ra-logs 390 1 2048 2 2>&1 >/dev/null \
        | head -c 300000 | sed '$d' > "$out/regalloc2-0.11.3-loop.log" || true
)
rm -rf "$scratch"
echo "regalloc2-0.11.3-loop.log: $(wc -c < "$out/regalloc2-0.11.3-loop.log") bytes"
