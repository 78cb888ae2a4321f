// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup command-line parsing (see cli.h). Messages and exit codes are
// drbd-utils' (user/v9/drbdsetup.c, config_flags.c): scripts rely on them.
#include "drbdsetup/cli.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <sstream>
#include <variant>

#include "lib/base/getopt.h"

namespace drbd::setup {
namespace {

using cfg::OptionDef;
using cfg::OptType;

constexpr int kExit = 20;  // drbdsetup's exit code for usage and argument errors

CliExit UsageExit(const CliEnv& env, std::string_view addinfo, std::string err = {}) {
  HelpStyle style;
  style.columns = env.columns;
  CliExit e{kExit, UsageText(style), std::move(err)};
  if (!addinfo.empty()) e.out += "\n" + std::string(addinfo) + "\n";
  return e;
}

std::string FullUsage(const Command& cmd, const CliEnv& env) {
  HelpStyle style;
  style.columns = env.columns;
  return CommandHelp(cmd, style);
}

// The long options of a command, in drbd-utils' order: the table fields
// (their index is the field index), the plain options, the --force and
// --tentative aliases, and --set-defaults.
struct OptionSet {
  std::vector<LongOpt> longopts;
  std::vector<ShortOpt> shortopts;
  std::vector<const OptionDef*> field_of;  // per longopt: the field, or nullptr
  std::vector<const PlainOpt*> plain_of;   // per longopt: the plain option, or nullptr
};

constexpr int kFieldVal = 0;
constexpr int kSetDefaultsVal = '(';

OptionSet MakeOptions(const Command& cmd) {
  OptionSet s;
  auto add = [&](LongOpt o, const OptionDef* f, const PlainOpt* p) {
    s.longopts.push_back(std::move(o));
    s.field_of.push_back(f);
    s.plain_of.push_back(p);
  };
  const OptionDef* force = nullptr;
  const OptionDef* tentative = nullptr;
  for (const OptionDef* f : CommandFields(cmd)) {
    add({std::string(f->name), f->argument_is_optional ? ArgKind::kOptional : ArgKind::kRequired,
         kFieldVal},
        f, nullptr);
    if (cmd.name == "primary" && f->name == "force") force = f;
    if (cmd.name == "connect" && f->name == "tentative") tentative = f;
  }
  for (const PlainOpt& p : cmd.plain_opts) {
    ArgKind k = !p.takes_arg ? ArgKind::kNone
                : p.optional_arg ? ArgKind::kOptional
                                 : ArgKind::kRequired;
    add({std::string(p.name), k, p.key}, nullptr, &p);
    if (p.key > 0 && p.key < 0x100) s.shortopts.push_back({static_cast<char>(p.key), k});
  }
  // Old spellings drbd-utils keeps as aliases.
  if (force != nullptr) {
    add({"overwrite-data-of-peer", ArgKind::kOptional, kFieldVal}, force, nullptr);
  }
  if (tentative != nullptr) add({"dry-run", ArgKind::kOptional, kFieldVal}, tentative, nullptr);
  if (cmd.Has(kSetDefaults)) {
    add({"set-defaults", ArgKind::kNone, kSetDefaultsVal}, nullptr, nullptr);
    s.shortopts.push_back({static_cast<char>(kSetDefaultsVal), ArgKind::kNone});
  }
  return s;
}

int EnumValueOf(const OptionDef& f, std::string_view word, bool nocase) {
  for (const cfg::EnumValue& e : f.enums) {
    if (e.name.size() != word.size()) continue;
    bool eq = nocase ? strncasecmp(e.name.data(), word.data(), word.size()) == 0 : e.name == word;
    if (eq) return e.value;
  }
  return -1;
}

// drbd-utils' field put(): false if the value does not convert. Numbers go
// through m_strtoll, which exits the program on garbage (*exit set).
bool ConvertField(const OptionDef& f, const std::optional<std::string>& arg, FieldValue* out,
                  std::optional<CliExit>* exit) {
  out->field = &f;
  out->text = arg.value_or("");
  switch (f.type) {
    case OptType::kBoolean:
    case OptType::kFlag:
      if (!arg || *arg == "yes") {
        out->number = 1;
      } else if (*arg == "no") {
        out->number = 0;
      } else {
        return false;
      }
      return true;
    case OptType::kNumeric: {
      auto r = MStrtoll(out->text, f.scale);
      if (auto* e = std::get_if<CliExit>(&r)) {
        *exit = std::move(*e);
        return true;
      }
      out->number = std::get<uint64_t>(r);
      return true;
    }
    case OptType::kEnum:
    case OptType::kEnumNoCase: {
      int v = EnumValueOf(f, out->text, f.type == OptType::kEnumNoCase);
      if (v < 0) return false;
      out->number = static_cast<uint64_t>(v);
      return true;
    }
    case OptType::kEnumNum: {
      int v = EnumValueOf(f, out->text, false);
      if (v >= 0) {
        out->number = static_cast<uint64_t>(v);
        return true;
      }
      uint64_t n = 0;
      if (cfg::NewStrtoll(out->text, '1', &n) != cfg::StrtollErr::kOk) return false;
      if (n < static_cast<uint64_t>(f.min) || n > static_cast<uint64_t>(f.max)) return false;
      out->number = n;
      return true;
    }
    case OptType::kString:
    case OptType::kAny:
      return true;
  }
  return false;
}

bool OnlyDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// drbd-utils dt_minor_of_dev() for names that need no device node: "N" and
// "/dev/drbdN". UINT32_MAX if the minor cannot be determined.
uint32_t MinorOfDev(std::string_view dev) {
  if (dev.starts_with("/dev/drbd") && OnlyDigits(dev.substr(9))) dev.remove_prefix(9);
  if (!OnlyDigits(dev) || dev.size() > 9) return UINT32_MAX;
  return static_cast<uint32_t>(std::stoul(std::string(dev)));
}

}  // namespace

bool Invocation::Has(char key) const {
  for (const auto& [p, arg] : plain) {
    if (p->key == key) return true;
  }
  return false;
}

std::optional<std::string> Invocation::Plain(int key) const {
  std::optional<std::string> v;
  for (const auto& [p, arg] : plain) {
    if (p->key == key) v = arg;  // the last one wins, as with getopt loops
  }
  return v;
}

std::variant<uint64_t, CliExit> MStrtoll(std::string_view text, char scale) {
  uint64_t n = 0;
  switch (cfg::NewStrtoll(text, scale, &n)) {
    case cfg::StrtollErr::kOk:
      return n;
    case cfg::StrtollErr::kMissingNumber:
      return CliExit{100, "", "missing number argument\n"};
    case cfg::StrtollErr::kOutOfRange:
      return CliExit{kExit, "", std::string(text) + ": out of range\n"};
    case cfg::StrtollErr::kDefaultUnit:
      return CliExit{100, "", "unexpected default unit: " + std::to_string(scale) + "\n"};
    case cfg::StrtollErr::kInvalidNumber:
    case cfg::StrtollErr::kInvalidUnit:
      break;
  }
  return CliExit{kExit, "", std::string(text) + " is not a valid number\n"};
}

namespace {

// getaddrinfo() for a stream socket of family `af`: 0 (*res to be freed with
// freeaddrinfo) or the EAI_* code.
int ResolveStream(const std::string& host, int af, addrinfo** res) {
  addrinfo hints{};
  hints.ai_family = af;
  hints.ai_socktype = SOCK_STREAM;
  return getaddrinfo(host.c_str(), nullptr, &hints, res);
}

}  // namespace

std::variant<std::string, CliExit> SockaddrFromString(std::string_view text) {
  int af = AF_INET;
  std::string_view addr = text;
  if (addr.starts_with("ipv4:")) {
    addr.remove_prefix(5);
  } else if (addr.starts_with("ipv6:")) {
    af = AF_INET6;
    addr.remove_prefix(5);
  } else if (addr.starts_with("sdp:") || addr.starts_with("ssocks:")) {
    return CliExit{kExit, "", "address family of '" + std::string(text) +
                                  "' is not supported by drbd-cp (only ipv4 and ipv6)\n"};
  }
  std::string host;
  uint64_t port = 7788;
  std::string err;
  if (af == AF_INET6 && addr.starts_with('[')) {
    size_t b = addr.rfind(']');
    if (b == std::string_view::npos || (b + 1 < addr.size() && addr[b + 1] != ':')) {
      return CliExit{kExit, "", "unexpected ipv6 format: " + std::string(addr) + "\n"};
    }
    host = std::string(addr.substr(1, b - 1));
    if (b + 1 < addr.size()) {
      auto r = MStrtoll(addr.substr(b + 2), '1');
      if (auto* e = std::get_if<CliExit>(&r)) return std::move(*e);
      port = std::get<uint64_t>(r);
    }
  } else {
    size_t colon = addr.rfind(':');
    if (colon != std::string_view::npos) {
      if (af == AF_INET6) {
        err = "interpreting ipv6:" + std::string(addr.substr(0, colon)) + ":" +
              std::string(addr.substr(colon + 1)) + " as ipv6:[" +
              std::string(addr.substr(0, colon)) + "]:" + std::string(addr.substr(colon + 1)) +
              "\n";
      }
      auto r = MStrtoll(addr.substr(colon + 1), '1');
      if (auto* e = std::get_if<CliExit>(&r)) return std::move(*e);
      port = std::get<uint64_t>(r);
      addr = addr.substr(0, colon);
    }
    host = std::string(addr);
  }
  std::string out;
  if (af == AF_INET6) {
    sockaddr_in6 sin6{};
    addrinfo* res = nullptr;
    int rc = ResolveStream(host, AF_INET6, &res);
    if (rc != 0) {
      return CliExit{kExit, "", err + "getaddrinfo " + host + ": " + gai_strerror(rc) + "\n"};
    }
    std::memcpy(&sin6, res->ai_addr, sizeof sin6);
    freeaddrinfo(res);
    sin6.sin6_port = htons(static_cast<uint16_t>(port));
    out.assign(reinterpret_cast<const char*>(&sin6), sizeof sin6);
  } else {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) {
      addrinfo* res = nullptr;
      int rc = ResolveStream(host, AF_INET, &res);
      if (rc != 0) {
        return CliExit{kExit, "", "can not resolve the hostname: " + host + ": " +
                                      gai_strerror(rc) + "\n"};
      }
      sin.sin_addr = reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr;
      freeaddrinfo(res);
    }
    out.assign(reinterpret_cast<const char*>(&sin), sizeof sin);
  }
  return out;
}

