// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the events2 line parser (lib/events), all in memory.
// The input is text: every line goes through Events2Parser; each accepted
// line is printed back (FormatEvents2Line) and as JSON, and is applied to an
// Events2World whose model is then printed as status text and JSON. The
// printed form must parse again to itself (checked with a second parser fed
// the printed lines), else the harness aborts. The first byte picks the
// events2 options. Rejections are normal; a crash, hang, sanitizer report or
// abort is a bug.
// Build: tests/CMakeLists.txt (events2_parse_fuzz_replay with any compiler,
// events2_parse_fuzz with -DDRBD_FUZZ=ON and clang).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/events/events2.h"
#include "lib/events/events2_json.h"
#include "lib/events/parser.h"
#include "lib/events/status.h"

using namespace drbd::events;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  uint8_t flags = size ? data[0] : 0;
  Events2Options opts;
  opts.statistics = flags & 1;
  opts.full = flags & 2;
  opts.diff = flags & 4;
  opts.color = flags & 8;
  Events2World world(opts);
  Events2Parser parser, reparser;
  std::string out;
  size_t lines = 0;
  while (!text.empty() && lines < 4096) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lines;
    Events2Line parsed;
    std::string err;
    if (!parser.Parse(line, &parsed, &err)) continue;
    std::string printed = FormatEvents2Line(parsed);
    Events2Line again;
    if (!reparser.Parse(printed, &again, &err)) std::abort();
    if (FormatEvents2Line(again) != printed) std::abort();
    (void)ToJsonLine(parsed);
    Notification n = parsed.notification;
    n.continues = flags & 16;
    world.Apply(n, parsed.timestamp, &out);
    if (out.size() > (1u << 20)) out.clear();
  }
  StatusOptions so;
  so.verbose = flags >> 6;
  so.statistics = flags & 32;
  so.columns = 20 + (flags & 63);
  (void)FormatStatus(world.Snapshot(), so);
  (void)FormatStatusJson(world.Snapshot());
  return 0;
}
