// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdadm dump` and `drbdadm dump-xml`: print a Config back as drbd.conf
// text (or XML), byte-identical to drbd-utils 9.22.
#pragma once

#include <ostream>
#include <string>

#include "lib/config/ast.h"

namespace drbd::cfg {

struct DumpOptions {
  bool verbose = false;  // drbdadm -v: expanded volumes/connections
  bool dry_run = false;  // drbdadm -d: expanded resource options
  std::string hostname;  // for the "# resource X on HOST" comment
};

// The header printed once before `dump all` (`# /etc/drbd.conf`, global, common).
void DumpHeader(const Config& cfg, const DumpOptions& opts, std::ostream& out);
// One resource (with its `# resource ... on ...` comment lines).
void DumpResource(const Config& cfg, const Resource& res, const DumpOptions& opts,
                  std::ostream& out);

void DumpXmlHeader(const Config& cfg, const DumpOptions& opts, std::ostream& out);
void DumpXmlResource(const Config& cfg, const Resource& res, const DumpOptions& opts,
                     std::ostream& out);
void DumpXmlFooter(std::ostream& out);  // "</config>\n"

}  // namespace drbd::cfg
