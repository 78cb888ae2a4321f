// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: drbd.conf text → parser → post-processing → validation →
// dump, all in memory. The input is read as `drbdadm -c -` reads standard
// input. A FatalConfigError is a normal rejection; anything else escaping,
// a crash, a hang or a sanitizer report is a bug.
//
// Built with clang when DRBD_FUZZ=ON (tests/fuzz/run_fuzz.sh); with any
// compiler it is also linked into config_parser_fuzz_replay, which runs the
// seed corpus through the same function (ctest label "fuzz").
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "lib/config/ast.h"
#include "lib/config/diag.h"
#include "lib/config/dump.h"
#include "lib/config/parser.h"
#include "lib/config/postparse.h"

namespace {

void RunOne(const std::string& text, bool dry_run) {
  std::istringstream in(text);
  std::ostringstream sink;
  drbd::cfg::DiagSink diag(sink, drbd::cfg::DiagStyle::kDrbdUtils);
  drbd::cfg::Config cfg;
  drbd::cfg::ParseRequest req;
  req.config_file = "-";
  req.stdin_stream = &in;
  drbd::cfg::PostParseOptions pp;
  pp.hostname = "alpha";
  pp.dry_run = dry_run;
  pp.no_tty = true;
  try {
    drbd::cfg::ParseConfig(req, cfg, diag);
    drbd::cfg::PostParse(cfg, pp, diag);
    drbd::cfg::GlobalValidate(cfg, /*expand=*/true, pp, diag);
    drbd::cfg::DumpOptions dopts;
    dopts.hostname = pp.hostname;
    dopts.dry_run = dry_run;
    dopts.err = &sink;
    std::ostringstream out;
    drbd::cfg::DumpHeader(cfg, dopts, out);
    for (const auto& res : cfg.resources) drbd::cfg::DumpResource(cfg, res, dopts, out);
    drbd::cfg::DumpXmlHeader(cfg, dopts, out);
    for (const auto& res : cfg.resources) drbd::cfg::DumpXmlResource(cfg, res, dopts, out);
    drbd::cfg::DumpXmlFooter(out);
  } catch (const drbd::cfg::FatalConfigError&) {
    // A rejected configuration: drbdadm exits with the code.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Keep single inputs small: the interesting structure fits in 64 KiB and
  // bigger inputs only slow the search down.
  if (size > 65536) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  // The first byte's low bit picks plain or -d (expanded) processing.
  RunOne(text, size > 0 && (data[0] & 1));
  return 0;
}
