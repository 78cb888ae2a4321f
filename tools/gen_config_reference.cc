// SPDX-License-Identifier: GPL-2.0-or-later
// Writes docs/reference/config.md from the option table (lib/spec/options.def
// through lib/config/options.h): every drbd.conf section and drbdsetup
// command context with each option's type, range, default, unit and doc.
//
//   gen_config_reference            print the reference on stdout
//   gen_config_reference -o FILE    write it to FILE
//   gen_config_reference --check FILE
//                                   exit 1 (with a hint) if FILE differs
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include "lib/config/options.h"

namespace drbd::cfg {
namespace {

struct Section {
  std::string_view title;
  std::string_view intro;
  OptContext ctx;
};

// drbd.conf sections first, then the command contexts.
constexpr Section kConfigSections[] = {
    {"`global { }`", "Parsed by keyword; only in the first `global` section, before any resource.",
     OptContext::kGlobal},
    {"`options { }` (resource options; drbdsetup `new-resource`, `resource-options`)",
     "Also allowed as `on HOST { options { } }`.", OptContext::kResourceOptions},
    {"`net { }` (drbdsetup `new-peer`, `net-options`)",
     "In `common`, `resource`, `connection` and `connection-mesh`. `_name` is set by drbdadm.",
     OptContext::kShowNetOptions},
    {"`disk { }`: disk options (drbdsetup `attach`, `disk-options`)",
     "In `common`, `resource`, `volume` and host sections. `size` is for `attach` only "
     "(drbdsetup `disk-options` does not take it).",
     OptContext::kAttach},
    {"`disk { }`: peer-device options (drbdsetup `peer-device-options`)",
     "Accepted in any `disk { }` section; in a `connection` (or its `volume N`) they apply to "
     "that peer only.",
     OptContext::kPeerDeviceOptions},
    {"`startup { }`",
     "Used by drbdadm `wait-connect` and the boot-time wait. Also accepted: "
     "`stacked-timeouts;` (a stacked resource uses these timeouts instead of twice connect-int) "
     "and "
     "`become-primary-on ...;` (ignored).",
     OptContext::kStartup},
    {"`handlers { }`", "Shell commands run by drbdadm when the kernel calls the helper.",
     OptContext::kHandlers},
    {"`proxy { }`", "Passed to `drbd-proxy-ctl`; `plugin { }` lines are passed verbatim.",
     OptContext::kProxy},
};

constexpr Section kCommandSections[] = {
    {"`new-peer`", "", OptContext::kNewPeer},
    {"`net-options`", "", OptContext::kNetOptions},
    {"`disk-options`", "", OptContext::kDiskOptions},
    {"`new-minor`", "", OptContext::kNewMinor},
    {"`connect`", "", OptContext::kConnect},
    {"`disconnect`, `del-peer`", "", OptContext::kDisconnect},
    {"`detach`", "", OptContext::kDetach},
    {"`primary`", "", OptContext::kPrimary},
    {"`secondary`", "", OptContext::kSecondary},
    {"`resize`", "", OptContext::kResize},
    {"`new-current-uuid`", "", OptContext::kNewCurrentUuid},
    {"`verify`", "", OptContext::kVerify},
    {"`invalidate` (drbdsetup)", "", OptContext::kInvalidate},
    {"`invalidate` (drbdadm)", "", OptContext::kInvalidateAdm},
    {"`invalidate-remote`", "", OptContext::kInvalidatePeer},
    {"`create-md` (drbdadm)", "Passed to drbdmeta.", OptContext::kCreateMd},
    {"`adjust` (drbdadm)", "", OptContext::kAdjust},
    {"commands taking only `--force` (drbdadm)", "", OptContext::kForceable},
};

std::string Number(const OptionDef& o, int64_t v) {
  return o.is_signed ? std::to_string(v) : std::to_string(static_cast<uint64_t>(v));
}

std::string TypeText(const OptionDef& o) {
  switch (o.type) {
    case OptType::kBoolean:
      return "yes \\| no";
    case OptType::kFlag:
      return "flag";
    case OptType::kNumeric:
      if (o.scale == 'k') return "number (KiB)";
      if (o.scale == 's') return "number (sectors)";
      return "number";
    case OptType::kEnum:
    case OptType::kEnumNoCase:
    case OptType::kEnumNum: {
      std::string s;
      for (const EnumValue& e : o.enums) {
        if (!s.empty()) s += " \\| ";
        s += e.name;
      }
      if (o.type == OptType::kEnumNoCase) s += " (any case)";
      if (o.type == OptType::kEnumNum) s += " \\| number";
      return s;
    }
    case OptType::kString:
      return o.max_len ? "string (≤ " + std::to_string(o.max_len - 1) + " chars)" : "string";
    case OptType::kAny:
      return "value";
  }
  return "";
}

std::string RangeText(const OptionDef& o) {
  if (o.type == OptType::kEnumNum) return std::to_string(o.min) + "..." + std::to_string(o.max);
  if (o.type != OptType::kNumeric) return "";
  std::string hi = (!o.is_signed && o.max == -1) ? "unlimited" : Number(o, o.max);
  std::string s = Number(o, o.min) + "..." + hi;
  if (o.implicit_clamp) s += " (clamped)";
  return s;
}

std::string DefaultCell(const OptionDef& o) {
  if (!o.has_default || o.type == OptType::kAny) return "";
  const std::string d = DefaultText(o);
  return d.empty() ? "" : "`" + d + "`";
}

void WriteTable(std::ostream& out, const Section& s) {
  const ContextDef& ctx = Context(s.ctx);
  out << "### " << s.title << "\n\n";
  if (!s.intro.empty()) out << s.intro << "\n\n";
  if (ctx.fields.empty()) {
    out << "No options.\n\n";
    return;
  }
  out << "| Option | Type | Range | Default | Unit | genl | Description |\n"
      << "|---|---|---|---|---|---|---|\n";
  for (const OptionDef* o : ctx.fields) {
    out << "| `" << o->name << "` | " << TypeText(*o) << " | " << RangeText(*o) << " | "
        << DefaultCell(*o) << " | " << o->unit << " | "
        << (o->genl_attr >= 0 && s.ctx != OptContext::kProxy ? std::to_string(o->genl_attr) : "")
        << " | " << o->doc << " |\n";
  }
  out << "\n";
}

std::string Render() {
  std::ostringstream out;
  out << "<!-- Generated by tools/gen_config_reference from lib/spec/options.def. "
         "Do not edit. -->\n"
      << "# drbd.conf option reference\n\n"
      << "The options drbdadm accepts in each configuration section, and the options of the\n"
      << "drbdsetup/drbdadm commands that take them, as in drbd-utils 9.22. Options are listed\n"
      << "in drbd-utils' order.\n\n"
      << "* Numbers take an optional one-letter suffix `K`, `M`, `G` (binary multiples of\n"
      << "  bytes) or `s` (512-byte sectors), converted to the option's own unit: a plain\n"
      << "  number counts KiB for \"number (KiB)\" and sectors for \"number (sectors)\"; a\n"
      << "  value with a smaller suffix is rounded up to whole units.\n"
      << "* Booleans may be written `name;` (yes) or `no-name;` (no).\n"
      << "* Ranges are checked when the file is parsed; `al-extents` is clamped by the kernel\n"
      << "  instead, and `resync-after` (a resource name, `res/vol`) is resolved later.\n"
      << "* \"genl\" is the attribute number inside the option's netlink structure.\n\n"
      << "## Configuration sections\n\n";
  for (const Section& s : kConfigSections) WriteTable(out, s);
  out << "## Command options\n\n"
      << "Options of drbdsetup commands, which drbdadm also accepts after `--` on its command "
         "line,\n"
      << "and options drbdadm takes itself.\n\n";
  for (const Section& s : kCommandSections) WriteTable(out, s);
  return out.str();
}

}  // namespace
}  // namespace drbd::cfg

int main(int argc, char** argv) {
  const std::string text = drbd::cfg::Render();
  if (argc == 1) {
    std::cout << text;
    return 0;
  }
  if (argc == 3 && std::string_view(argv[1]) == "-o") {
    std::ofstream f(argv[2], std::ios::binary);
    f << text;
    return f.good() ? 0 : 1;
  }
  if (argc == 3 && std::string_view(argv[1]) == "--check") {
    std::ifstream f(argv[2], std::ios::binary);
    const std::string have((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (have == text) return 0;
    std::cerr << argv[2] << " is out of date; regenerate it with: gen_config_reference -o "
              << argv[2] << "\n";
    return 1;
  }
  std::cerr << "usage: gen_config_reference [-o FILE | --check FILE]\n";
  return 2;
}
