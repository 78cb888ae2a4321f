// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup's command table and help texts. The rows are in commands.def;
// options come from the option table, so help never lists an option twice
// or misses one.
#include "drbdsetup/commands.h"

#include <fmt/format.h>

#include <array>
#include <bit>

namespace drbd::setup {
namespace {

using cfg::OptContext;
using cfg::OptionDef;
using cfg::OptType;

// Extra positional arguments, per command (commands.def DRBDSETUP_ARG rows).
struct ArgRow {
  std::string_view command;
  ExtraArg arg;
};
constexpr ArgRow kArgRows[] = {
#define DRBDSETUP_CMD(...)
#define DRBDSETUP_ARG(command, name, attr, conv) {command, {name, attr, ArgConv::conv}},
#include "drbdsetup/commands.def"
#undef DRBDSETUP_ARG
#undef DRBDSETUP_CMD
};

// The non-table option lists (drbd-utils' show/status/events/wait options).
// Keys are the short-option letters drbd-utils uses for them.
constexpr PlainOpt kShowOpts[] = {{"show-defaults", false, false, 'D'}, {"json", false, false, 'j'}};
constexpr PlainOpt kStatusOpts[] = {{"verbose", false, false, 'v'},
                                    {"statistics", false, false, 's'},
                                    {"color", true, true, 'c'},
                                    {"json", false, false, 'j'}};
constexpr PlainOpt kEventsOpts[] = {
    {"timestamps", false, false, 'T'}, {"statistics", false, false, 's'},
    {"now", false, false, 'n'},        {"poll", false, false, 'p'},
    {"full", false, false, 'f'},       {"color", true, true, 'c'},
    {"diff", true, true, 'i'},         {"rcvbuf", true, false, 0x101, true}};
constexpr PlainOpt kWaitOpts[] = {{"wfc-timeout", true, false, 't'},
                                  {"degr-wfc-timeout", true, false, 'd'},
                                  {"outdated-wfc-timeout", true, false, 'o'},
                                  {"wait-after-sb", true, true, 'w'}};

std::span<const PlainOpt> PlainOpts(ExtraOpts e) {
  switch (e) {
    case ExtraOpts::kShowOpts: return kShowOpts;
    case ExtraOpts::kStatusOpts: return kStatusOpts;
    case ExtraOpts::kEventsOpts: return kEventsOpts;
    case ExtraOpts::kWaitOpts: return kWaitOpts;
    case ExtraOpts::kNoOpts: break;
  }
  return {};
}

constexpr uint32_t Obj(auto... bits) { return (0u | ... | static_cast<uint32_t>(bits)); }

// The arguments of one command: the contiguous kArgRows run named after it.
std::span<const ExtraArg> ArgsOf(std::string_view command);

std::vector<Command> BuildCommands() {
  constexpr std::optional<OptContext> kNone;
  (void)kNone;
  std::vector<Command> cmds;
#define DRBDSETUP_ARG(...)
#define DRBDSETUP_CMD(name, objects, genl_cmd, payload, kind, opt_ctx, options, flags, summary) \
  {                                                                                           \
    using enum ObjArg;                                                                        \
    using enum OptContext;                                                                    \
    Command c{name,                                                                           \
              objects,                                                                        \
              genl_cmd,                                                                       \
              payload,                                                                        \
              CmdKind::kind,                                                                  \
              std::optional<OptContext>(opt_ctx),                                             \
              ExtraOpts::options,                                                             \
              static_cast<uint32_t>(flags),                                                   \
              summary,                                                                        \
              {},                                                                             \
              {}};                                                                            \
    cmds.push_back(c);                                                                        \
  }
  {
    using enum CmdFlag;
#include "drbdsetup/commands.def"
  }
#undef DRBDSETUP_CMD
#undef DRBDSETUP_ARG
  for (Command& c : cmds) {
    c.args = ArgsOf(c.name);
    c.plain_opts = PlainOpts(c.extra_opts);
  }
  return cmds;
}

std::span<const ExtraArg> ArgsOf(std::string_view command) {
  // Stable storage: one ExtraArg array per command, built once.
  static const auto* table = [] {
    auto* m = new std::vector<std::pair<std::string_view, std::vector<ExtraArg>>>;
    for (const ArgRow& r : kArgRows) {
      if (m->empty() || m->back().first != r.command) m->push_back({r.command, {}});
      m->back().second.push_back(r.arg);
    }
    return m;
  }();
  for (const auto& [name, args] : *table) {
    if (name == command) return args;
  }
  return {};
}

const char* ObjArgText(ObjArg a, bool xml) {
  switch (a) {
    case kResource: return xml ? "resource" : "{resource}";
    case kPeerNodeId: return xml ? "peer_node_id" : "{peer_node_id}";
    case kMinor: return xml ? "minor" : "{minor}";
    case kVolume: return xml ? "volume" : "{volume}";
    case kMyAddr: return xml ? "local_addr" : "[local:][{af}:]{local_addr}[:{port}]";
    case kPeerAddr: return xml ? "remote_addr" : "[peer:][{af}:]{remote_addr}[:{port}]";
    case kAll: return "all";
    case kMulti: break;
  }
  return "unknown argument";
}

// One option in `help` usage form ("[--ping-int=(1 ... 120)]").
std::string FieldUsage(const OptionDef& f) {
  std::string s = fmt::format("[--{}=", f.name);
  switch (f.type) {
    case OptType::kNumeric:
      s += fmt::format("({} ... {})", f.min, f.max);
      break;
    case OptType::kBoolean:
    case OptType::kFlag:
      s += "{yes|no}";
      break;
    case OptType::kEnum:
    case OptType::kEnumNoCase:
    case OptType::kEnumNum: {
      char sep = '{';
      for (const cfg::EnumValue& e : f.enums) {
        s += sep;
        s += e.name;
        sep = '|';
      }
      s += '}';
      if (f.type == OptType::kEnumNum) s += fmt::format("|({} ... {})", f.min, f.max);
      break;
    }
    case OptType::kString:
    case OptType::kAny:
      s += "<str>";
      break;
  }
  s += ']';
  return s;
}

// One option in `xml-help` form.
std::string FieldXml(const OptionDef& f) {
  switch (f.type) {
    case OptType::kNumeric: {
      std::string s = fmt::format(
          "\t<option name=\"{}\" type=\"numeric\">\n\t\t<min>{}</min>\n\t\t<max>{}</max>\n"
          "\t\t<default>{}</default>\n\t\t<unit_prefix>{}</unit_prefix>\n",
          f.name, f.min, f.max, f.def, f.scale);
      if (!f.unit.empty()) s += fmt::format("\t\t<unit>{}</unit>\n", f.unit);
      return s + "\t</option>\n";
    }
    case OptType::kBoolean:
    case OptType::kFlag:
      return fmt::format("\t<option name=\"{}\" type=\"boolean\">\n\t\t<default>{}</default>\n"
                         "\t</option>\n",
                         f.name, f.bool_def ? "yes" : "no");
    case OptType::kEnum:
    case OptType::kEnumNoCase: {
      std::string s = fmt::format("\t<option name=\"{}\" type=\"handler\">\n", f.name);
      for (const cfg::EnumValue& e : f.enums) s += fmt::format("\t\t<handler>{}</handler>\n", e.name);
      return s + "\t</option>\n";
    }
    case OptType::kEnumNum: {
      std::string s = fmt::format(
          "\t<option name=\"{}\" type=\"numeric-or-symbol\">\n\t\t<min>{}</min>\n"
          "\t\t<max>{}</max>\n\t\t<default>{}</default>\n",
          f.name, f.min, f.max, cfg::DefaultText(f));
      for (const cfg::EnumValue& e : f.enums) s += fmt::format("\t\t<symbol>{}</symbol>\n", e.name);
      return s + "\t</option>\n";
    }
    case OptType::kString:
    case OptType::kAny:
      break;
  }
  return fmt::format("\t<option name=\"{}\" type=\"string\">\n\t</option>\n", f.name);
}

bool Listed(const Command& c, const HelpStyle& style) {
  return style.include_after_922 || !c.Has(kAfter922);
}

bool Listed(const OptionDef& f, const HelpStyle& style) {
  return style.include_after_922 || !f.after_922;
}

bool Listed(const PlainOpt& o, const HelpStyle& style) {
  return style.include_after_922 || !o.after_922;
}

// Whether the object bits are alternatives for one argument ({ a | b }).
bool MoreThanOneChoice(uint32_t objects) {
  uint32_t bits = objects & ~static_cast<uint32_t>(kMulti);
  return std::popcount(bits) > 1 && !(objects & kMulti);
}

}  // namespace

std::span<const Command> AllCommands() {
  static const std::vector<Command> cmds = BuildCommands();
  return cmds;
}

const Command* FindCommand(std::string_view name) {
  for (const Command& c : AllCommands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::span<const OptionDef* const> CommandFields(const Command& cmd) {
  if (!cmd.opt_ctx) return {};
  return cfg::Context(*cmd.opt_ctx).fields;
}

std::vector<ObjArg> ObjectArgs(const Command& cmd) {
  std::vector<ObjArg> out;
  uint32_t bits = cmd.objects & ~static_cast<uint32_t>(kMulti);
  while (bits != 0) {
    uint32_t low = bits & (~bits + 1);
    out.push_back(static_cast<ObjArg>(low));
    bits &= ~low;
  }
  return out;
}

void WrapPrinter::Print(int indent, std::string_view piece) {
  int n = static_cast<int>(piece.size());
  if (col_ + n > columns_) {
    out_ += '\n';
    if (!piece.empty() && piece.front() == '\n') piece.remove_prefix(1);
    col_ = 0;
  }
  if (col_ == 0) {
    while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    out_.append(static_cast<size_t>(indent), ' ');
    col_ += indent;
  }
  out_ += piece;
  col_ += static_cast<int>(piece.size());
  size_t nl = piece.rfind('\n');
  if (nl != std::string_view::npos && nl + 1 == piece.size()) col_ = 0;
}

void WrapPrinter::PrintWords(int indent, std::string_view text) {
  do {
    bool space = false;
    if (!text.empty() && text.front() == ' ') {
      space = true;
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    }
    size_t end = text.find(' ');
    if (end == std::string_view::npos) end = text.size();
    std::string piece = space ? " " : "";
    piece += text.substr(0, end);
    Print(indent, piece);
    text.remove_prefix(end);
  } while (!text.empty());
}

namespace {

void BriefUsage(WrapPrinter& w, const Command& cmd) {
  w.Print(4, fmt::format("{} - ", cmd.name));
  w.PrintWords(8, cmd.summary);
  w.Print(4, "\n");
}

}  // namespace

std::string UsageText(const HelpStyle& style) {
  std::string out = fmt::format(
      "drbdsetup - Configure the DRBD kernel module.\n\n"
      "USAGE: {} command {{arguments}} [options]\n\nCommands:\n",
      style.progname);
  WrapPrinter w(style.columns);
  for (const Command& c : AllCommands()) {
    if (Listed(c, style)) BriefUsage(w, c);
  }
  out += w.str();
  out += "\nUse 'drbdsetup help command' for command-specific help.\n\n";
  return out;
}

std::string CommandHelp(const Command& cmd, const HelpStyle& style) {
  WrapPrinter w(style.columns);
  w.Print(0, fmt::format("{} {}", style.progname, cmd.name));
  w.Print(4, fmt::format(" - {}", cmd.summary));
  w.Print(4, "\n\n");
  w.Print(0, fmt::format("USAGE: {} {}", style.progname, cmd.name));
  bool choice = MoreThanOneChoice(cmd.objects);
  if (choice) w.Print(4, " {");
  bool first = true;
  for (ObjArg a : ObjectArgs(cmd)) {
    if (choice && !first) w.Print(4, " |");
    first = false;
    w.Print(4, fmt::format(" {}", ObjArgText(a, false)));
  }
  if (choice) w.Print(4, " }");
  for (const ExtraArg& a : cmd.args) w.Print(4, fmt::format(" {{{}}}", a.name));
  auto fields = CommandFields(cmd);
  if (!cmd.plain_opts.empty() || cmd.Has(kSetDefaults) || cmd.opt_ctx) w.Print(4, "\n");
  for (const PlainOpt& o : cmd.plain_opts) {
    if (!Listed(o, style)) continue;
    w.Print(4, fmt::format(" [--{}{}]", o.name, o.takes_arg ? "=..." : ""));
  }
  if (cmd.Has(kSetDefaults)) w.Print(4, " [--set-defaults]");
  for (const OptionDef* f : fields) {
    if (Listed(*f, style)) w.Print(4, " " + FieldUsage(*f));
  }
  w.Print(4, "\n");
  return std::move(w.str());
}

std::string CommandXmlHelp(const Command& cmd, const HelpStyle& style) {
  std::string out = fmt::format("<command name=\"{}\">\n", cmd.name);
  out += fmt::format("\t<summary>{}</summary>\n", cmd.summary);
  bool choice = MoreThanOneChoice(cmd.objects);
  const char* indent = choice ? "\t\t" : "\t";
  if (choice) out += "\t<group>\n";
  for (ObjArg a : ObjectArgs(cmd)) {
    out += fmt::format("{}<argument>{}</argument>\n", indent, ObjArgText(a, true));
  }
  if (choice) out += "\t</group>\n";
  for (const ExtraArg& a : cmd.args) out += fmt::format("\t<argument>{}</argument>\n", a.name);
  for (const PlainOpt& o : cmd.plain_opts) {
    if (!Listed(o, style)) continue;
    out += fmt::format("\t<option name=\"{}\" type=\"{}\">\n\t</option>\n", o.name,
                       o.takes_arg ? "string" : "flag");
  }
  if (cmd.Has(kSetDefaults)) out += "\t<option name=\"set-defaults\" type=\"flag\">\n\t</option>\n";
  for (const OptionDef* f : CommandFields(cmd)) {
    if (Listed(*f, style)) out += FieldXml(*f);
  }
  out += "</command>\n";
  return out;
}

}  // namespace drbd::setup
