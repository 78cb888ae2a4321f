// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdadm dump` and `drbdadm dump-xml`: print a Config back as drbd.conf
// text (or XML), byte-identical to drbd-utils 9.22.
//
// The printers only read the model: whatever post-processing (and, for -d /
// -v / dump-xml, expand_common) the caller ran decides what is printed.
// See docs/formats/dump.md.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "lib/config/ast.h"

namespace drbd::cfg {

struct DumpOptions {
  bool verbose = false;  // drbdadm -v: expanded volumes/connections
  bool dry_run = false;  // drbdadm -d: expanded resource options
  std::string hostname;  // for the "# resource X on HOST" comment
  // dump-xml with explicit resource names: drbd-utils prints no <config>
  // wrapper then, and the resources start at column 0 instead of being
  // indented one level inside <config>.
  bool xml_standalone = false;
  // False for an 8.4 module: hosts have no node-id (drbdadm-84's dump has
  // none), so no `node-id` line is printed.
  bool node_ids = true;
  // Where "string too long." goes when a value cannot be escaped (drbd-utils
  // then exits with 2; the printers throw FatalConfigError(kSyntax)).
  std::ostream* err = nullptr;
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

// Quotes a token so that the drbd.conf scanner reads it back unchanged
// (drbd-utils esc()): empty → `""`; anything outside [a-zA-Z0-9/._-] or longer
// than 80 characters → double-quoted with `"` and `\` backslash-escaped.
// Throws FatalConfigError(kSyntax) when the result would not fit drbd-utils'
// 1 KiB buffer (after writing "string too long.\n" to *err if err != nullptr).
std::string EscapeToken(std::string_view s, std::ostream* err = nullptr);

// drbd-utils esc_xml(): replaces ' " < > & by entities when the text holds
// one of them or a backslash; same size limit and error as EscapeToken.
std::string EscapeXml(std::string_view s, std::ostream* err = nullptr);

// One `name value;` line at nesting level `level` (4 spaces each), laid out
// as drbd-utils' printf("%*s%*s %3s;\n"): the name padded to 24 - 4*level
// columns (right-justified once that width turns positive), the value
// right-justified in 3. value is printed as given (escape it first).
std::string FormatOptionLine(int level, std::string_view name, std::string_view value);

// Whether the `stacked-timeouts` entry dump appends to res's startup options
// is printed. drbd-utils 9.22 loses it when the list came from a parsed
// `startup { }` section without options and nothing was inherited into it.
// is_common: res is the `common` section (never inherited into).
bool DumpShowsStackedTimeouts(const Resource& res, bool is_common, const DumpOptions& opts);

}  // namespace drbd::cfg