std::variant<Invocation, CliExit> ParseCommand(const std::vector<std::string>& argv_in,
                                               const CliEnv& env) {
  std::vector<std::string> argv = argv_in;
  if (argv.size() > 1 && (argv[1] == "--help" || argv[1] == "-h")) std::swap(argv[0], argv[1]);
  if (!argv.empty() &&
      (argv[0] == "help" || argv[0] == "xml-help" || argv[0] == "--help" || argv[0] == "-h")) {
    if (argv.size() > 1) {
      const Command* cmd = FindCommand(argv[1]);
      if (cmd == nullptr) return UsageExit(env, "unknown command");
      HelpStyle style;
      style.columns = env.columns;
      return CliExit{0, argv[0] == "xml-help" ? CommandXmlHelp(*cmd, style)
                                              : CommandHelp(*cmd, style),
                     ""};
    }
    return UsageExit(env, "");
  }
  // The old order "drbdsetup OBJECT COMMAND ..." is still accepted.
  if (argv.size() >= 2 && FindCommand(argv[0]) == nullptr && FindCommand(argv[1]) != nullptr) {
    std::swap(argv[0], argv[1]);
  }
  if (argv.empty()) return UsageExit(env, "");
  const Command* cmd = FindCommand(argv[0]);
  if (cmd == nullptr) return UsageExit(env, "invalid command");
  Invocation inv;
  inv.cmd = cmd;
  inv.args = std::move(argv);
  return inv;
}

