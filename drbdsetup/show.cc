// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup show` printing (see show.h).
#include "drbdsetup/show.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cstring>

namespace drbd::setup {
namespace {

using cfg::OptContext;
using cfg::OptionDef;
using cfg::OptType;

// Output with drbd-utils' 4-space indentation levels.
class Printer {
 public:
  void Line(std::string_view text) {  // indented text (the caller adds '\n')
    out_.append(4 * static_cast<size_t>(indent_), ' ');
    out_ += text;
  }
  void Raw(std::string_view text) { out_ += text; }
  void In() { ++indent_; }
  void Out() { --indent_; }
  std::string& str() { return out_; }

 private:
  int indent_ = 0;
  std::string out_;
};

const FieldValue* Find(const OptionValues& values, const OptionDef* f) {
  for (const FieldValue& v : values) {
    if (v.field == f) return &v;
  }
  return nullptr;
}

// Whether field f's value is shown: present and not the default, or
// defaults asked for. A field the kernel did not report is always shown.
bool Shown(const OptionValues& values, const OptionDef* f, bool show_defaults,
           const FieldValue** v, std::string* text, bool* is_default) {
  *v = Find(values, f);
  *is_default = false;
  if (*v != nullptr) {
    *text = FieldText(**v);
    *is_default = cfg::IsDefault(*f, *text);
  }
  return !*is_default || show_defaults;
}

std::span<const OptionDef* const> Fields(OptContext ctx) { return cfg::Context(ctx).fields; }

bool OptionsEmpty(const std::optional<OptionValues>& values, OptContext ctx, bool show_defaults) {
  if (!values) return true;
  for (const OptionDef* f : Fields(ctx)) {
    const FieldValue* v;
    std::string text;
    bool def;
    if (Shown(*values, f, show_defaults, &v, &text, &def)) return false;
  }
  return true;
}

// drbd-utils __print_options(): returns whether the section is open.
bool PrintOptions(Printer& p, const std::optional<OptionValues>& values, OptContext ctx,
                  std::string_view section, bool opened, bool close, bool show_defaults) {
  if (!values) return false;
  for (const OptionDef* f : Fields(ctx)) {
    const FieldValue* v;
    std::string text;
    bool is_default;
    if (!Shown(*values, f, show_defaults, &v, &text, &is_default)) continue;
    if (!opened) {
      opened = true;
      p.Line(fmt::format("{} {{\n", section));
      p.In();
    }
    if (v == nullptr) {
      p.Line(fmt::format("_unknown {:<14};\t# not supported by kernel\n", f->name));
      continue;
    }
    if (f->needs_double_quoting) text = DoubleQuote(text);
    p.Line(fmt::format("{:<16}\t{};", f->name, text));
    if (!f->unit.empty() || is_default) {
      p.Raw(" # ");
      p.Raw(f->unit);
      if (!f->unit.empty() && is_default) p.Raw(", ");
      if (is_default) p.Raw("default");
    }
    p.Raw("\n");
  }
  if (opened && close) {
    p.Out();
    p.Line("}\n");
  }
  return opened;
}

// drbd-utils __print_options_json().
bool PrintOptionsJson(Printer& p, const std::optional<OptionValues>& values, OptContext ctx,
                      std::string_view section, bool comma_before, bool opened, bool close) {
  if (!values) return false;
  bool first = true;
  for (const OptionDef* f : Fields(ctx)) {
    const FieldValue* v;
    std::string text;
    bool is_default;
    if (!Shown(*values, f, true, &v, &text, &is_default)) continue;
    if (v == nullptr) continue;  // not supported by the kernel
    if (first && comma_before) p.Raw(",\n");
    if (!opened) {
      opened = true;
      p.Line(fmt::format("\"{}\": {{\n", section));
      p.In();
    }
    if (!first) p.Raw(",\n");
    first = false;
    p.Line(fmt::format("\"{}\": ", f->name));
    if (f->type == OptType::kBoolean) {
      p.Raw(text == "yes" ? "true" : "false");
    } else {
      p.Raw(fmt::format("\"{}\"", text));
    }
  }
  if (opened && close) {
    p.Raw("\n");
    p.Out();
    p.Line("}");
  }
  return opened;
}

struct Sockaddr {
  sockaddr_storage ss{};
  int family = AF_UNSPEC;
};

Sockaddr ToSockaddr(const std::string& bytes) {
  Sockaddr a;
  std::memcpy(&a.ss, bytes.data(), std::min(bytes.size(), sizeof a.ss));
  if (bytes.size() >= sizeof(sa_family_t)) a.family = a.ss.ss_family;
  return a;
}

std::string Ipv6Text(const Sockaddr& a, size_t len) {
  char buf[NI_MAXHOST] = "";
  getnameinfo(reinterpret_cast<const sockaddr*>(&a.ss), static_cast<socklen_t>(len), buf,
              sizeof buf, nullptr, 0, NI_NUMERICHOST | NI_NUMERICSERV);
  return buf;
}

std::string FamilyName(int af) {
  switch (af) {
    case AF_INET: return "ipv4";
    case AF_INET6: return "ipv6";
    default: return "unknown";
  }
}

// drbd-utils address_json(): address, port and family lines.
void AddressJson(Printer& p, const std::string& bytes) {
  Sockaddr a = ToSockaddr(bytes);
  p.In();
  if (a.family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&a.ss);
    p.Line(fmt::format("\"address\": \"{}\",\n", inet_ntoa(in->sin_addr)));
    p.Line(fmt::format("\"port\": {},\n", ntohs(in->sin_port)));
  } else if (a.family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    p.Line(fmt::format("\"address\": \"{}\",\n", Ipv6Text(a, bytes.size())));
    p.Line(fmt::format("\"port\": {},\n", ntohs(in6->sin6_port)));
  }
  p.Line(fmt::format("\"family\": \"{}\"\n", FamilyName(a.family)));
  p.Out();
}

void PrintPaths(Printer& p, const ShowConnection& c, bool json) {
  if (json) p.Line("\"paths\": [\n");
  for (size_t i = 0; i < c.paths.size(); ++i) {
    const ShowPath& path = c.paths[i];
    std::string mine = AddressText(path.my_addr);
    std::string peer = AddressText(path.peer_addr);
    if (json) {
      p.In();
      p.Line("{\n");
      p.In();
      p.Line("\"this_host\": {\n");
      AddressJson(p, path.my_addr);
      p.Line("},\n");
      p.Line("\"remote_host\": {\n");
      AddressJson(p, path.peer_addr);
      p.Line("}\n");
      p.Out();
      p.Line(i + 1 < c.paths.size() ? "},\n" : "}\n");
      p.Out();
    } else {
      p.Line("path {\n");
      p.In();
      p.Line(fmt::format("_this_host {};\n", mine));
      p.Line(fmt::format("_remote_host {};\n", peer));
      p.Out();
      p.Line("}\n");
    }
  }
  if (json) p.Line("],\n");
}

void ShowVolumeText(Printer& p, const ShowVolume& v, bool show_defaults) {
  p.Line(fmt::format("volume {} {{\n", v.volume));
  p.In();
  p.Line(fmt::format("device\t\t\tminor {};\n", v.minor));
  if (!v.backing_dev.empty()) {
    p.Line(fmt::format("disk\t\t\t{};\n", DoubleQuote(v.backing_dev)));
    p.Line("meta-disk\t\t\t");
    if (v.meta_dev_idx == -1 || v.meta_dev_idx == -3) {
      p.Raw("internal;\n");
    } else if (v.meta_dev_idx == -2) {
      p.Raw(DoubleQuote(v.meta_dev) + ";\n");
    } else {
      p.Raw(fmt::format("{} [ {} ];\n", DoubleQuote(v.meta_dev), v.meta_dev_idx));
    }
  } else if (v.intentional_diskless) {
    p.Line("disk\t\t\tnone;\n");
  }
  // The disk section holds the attach options and then the device options.
  bool opened = PrintOptions(p, v.disk_conf, OptContext::kAttach, "disk", false,
                             !v.device_conf.has_value(), show_defaults);
  PrintOptions(p, v.device_conf, OptContext::kNewMinor, "disk", opened, true, show_defaults);
  p.Out();
  p.Line("}\n");
}

void ShowVolumeJson(Printer& p, const ShowVolume& v, bool last) {
  p.Line("{\n");
  p.In();
  p.Line(fmt::format("\"volume_nr\": {},\n", v.volume));
  p.Line(fmt::format("\"device_minor\": {}", v.minor));
  if (!v.backing_dev.empty()) {
    p.Raw(",\n");
    p.Line(fmt::format("\"backing-disk\": {},\n", DoubleQuote(v.backing_dev)));
    if (v.meta_dev_idx == -1 || v.meta_dev_idx == -3) {
      p.Line("\"meta-disk\": \"internal\"");
    } else if (v.meta_dev_idx == -2) {
      p.Line(fmt::format("\"meta-disk\": {}", DoubleQuote(v.meta_dev)));
    } else {
      p.Line(fmt::format("\"meta-disk\": {},\n", DoubleQuote(v.meta_dev)));
      p.Line(fmt::format("\"meta-disk-index\": {}\n", v.meta_dev_idx));
    }
  } else if (v.intentional_diskless) {
    p.Raw(",\n");
    p.Line("\"disk\": \"none\"");
  }
  bool opened = PrintOptionsJson(p, v.disk_conf, OptContext::kAttach, "disk", true, false,
                                 !v.device_conf.has_value());
  PrintOptionsJson(p, v.device_conf, OptContext::kNewMinor, "disk", true, opened, true);
  p.Raw("\n");
  p.Out();
  p.Line(last ? "}\n" : "},\n");
}

void ShowConnectionText(Printer& p, const ShowConnection& c, bool show_defaults) {
  p.Line("connection {\n");
  p.In();
  p.Line(fmt::format("_peer_node_id {};\n", c.peer_node_id));
  PrintPaths(p, c, false);
  p.Line(fmt::format("_cstate {};\n", c.cstate));
  PrintOptions(p, c.net, OptContext::kShowNetOptions, "net", false, true, show_defaults);
  for (const ShowPeerDevice& pd : c.peer_devices) {
    if (OptionsEmpty(pd.conf, OptContext::kPeerDeviceOptions, show_defaults)) continue;
    p.Line(fmt::format("volume {} {{\n", pd.volume));
    p.In();
    PrintOptions(p, pd.conf, OptContext::kPeerDeviceOptions, "disk", false, true, show_defaults);
    p.Out();
    p.Line("}\n");
  }
  p.Out();
  p.Line("}\n");
}

void ShowConnectionJson(Printer& p, const ShowConnection& c) {
  PrintPaths(p, c, true);
  if (c.cstate == "StandAlone") p.Line("\"_is_standalone\": true,\n");
  p.Line(fmt::format("\"_cstate\": {},\n", DoubleQuote(c.cstate)));
  if (PrintOptionsJson(p, c.net, OptContext::kShowNetOptions, "net", false, false, true)) {
    p.Raw(",\n");
  }
  std::vector<const ShowPeerDevice*> with_opts;
  for (const ShowPeerDevice& pd : c.peer_devices) {
    if (!OptionsEmpty(pd.conf, OptContext::kPeerDeviceOptions, true)) with_opts.push_back(&pd);
  }
  if (!with_opts.empty()) {
    p.Line("\"volumes\": [\n");
    for (size_t i = 0; i < with_opts.size(); ++i) {
      p.In();
      p.Line("{\n");
      p.In();
      p.Line(fmt::format("\"volume_nr\": {}", with_opts[i]->volume));
      PrintOptionsJson(p, with_opts[i]->conf, OptContext::kPeerDeviceOptions, "disk", true, false,
                       true);
      p.Raw("\n");
      p.Out();
      p.Line(i + 1 < with_opts.size() ? "},\n" : "}\n");
      p.Out();
    }
    p.Line("],\n");
  }
  p.Line(fmt::format("\"_peer_node_id\": {}\n", c.peer_node_id));
}

std::string ShowText(const std::vector<ShowResource>& resources, bool show_defaults) {
  Printer p;
  if (resources.empty()) p.Raw("# No currently configured DRBD found.\n");
  for (const ShowResource& r : resources) {
    p.Line(fmt::format("resource \"{}\" {{\n", r.name));
    p.In();
    PrintOptions(p, r.res_opts, OptContext::kResourceOptions, "options", false, true,
                 show_defaults);
    p.Line("_this_host {\n");
    p.In();
    if (r.node_id) p.Line(fmt::format("node-id\t\t\t{};\n", *r.node_id));
    for (const ShowVolume& v : r.volumes) ShowVolumeText(p, v, show_defaults);
    p.Out();
    p.Line("}\n");
    for (const ShowConnection& c : r.connections) ShowConnectionText(p, c, show_defaults);
    p.Out();
    p.Line("}\n\n");
  }
  return std::move(p.str());
}

std::string ShowJson(const std::vector<ShowResource>& resources) {
  Printer p;
  p.Line("[\n");
  p.In();
  for (size_t ri = 0; ri < resources.size(); ++ri) {
    const ShowResource& r = resources[ri];
    p.Line("{\n");
    p.In();
    p.Line(fmt::format("\"resource\": \"{}\",\n", r.name));
    if (PrintOptionsJson(p, r.res_opts, OptContext::kResourceOptions, "options", false, false,
                         true)) {
      p.Raw(",\n");
    }
    p.Line("\"_this_host\": {\n");
    p.In();
    if (r.node_id) p.Line(fmt::format("\"node-id\": {},\n", *r.node_id));
    p.Line("\"volumes\": [\n");
    p.In();
    for (size_t i = 0; i < r.volumes.size(); ++i) {
      ShowVolumeJson(p, r.volumes[i], i + 1 == r.volumes.size());
    }
    p.Out();
    p.Line("]\n");
    p.Out();
    p.Line("}");
    if (!r.connections.empty()) p.Raw(",");
    p.Raw("\n");
    if (!r.connections.empty()) {
      p.Line("\"connections\": [\n");
      p.In();
      for (size_t i = 0; i < r.connections.size(); ++i) {
        p.Line("{\n");
        p.In();
        ShowConnectionJson(p, r.connections[i]);
        p.Out();
        p.Line("}");
        if (i + 1 < r.connections.size()) p.Raw(",");
        p.Raw("\n");
      }
      p.Out();
      p.Line("]\n");
    }
    p.Out();
    p.Line(ri + 1 < resources.size() ? "},\n" : "}\n");
  }
  p.Out();
  p.Line("]\n");
  return std::move(p.str());
}

}  // namespace

std::string DoubleQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string AddressText(const std::string& sockaddr) {
  Sockaddr a = ToSockaddr(sockaddr);
  if (a.family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&a.ss);
    return fmt::format("ipv4 {}:{}", inet_ntoa(in->sin_addr), ntohs(in->sin_port));
  }
  if (a.family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    return fmt::format("ipv6 [{}]:{}", Ipv6Text(a, sockaddr.size()), ntohs(in6->sin6_port));
  }
  return "";
}

std::string FormatShow(const std::vector<ShowResource>& resources, const ShowOptions& opts) {
  return opts.json ? ShowJson(resources) : ShowText(resources, opts.show_defaults);
}

}  // namespace drbd::setup
