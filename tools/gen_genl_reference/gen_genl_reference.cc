// SPDX-License-Identifier: GPL-2.0-or-later
// Writes the two views of lib/spec/genl.def that are checked in:
// docs/reference/genl.md (the DRBD 9 genl API for readers) and
// tests/golden/genl_abi.txt (one line per set, field and command with every
// number, type and flag: a diff of it is an ABI change to review).
//
//   gen_genl_reference [--abi]              print on stdout
//   gen_genl_reference [--abi] -o FILE      write FILE
//   gen_genl_reference [--abi] --check FILE exit 1 (with a hint) if FILE differs
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "lib/genl/ctrl.h"
#include "lib/genl/drbd_codes.h"
#include "lib/genl/family.h"

namespace drbd::genl {
namespace {

std::string Dialects(uint8_t d) {
  std::string s;
  if (d & k9) s += "9";
  if (d & k84) s += s.empty() ? "8.4" : ",8.4";
  return s;
}

std::string TlaList(const CmdDesc& c) {
  std::string s;
  for (const CmdTla& t : c.tlas) {
    if (!s.empty()) s += ',';
    std::string_view n = GetSet(t.set).tla_name;
    n.remove_prefix(std::string_view("DRBD_NLA_").size());
    s += fmt::format("{}{}", n, t.required ? "!" : "?");
  }
  return s.empty() ? "-" : s;
}

std::string DefaultText(const AttrDesc& a) {
  if (!(a.flags & kDef)) return "";
  if (a.type == AttrType::kStr) return "\"\"";
  return std::to_string(a.def);
}

std::string RenderAbi() {
  std::string out;
  out += "# ABI of the DRBD 9 generic-netlink family, generated from lib/spec/genl.def by\n";
  out += "# tools/gen_genl_reference --abi. Do not edit; a diff here changes the kernel ABI.\n";
  out += fmt::format("family {} version {} hdrsize {} maxattr {} group {}\n", kFamilyName,
                     kFamilyVersion, kUserHdrSize, MaxTla(), kEventsGroup);
  out += "# set TLA NAME struct dialects\n";
  out += "# attr TLA.NR field type max_len flags default\n";
  for (const SetDesc& s : AllSets()) {
    out += fmt::format("set {} {} {} {}\n", s.tla, s.tla_name, s.struct_name, Dialects(s.dialects));
    for (const AttrDesc& a : s.attrs) {
      std::string flags = AttrFlagLetters(a.flags);
      std::string def = DefaultText(a);
      out += fmt::format("attr {}.{} {} {} {} {} {}\n", s.tla, a.nr, a.name, AttrTypeName(a.type),
                         a.max_len, flags.empty() ? "-" : flags, def.empty() ? "-" : def);
    }
  }
  out += "# cmd NR NAME kind prepare tlas(!=required ?=optional) dialects\n";
  for (const CmdDesc& c : AllCmds()) {
    out += fmt::format("cmd {} {} {} {} {} {}\n", c.nr, c.name, CmdKindName(c.kind), PrepareFlagsText(c.prep),
                       TlaList(c), Dialects(c.dialects));
  }
  return out;
}

std::string Escape(std::string_view s) {
  std::string r;
  for (char c : s) {
    if (c == '\n')
      r += "\\n";
    else if (c == '\t')
      r += "\\t";
    else if (c == '|')
      r += "\\|";
    else
      r += c;
  }
  return r;
}

std::string RenderReference() {
  std::ostringstream o;
  o << "<!-- Generated from lib/spec/genl.def and lib/spec/drbd_codes.def by "
       "tools/gen_genl_reference; do not edit. -->\n";
  o << "# DRBD generic-netlink API reference\n\n";
  o << fmt::format(
      "Family `{}`, version {}, user header `drbd_genlmsghdr` ({} bytes), maxattr {}, multicast "
      "group `{}`. Message layout and conventions: "
      "[docs/formats/genl.md](../formats/genl.md).\n\n",
      kFamilyName, kFamilyVersion, kUserHdrSize, MaxTla(), kEventsGroup);
  o << "Flags: R required, I invariant (create only), S sensitive (hidden from unprivileged "
       "readers), M carried the mandatory bit 0x4000 until 2026-04 (drbd-utils 9.22 still sets "
       "it). Dialects: 9 = DRBD 9 (genl version 2), 8.4 = mainline (version 1).\n\n";
  o << "## Commands\n\n";
  o << "| # | name | kind | kernel needs | TLAs (! required, ? optional) | dialects |\n";
  o << "|---|---|---|---|---|---|\n";
  for (const CmdDesc& c : AllCmds()) {
    o << fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", c.nr, c.name, CmdKindName(c.kind),
                     PrepareFlagsText(c.prep), TlaList(c), Dialects(c.dialects));
  }
  o << "\n## Attribute sets\n";
  for (const SetDesc& s : AllSets()) {
    o << fmt::format("\n### {} `{}` (`{}`, dialects {})\n\n", s.tla, s.tla_name, s.struct_name,
                     Dialects(s.dialects));
    o << "| # | field | type | max len | flags | default |\n|---|---|---|---|---|---|\n";
    for (const AttrDesc& a : s.attrs) {
      o << fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", a.nr, a.name, AttrTypeName(a.type),
                       a.max_len ? std::to_string(a.max_len) : "", AttrFlagLetters(a.flags),
                       DefaultText(a));
    }
  }
  o << "\n## Reply codes (`drbd_genlmsghdr.ret_code`)\n\n";
  o << "Texts are what drbdsetup 9.22 prints (`\\n` = line break).\n\n";
  o << "| code | name | text |\n|---|---|---|\n";
  for (int32_t rc = 100; rc <= 176; ++rc) {
    std::string_view name = RetCodeName(rc);
    o << fmt::format("| {} | {} | {} |\n", rc, name.empty() ? "(retired)" : fmt::format("`{}`", name),
                     Escape(RetCodeText(rc)));
  }
  for (int32_t rv = 4; rv >= -29; --rv) {
    std::string_view name = StateRvName(rv);
    if (name.empty()) continue;
    o << fmt::format("| {} | `{}` | {} |\n", rv, name, rv < 0 ? Escape(StateRvText(rv)) : "");
  }
  return o.str();
}

}  // namespace
}  // namespace drbd::genl

int main(int argc, char** argv) {
  int i = 1;
  bool abi = false;
  if (i < argc && std::string_view(argv[i]) == "--abi") {
    abi = true;
    ++i;
  }
  const std::string text = abi ? drbd::genl::RenderAbi() : drbd::genl::RenderReference();
  if (i == argc) {
    std::cout << text;
    return 0;
  }
  if (i + 2 == argc && std::string_view(argv[i]) == "-o") {
    std::ofstream f(argv[i + 1], std::ios::binary);
    f << text;
    return f.good() ? 0 : 1;
  }
  if (i + 2 == argc && std::string_view(argv[i]) == "--check") {
    std::ifstream f(argv[i + 1], std::ios::binary);
    const std::string have((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (have == text) return 0;
    std::cerr << argv[i + 1] << " is out of date; regenerate it with: gen_genl_reference"
              << (abi ? " --abi" : "") << " -o " << argv[i + 1] << "\n";
    return 1;
  }
  std::cerr << "usage: gen_genl_reference [--abi] [-o FILE | --check FILE]\n";
  return 2;
}