std::optional<CliExit> ParseOptions(Invocation& inv, const std::vector<std::string>& argv,
                                    const CliEnv& env) {
  const Command& cmd = *inv.cmd;
  OptionSet set = MakeOptions(cmd);
  std::optional<CliExit> exit;
  std::vector<std::string> operands;
  std::ostringstream err;
  auto on_option = [&](const GetoptEvent& ev) -> bool {
    size_t idx = ev.long_index >= 0 ? static_cast<size_t>(ev.long_index) : SIZE_MAX;
    if (idx == SIZE_MAX) {  // a short option: find its long twin
      for (size_t i = 0; i < set.longopts.size(); ++i) {
        if (set.longopts[i].val == ev.val) idx = i;
      }
    }
    if (idx == SIZE_MAX) return false;
    if (ev.val == kSetDefaultsVal) {
      inv.set_defaults = true;
      return true;
    }
    std::optional<std::string> arg;
    if (ev.has_arg) arg = ev.arg;
    if (const PlainOpt* p = set.plain_of[idx]) {
      inv.plain.emplace_back(p, arg);
      return true;
    }
    const OptionDef* f = set.field_of[idx];
    FieldValue v;
    if (!ConvertField(*f, arg, &v, &exit)) {
      exit = CliExit{kExit, "",
                     "Option --" + std::string(f->name) + ": invalid argument '" +
                         arg.value_or("") + "'\n"};
      return false;
    }
    if (exit) return false;
    inv.fields.push_back(std::move(v));
    return true;
  };
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  bool ok = GnuGetoptLong(args, cmd.name, set.shortopts, set.longopts, on_option, &operands, err);
  if (exit) return exit;
  if (!ok) return UsageExit(env, "", err.str());
  inv.args = std::move(operands);
  return std::nullopt;
}

