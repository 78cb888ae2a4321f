// SPDX-License-Identifier: GPL-2.0-or-later
// The `drbdadm dump` printer: a Config back as drbd.conf text, laid out
// exactly as drbd-utils 9.22 lays it out (column widths, odd mid-line
// indentation and all), plus the escaping helpers the XML printer shares.
// See docs/formats/dump.md.
#include "lib/config/dump.h"

#include <string>
#include <string_view>

#include "lib/base/exit_codes.h"
#include "lib/config/diag.h"
#include "lib/config/dump_printer.h"
#include "lib/config/postparse.h"

namespace drbd::cfg {
namespace {

// drbd-utils formats into a 1024-byte static buffer and gives up at 1022.
constexpr size_t kEscBufferSize = 1024;
constexpr size_t kEscLimit = 1022;

[[noreturn]] void StringTooLong(std::ostream* err) {
  if (err != nullptr) *err << "string too long.\n";
  throw FatalConfigError(ExitCode::kSyntax, "string too long.");
}

bool IsPlainTokenChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string EscapeToken(std::string_view s, std::ostream* err) {
  if (s.empty()) return "\"\"";
  bool needs_quotes = s.size() > 80;
  for (unsigned char c : s) {
    if (!IsPlainTokenChar(c)) needs_quotes = true;
  }
  if (!needs_quotes) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (out.size() >= kEscLimit) StringTooLong(err);
    out += c;
    if (out.size() >= kEscLimit) StringTooLong(err);
  }
  out += '"';
  return out;
}

std::string EscapeXml(std::string_view s, std::ostream* err) {
  if (s.find_first_of("\"'<>&\\") == std::string_view::npos) return std::string(s);
  std::string out;
  for (char c : s) {
    std::string_view repl;
    switch (c) {
      case '\'':
        repl = "&apos;";
        break;
      case '"':
        repl = "&quot;";
        break;
      case '<':
        repl = "&lt;";
        break;
      case '>':
        repl = "&gt;";
        break;
      case '&':
        repl = "&amp;";
        break;
      default:
        break;
    }
    if (!repl.empty()) {
      if (out.size() >= kEscBufferSize - 1 - repl.size()) StringTooLong(err);
      out += repl;
    } else {
      out += c;
      if (out.size() >= kEscLimit) StringTooLong(err);
    }
  }
  return out;
}

bool DumpShowsStackedTimeouts(const Resource& res, bool is_common, const DumpOptions& opts) {
  if (!res.stacked_timeouts) return false;
  if (!res.startup_options.empty()) return true;
  if (res.startup_section_empty) return false;
  // Without inheritance the flag can only stem from the section's own
  // `startup { stacked-timeouts; }`, which left the option list empty.
  bool expanded = !is_common && (opts.dry_run || opts.verbose);
  return expanded;
}

namespace {

using dump_internal::Block;
using dump_internal::kIndentWidth;
using dump_internal::OrNull;
using dump_internal::Within;

// printf("%*s", width, s): negative width left-justifies, positive
// right-justifies, never truncates.
std::string Pad(std::string_view s, int width) {
  std::string out;
  size_t w = static_cast<size_t>(width < 0 ? -width : width);
  if (s.size() >= w) return std::string(s);
  if (width > 0) out.assign(w - s.size(), ' ');
  out += s;
  if (width < 0) out.append(w - s.size(), ' ');
  return out;
}

}  // namespace

std::string FormatOptionLine(int level, std::string_view name, std::string_view value) {
  return std::string(kIndentWidth * level, ' ') + Pad(name, -24 + kIndentWidth * level) + " " +
         Pad(value, 3) + ";\n";
}

namespace {

class TextDumper : public dump_internal::Printer {
 public:
  TextDumper(const DumpOptions& opts, std::ostream& out) : Printer(opts, out, 0) {}

  void Header(const Config& cfg) {
    out_ << "# " << cfg.config_save << "\n";
    Global(cfg.globals);
    if (cfg.common) Common(*cfg.common);
  }

