#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest "fuzz" label: runs the fuzz target's function over the seed corpus
# (any compiler; with -DDRBD_SANITIZE=ON under ASan+UBSan).
# Usage: replay_seeds.sh REPLAY_BINARY
set -euo pipefail
bin=${1:?usage: replay_seeds.sh REPLAY_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
bash "$here/make_seed_corpus.sh" "$seeds" >/dev/null
exec "$bin" "$seeds"
