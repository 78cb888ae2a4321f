#!/bin/sh
# Fails if sim/engine, sim/proto or sim/env use what the deterministic
# engine must not (STYLE.md §5): clocks, sleeping, threads, locks, sockets,
# direct file I/O, randomness, order-dependent containers, OS headers.
# Usage: check_purity.sh SIM_DIR
dir="$1"
grep -nE \
  -e 'std::chrono' -e 'clock_gettime' -e '(^|[^_a-zA-Z])time\(' -e 'sleep' \
  -e 'std::thread' -e 'mutex' -e 'socket\(' -e 'pread' -e 'pwrite' \
  -e '(^|[^_a-zA-Z])s?rand\(' -e 'random_device' -e 'unordered_' \
  -e '#include <(asio|sys/|unistd|fcntl|thread|chrono|random)' \
  "$dir"/engine/*.cc "$dir"/engine/*.h "$dir"/proto/*.cc "$dir"/proto/*.h "$dir"/env/*.cc "$dir"/env/*.h
rc=$?
if [ "$rc" -eq 1 ]; then exit 0; fi
echo "check_purity: banned construct above (or grep failed, rc=$rc)" >&2
exit 1