  void ResourceBlock(const Resource& res) {
    Line("# resource " + Esc(res.name) + " on " + opts_.hostname + ": " +
         (res.ignore ? "ignored" : "not ignored") + ", " +
         (res.stacked ? "stacked" : "not stacked") + "\n");
    Line("# defined at " + res.config_file + ":" + std::to_string(res.start_line) + "\n");
    Line("resource " + Esc(res.name) + " {\n");
    ++indent_;
    if (res.template_res != nullptr) {
      Line("template-file " + Esc(res.template_res->config_file) + ";\n");
    } else if (!res.template_file.empty()) {
      Line("template-file " + Esc(res.template_file) + ";\n");
    }
    for (const Volume& vol : res.volumes) {
      if (!opts_.verbose && (vol.parsed_device || vol.parsed_disk || vol.parsed_meta_disk)) {
        VolumeBlock(res.stacked, vol);
      }
    }
    for (const HostInfo& host : res.all_hosts) HostBlock(host);
    for (const Connection& conn : res.connections) {
      if (!conn.implicit || opts_.verbose) ConnectionBlock(conn);
    }
    if (!opts_.verbose) Meshes(res);
    ResourceSections(res, /*is_common=*/false, Within::kPlugin);
    --indent_;
    out_ << "}\n\n";
  }

 private:
  std::string Esc(std::string_view s) { return EscapeToken(s, opts_.err); }

  void OptionLine(std::string_view name, std::string_view value) {
    out_ << FormatOptionLine(indent_, name, value);
  }

  void Open(Block block, std::string_view arg) override {
    switch (block) {
      case Block::kSection:
        Line(std::string(arg) + " {\n");
        break;
      case Block::kConnection:
        Line(arg.empty() ? std::string("connection {\n") : "connection " + Esc(arg) + " {\n");
        break;
      case Block::kPath:
        Line("path {\n");
        break;
      case Block::kVolume:
        Line("volume " + std::string(arg) + " {\n");
        break;
    }
    ++indent_;
  }

  void Close(Block /*block*/) override {
    --indent_;
    Line("}\n");
  }

  void OptionList(const Options& opts) override { TextOptionList(opts); }

  void Global(const Globals& g) {
    if (g.minor_count == 0 && !g.disable_ip_verification && g.dialog_refresh == 1 &&
        g.usage_count == UsageCount::kAsk && !opts_.verbose) {
      return;
    }
    Line("global {\n");
    ++indent_;
    if (g.disable_ip_verification) Line("disable-ip-verification;\n");
    if (g.minor_count != 0) Line("minor-count " + std::to_string(g.minor_count) + ";\n");
    if (g.dialog_refresh != 1) {
      Line("dialog-refresh " + std::to_string(g.dialog_refresh) + ";\n");
    }
    if (g.usage_count != UsageCount::kAsk) {
      Line(std::string("usage-count ") + (g.usage_count == UsageCount::kYes ? "yes" : "no") +
           ";\n");
    }
    --indent_;
    Line("}\n\n");
  }

  void Common(const Resource& common) {
    Line("common {\n");
    ++indent_;
    ResourceSections(common, /*is_common=*/true, Within::kPlugin);
    --indent_;
    out_ << "}\n\n";
  }

  // "%-16s %s %s:%s%s" (IPv6 addresses in brackets).
  void AddressText(std::string_view name, const Address& a, std::string_view postfix) {
    out_ << Indent() << Pad(name, -16) << ' ' << OrNull(a.af) << ' ';
    if (a.af == "ipv6") {
      out_ << '[' << OrNull(a.addr) << ']';
    } else {
      out_ << OrNull(a.addr);
    }
    out_ << ':' << OrNull(a.port) << postfix;
  }

  void Proxy(std::string_view prefix, const ProxyInfo& pi) {
    Line(std::string(prefix) + "proxy on " + NamesToStr(pi.on_hosts) + " {\n");
    ++indent_;
    AddressText("inside", pi.inside, ";\n");
    AddressText("outside", pi.outside, ";\n");
    Section("options", pi.options, Within::kPlugin, &pi.plugins);
    --indent_;
    Line("}\n");
  }