std::optional<CliExit> ParseObjects(Invocation& inv, const CliEnv& env) {
  const Command& cmd = *inv.cmd;
  std::vector<ObjArg> objs = ObjectArgs(cmd);
  bool multi = (cmd.objects & kMulti) != 0;
  size_t optind = 0;
  bool have_objname = false;
  // Without kMulti the bits are alternatives for ONE argument.
  std::vector<uint32_t> slots;
  if (multi) {
    for (ObjArg a : objs) slots.push_back(a);
  } else if (!objs.empty()) {
    slots.push_back(cmd.objects);
  }
  for (size_t s = 0; s < slots.size(); ++s, ++optind) {
    uint32_t next = slots[s];
    if (optind == inv.args.size() && !multi && (next & kAll)) {
      inv.context |= kAll;
      inv.objname = "all";
      break;
    }
    if (optind >= inv.args.size()) {
      return CliExit{kExit, FullUsage(cmd, env),
                     "Missing argument " + std::to_string(optind + 1) + " to command\n"};
    }
    const std::string& a = inv.args[optind];
    if (next & (kResource | kMinor | kAll)) {
      if (a.empty()) return CliExit{1, "", "Resource name is empty.\n"};
      for (unsigned char c : a) {
        if (c < ' ' || c == 0x7f) {
          return CliExit{1, "",
                         "Resource name is invalid - please don't use control characters.\n"};
        }
      }
      if (!have_objname) {
        inv.objname = a;
        have_objname = true;
      }
      if (a == "all") {
        if (!(next & kAll)) return UsageExit(env, "command does not accept argument 'all'");
        inv.context |= kAll;
      } else if (next & kMinor) {
        inv.minor = MinorOfDev(a);
        if (inv.minor == UINT32_MAX && next == kMinor) {
          return CliExit{kExit, "",
                         "Cannot determine minor device number of device '" + a + "'\n"};
        }
        inv.context |= kMinor;
      } else {
        if (!(next & kResource)) {
          return CliExit{kExit, FullUsage(cmd, env),
                         "command does not accept argument '" + inv.objname + "'\n"};
        }
        inv.context |= kResource;
        inv.resource = a;
      }
    } else if (next == kVolume || next == kPeerNodeId) {
      auto r = MStrtoll(a, '1');
      if (auto* e = std::get_if<CliExit>(&r)) return std::move(*e);
      uint32_t v = static_cast<uint32_t>(std::get<uint64_t>(r));
      (next == kVolume ? inv.volume : inv.peer_node_id) = v;
      inv.context |= next;
    }
  }
  inv.args.erase(inv.args.begin(),
                 inv.args.begin() + static_cast<std::ptrdiff_t>(std::min(optind, inv.args.size())));
  return std::nullopt;
}

std::optional<CliExit> ParseExtraArgs(Invocation& inv, const CliEnv& env) {
  size_t i = 0;
  for (const ExtraArg& a : inv.cmd->args) {
    if (i >= inv.args.size()) {
      return CliExit{kExit, FullUsage(*inv.cmd, env),
                     "Missing argument '" + std::string(a.name) + "'\n"};
    }
    const std::string& text = inv.args[i++];
    ArgValue v;
    v.arg = &a;
    v.text = text;
    switch (a.conv) {
      case ArgConv::kBlockDev:
      case ArgConv::kString:
        break;
      case ArgConv::kMdIndex:
        if (text == "internal") {
          v.number = static_cast<uint32_t>(-1);
        } else if (text == "flexible") {
          v.number = static_cast<uint32_t>(-2);
        } else {
          auto r = MStrtoll(text, '1');
          if (auto* e = std::get_if<CliExit>(&r)) return std::move(*e);
          v.number = static_cast<uint32_t>(std::get<uint64_t>(r));
        }
        break;
      case ArgConv::kU32: {
        auto r = MStrtoll(text, '1');
        if (auto* e = std::get_if<CliExit>(&r)) return std::move(*e);
        v.number = static_cast<uint32_t>(std::get<uint64_t>(r));
        break;
      }
      case ArgConv::kAddress: {
        std::string_view t = text;
        if (t.starts_with("local:")) {
          t.remove_prefix(6);
        } else if (t.starts_with("peer:")) {
          t.remove_prefix(5);
        }
        auto r = SockaddrFromString(t);
        if (auto* e = std::get_if<CliExit>(&r)) return std::move(*e);
        v.sockaddr = std::get<std::string>(r);
        break;
      }
    }
    inv.extra.push_back(std::move(v));
  }
  return RejectExcessArgs(inv, i);
}

std::optional<CliExit> RejectExcessArgs(const Invocation& inv, size_t from) {
  if (from >= inv.args.size()) return std::nullopt;
  std::string msg = "Excess arguments:";
  for (size_t i = from; i < inv.args.size(); ++i) msg += " " + inv.args[i];
  return CliExit{kExit, "", msg + "\n"};
}

}  // namespace drbd::setup
