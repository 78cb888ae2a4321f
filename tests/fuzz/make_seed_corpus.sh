#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fills DIR with seed inputs for config_parser_fuzz: every drbd.conf-language
# file of the repo (config/, tests/), of the real-world corpus, of upstream's
# regression suite (read in place, copied only into DIR), and a set of
# generated configs (main files with their includes inlined is not needed:
# included files are seeds of their own). One file per seed, flat names.
# Usage: make_seed_corpus.sh DIR [CORPUS_DIR] [PEER_TESTS_DIR]
set -euo pipefail
out=${1:?usage: make_seed_corpus.sh DIR [CORPUS_DIR] [PEER_TESTS_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shared/ sits beside the repository (CI clones it that way); DRBD_SHARED overrides.
shared=${DRBD_SHARED:-$repo/../shared}
corpus=${2:-$shared/corpus/real}
peer=${3:-$shared/peer-tests/drbd-utils/tests}
mkdir -p "$out"

copy_tree() {  # copy_tree PREFIX DIR: every .res/.conf/.cfg file below DIR
  local prefix=$1 dir=$2 f name
  [ -d "$dir" ] || return 0
  while IFS= read -r -d '' f; do
    name=${f#"$dir"/}
    cp "$f" "$out/${prefix}_${name//\//_}"
  done < <(find "$dir" -type f \( -name '*.res' -o -name '*.conf' -o -name '*.cfg' \) \
             -not -path '*/fuzz/*' -print0 | sort -z)
}

copy_tree repo-config "$repo/config"
copy_tree repo-tests "$repo/tests"
copy_tree corpus "$corpus"
copy_tree peer "$peer"
gen=$(mktemp -d)
python3 "$repo/tests/integration/gen_configs.py" --out "$gen" --seed 1 --count 60 >/dev/null
copy_tree gen "$gen"
rm -rf "$gen"
echo "$(find "$out" -type f | wc -l) seeds in $out"
