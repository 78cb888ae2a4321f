#!/usr/bin/env bash
# Installs everything drbd-cp needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are left alone; apt runs only when one is missing.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build pkgconf g++ clang libclang-rt-14-dev clang-tidy
  # libraries
  libfmt-dev libboost-program-options-dev libnl-genl-3-dev libsystemd-dev libkeyutils-dev
  nlohmann-json3-dev libasio-dev libncurses-dev libcpp-httplib-dev libssl-dev libmimalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test tools and oracles
  drbd-utils clitest python3 iproute2 util-linux hyperfine
  # NBD clients for the drbd-simd exports (nbdcopy; nbdsh; qemu-io, qemu-img)
  libnbd-bin python3-libnbd qemu-utils
  # the real-kernel tests (tests/kernel, ../shared/kernel-harness)
  qemu-system-x86 busybox-static xz-utils
  # ocf-tester for the OCF agent (tests/integration/ocf_tester.py); it validates
  # meta-data with xmllint
  resource-agents libxml2-utils
  # the real Pacemaker + Corosync cluster suite (tests/cluster, ctest label
  # "cluster", ../shared/cluster-harness)
  pacemaker pacemaker-cli-utils corosync
  # lib/ocf reads Pacemaker's CIB and drbdadm dump-xml with libxml2
  libxml2-dev
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