  void VolumeBlock(bool has_lower, const Volume& vol) {
    if (!vol.implicit) {
      Line("volume " + std::to_string(vol.vnr) + " {\n");
      ++indent_;
    }
    // A volume with nothing set (as `_remote_host` ones are) prints only its
    // closing brace; drbd-utils does that even for an implicit volume.
    bool empty =
        vol.device_minor == -1 && !vol.device && !vol.disk && !vol.meta_disk && !vol.meta_index;
    if (!empty) {
      Section("disk", vol.disk_options, Within::kInline, &vol.pd_options, nullptr,
              &vol.device_options);
      if (vol.parsed_device || opts_.verbose) {
        int w = -19 + kIndentWidth * indent_;
        out_ << Indent() << "device" << std::string(w < 0 ? -w : w, ' ');
        if (vol.device) out_ << Esc(*vol.device) << ' ';
        out_ << "minor " << vol.device_minor << ";\n";
      }
      if (!has_lower && (vol.parsed_disk || opts_.verbose)) {
        OptionLine("disk", Esc(vol.disk ? *vol.disk : "none"));
      }
      if (!has_lower && (vol.parsed_meta_disk || opts_.verbose) && vol.meta_disk) {
        std::string_view index = vol.meta_index ? std::string_view(*vol.meta_index) : "flexible";
        if (index == "flexible") {
          Line(Pad("meta-disk", -16) + " " + Esc(*vol.meta_disk) + ";\n");
        } else if (index == "internal") {
          OptionLine("meta-disk", "internal");
        } else {
          Line(Pad("meta-disk", -16) + " " + Esc(*vol.meta_disk) + " [" + std::string(index) +
               "];\n");
        }
      }
      if (vol.parsed_tiebreaker) OptionLine("tiebreaker", vol.tiebreaker ? "yes" : "no");
      if (vol.implicit) return;
    }
    --indent_;
    Line("}\n");
  }

  void HostBlock(const HostInfo& hi) {
    if (hi.implicit && !opts_.verbose) return;
    bool has_lower = hi.lower != nullptr;
    if (has_lower) {
      Line("stacked-on-top-of " + Esc(hi.lower->name) + " {\n");
      ++indent_;
      Line("# on " + NamesToStr(hi.on_hosts) + " \n");
    } else if (hi.by_address) {
      AddressText("floating", hi.address, " {\n");
      ++indent_;
    } else {
      Line("on " + NamesToStr(hi.on_hosts) + " {\n");
      ++indent_;
    }
    if (opts_.node_ids) {
      Line("node-id " + (hi.node_id ? *hi.node_id : std::string("(null)")) + ";\n");
    }
    Section("options", hi.res_options);
    for (const Volume& vol : hi.volumes) {
      if (vol.parsed_device || vol.parsed_disk || vol.parsed_meta_disk || opts_.verbose) {
        VolumeBlock(has_lower, vol);
      }
    }
    if (!hi.by_address && !hi.address.addr.empty()) AddressText("address", hi.address, ";\n");
    if (hi.proxy_compat_only && !opts_.verbose) Proxy("", *hi.proxy_compat_only);
    --indent_;
    Line("}\n");
  }

  // Host lines of a path. drbd-utils starts the ` address` and ` via proxy`
  // parts with a fresh indentation, in the middle of the line.
  void HostAddressPairs(const std::list<HnameAddress>& pairs) override {
    for (const HnameAddress& ha : pairs) {
      if (ha.by_address || ha.faked_hostname) {
        AddressText("address", ha.address,
                    std::string(ha.proxy ? " " : "; ") + "# on " + ha.name + "\n");
      } else {
        Line("host " + ha.name);
        if (ha.parsed_address || (opts_.verbose && !ha.address.addr.empty())) {
          AddressText(" address", ha.address, "");
        } else if (ha.parsed_port) {
          out_ << " port " << ha.address.port;
        }
      }
      if (ha.proxy) {
        Proxy(" via ", *ha.proxy);
      } else if (ha.parsed_outside_address) {
        AddressText(" via outside-address", *ha.outside_address, ";\n");
      } else {
        out_ << ";\n";
      }
    }
  }

  void Meshes(const Resource& res) {
    for (const Mesh& mesh : res.meshes) {
      Line("connection-mesh {\n");
      ++indent_;
      Line("hosts");
      for (const std::string& h : mesh.hosts) out_ << ' ' << h;
      out_ << ";\n";
      Section("net", mesh.net_options);
      --indent_;
      Line("}\n");
    }
  }
};

}  // namespace

void DumpHeader(const Config& cfg, const DumpOptions& opts, std::ostream& out) {
  TextDumper(opts, out).Header(cfg);
}

void DumpResource(const Config&, const Resource& res, const DumpOptions& opts, std::ostream& out) {
  TextDumper(opts, out).ResourceBlock(res);
}

}  // namespace drbd::cfg
