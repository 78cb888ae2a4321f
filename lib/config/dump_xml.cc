// SPDX-License-Identifier: GPL-2.0-or-later
// The `drbdadm dump-xml` printer, laid out exactly as drbd-utils 9.22 does:
// including its quirks (an unclosed <template>, "(null)" for unset address
// fields, a text-style `plugin { }` block inside common's proxy section).
// See docs/formats/dump.md.
#include <string>
#include <string_view>

#include "lib/config/dump.h"
#include "lib/config/postparse.h"

namespace drbd::cfg {
namespace {

constexpr int kIndentWidth = 4;

std::string_view OrNull(const std::string& s) {
  return s.empty() ? std::string_view("(null)") : std::string_view(s);
}

// Whether drbd-utils' esc_xml() answers from its static buffer.
bool UsesXmlBuffer(std::string_view s) {
  return s.find_first_of("\"'<>&\\") != std::string_view::npos;
}

class XmlDumper {
 public:
  XmlDumper(const DumpOptions& opts, std::ostream& out, int indent)
      : opts_(opts), out_(out), indent_(indent) {}

  void Header(const Config& cfg) {
    out_ << "<config file=\"" << cfg.config_save << "\">\n";
    ++indent_;
    Global(cfg.globals);
    if (cfg.common) Common(*cfg.common);
  }

  void ResourceBlock(const Resource& res) {
    // drbd-utils escapes both into one static buffer within a single printf;
    // when both need escaping, the name's (evaluated last) shows twice.
    std::string file = Esc(res.config_file);
    std::string name = Esc(res.name);
    if (UsesXmlBuffer(res.config_file) && UsesXmlBuffer(res.name)) file = name;
    Line("<resource name=\"" + name + "\" conf-file-line=\"" + file + ":" +
         std::to_string(res.start_line) + "\">\n");
    ++indent_;
    if (res.template_res != nullptr) {
      Line("<template file=\"" + Esc(res.template_res->config_file) + "\">\n");
    } else if (!res.template_file.empty()) {
      Line("<template file=\"" + Esc(res.template_file) + "\">\n");
    }
    for (const HostInfo& host : res.all_hosts) Host(host);
    for (const Connection& conn : res.connections) ConnectionBlock(conn);
    ResourceSections(res, /*is_common=*/false);
    --indent_;
    Line("</resource>\n");
  }

 private:
  std::string Esc(std::string_view s) { return EscapeXml(s, opts_.err); }
  std::string Indent() const { return std::string(kIndentWidth * indent_, ' '); }
  void Line(std::string_view text) { out_ << Indent() << text; }

  void OptionList(const Options& opts) {
    for (const Option& o : opts) {
      if (o.has_value) {
        Line("<option name=\"" + o.name + "\" value=\"" + (o.is_escaped ? o.value : Esc(o.value)) +
             "\"/>\n");
      } else {
        Line("<option name=\"" + o.name + "\"/>\n");
      }
    }
  }

  // drbd-utils' common section hands proxy plugins to the text printer.
  void TextPluginSection(const Options& opts) {
    if (opts.empty()) return;
    Line("plugin {\n");
    ++indent_;
    for (const Option& o : opts) {
      if (o.has_value) {
        out_ << FormatOptionLine(indent_, o.name,
                                 o.is_escaped ? o.value : EscapeToken(o.value, opts_.err));
      } else {
        Line(o.name + ";\n");
      }
    }
    --indent_;
    Line("}\n");
  }

  enum class Within { kNone, kInline, kPlugin, kTextPlugin };
  void Section(std::string_view name, const Options& opts, Within within = Within::kNone,
               const Options* extra = nullptr, const Options* fake_tail = nullptr,
               const Options* lead = nullptr) {
    bool extra_empty = extra == nullptr || extra->empty();
    bool fake_empty = fake_tail == nullptr || fake_tail->empty();
    bool lead_empty = lead == nullptr || lead->empty();
    if (opts.empty() && extra_empty && fake_empty && lead_empty) return;
    Line("<section name=\"" + std::string(name) + "\">\n");
    ++indent_;
    if (lead != nullptr) OptionList(*lead);
    OptionList(opts);
    if (fake_tail != nullptr) OptionList(*fake_tail);
    if (extra != nullptr) {
      switch (within) {
        case Within::kInline:
          OptionList(*extra);
          break;
        case Within::kPlugin:
          Section("plugin", *extra);
          break;
        case Within::kTextPlugin:
          TextPluginSection(*extra);
          break;
        case Within::kNone:
          break;
      }
    }
    --indent_;
    Line("</section>\n");
  }

  // In <common>, drbd-utils hands proxy plugins to the text printer.
  void ResourceSections(const Resource& res, bool is_common) {
    bool text_plugins = is_common;
    Section("options", res.res_options);
    Section("net", res.net_options);
    Section("disk", res.disk_options, Within::kInline, &res.pd_options, nullptr,
            &res.device_options);
    Options fake;
    if (DumpShowsStackedTimeouts(res, is_common, opts_)) {
      Option o;
      o.name = "stacked-timeouts";
      o.has_value = false;
      fake.push_back(o);
    }
    Section("startup", res.startup_options, Within::kNone, nullptr, &fake);
    Section("proxy", res.proxy_options, text_plugins ? Within::kTextPlugin : Within::kPlugin,
            &res.proxy_plugins);
    Section("handlers", res.handlers);
  }

  void Global(const Globals& g) {
    if (g.minor_count == 0 && !g.disable_ip_verification && g.dialog_refresh == 1) return;
    Line("<global>\n");
    ++indent_;
    if (g.disable_ip_verification) Line("<disable-ip-verification/>\n");
    if (g.minor_count != 0) {
      Line("<minor-count count=\"" + std::to_string(g.minor_count) + "\"/>\n");
    }
    if (g.dialog_refresh != 1) {
      Line("<dialog-refresh refresh=\"" + std::to_string(g.dialog_refresh) + "\"/>\n");
    }
    --indent_;
    Line("</global>\n");
  }

  void Common(const Resource& common) {
    Line("<common>\n");
    ++indent_;
    ResourceSections(common, /*is_common=*/true);
    --indent_;
    Line("</common>\n");
  }

  void AddressElement(std::string_view tag, const Address& a) {
    out_ << '<' << tag << " family=\"" << OrNull(a.af) << "\" port=\"" << OrNull(a.port) << "\">"
         << OrNull(a.addr) << "</" << tag << '>';
  }

  void Proxy(const ProxyInfo& pi) {
    Line("<proxy hostname=\"" + NamesToStr(pi.on_hosts) + "\">\n");
    ++indent_;
    out_ << Indent();
    AddressElement("inside", pi.inside);
    out_ << '\n' << Indent();
    AddressElement("outside", pi.outside);
    out_ << '\n';
    Section("options", pi.options, Within::kPlugin, &pi.plugins);
    --indent_;
    Line("</proxy>\n");
  }

  void VolumeBlock(const Volume& vol) {
    Line("<volume vnr=\"" + std::to_string(vol.vnr) + "\">\n");
    ++indent_;
    Section("disk", vol.disk_options, Within::kInline, &vol.pd_options, nullptr,
            &vol.device_options);
    Line("<device minor=\"" + std::to_string(vol.device_minor) + "\">" +
         (vol.device ? Esc(*vol.device) : std::string()) + "</device>\n");
    Line("<disk>" + (vol.disk ? Esc(*vol.disk) : std::string()) + "</disk>\n");
    if (vol.meta_index) {
      std::string meta_disk = vol.meta_disk ? Esc(*vol.meta_disk) : std::string();
      if (*vol.meta_index == "flexible") {
        Line("<meta-disk>" + meta_disk + "</meta-disk>\n");
      } else if (*vol.meta_index == "internal") {
        Line("<meta-disk>internal</meta-disk>\n");
      } else {
        Line("<meta-disk index=\"" + *vol.meta_index + "\">" + meta_disk + "</meta-disk>\n");
      }
    }
    --indent_;
    Line("</volume>\n");
  }

  void Host(const HostInfo& hi) {
    if (hi.by_address) {
      Line("<host floating=\"1\">\n");
    } else {
      Line("<host name=\"" + NamesToStr(hi.on_hosts) + "\">\n");
    }
    ++indent_;
    Section("options", hi.res_options);
    for (const Volume& vol : hi.volumes) VolumeBlock(vol);
    out_ << Indent();
    AddressElement("address", hi.address);
    out_ << '\n';
    --indent_;
    Line("</host>\n");
  }

  void HostAddressPairs(const std::list<HnameAddress>& pairs) {
    for (const HnameAddress& ha : pairs) {
      Line("<host name=\"" + ha.name + "\">");
      if (ha.proxy) {
        out_ << '\n';
        ++indent_;
        out_ << Indent();
      }
      if (!ha.address.addr.empty() || ha.host_info == nullptr) {
        AddressElement("address", ha.address);
      } else {
        AddressElement("address", ha.host_info->address);
      }
      if (ha.proxy) {
        out_ << '\n';
        Proxy(*ha.proxy);
        --indent_;
        Line("</host>\n");
      } else {
        out_ << "</host>\n";
      }
    }
  }

  void ConnectionBlock(const Connection& conn) {
    if (!conn.name.empty()) {
      Line("<connection name=\"" + Esc(conn.name) + "\">\n");
    } else {
      Line("<connection>\n");
    }
    ++indent_;
    if (!conn.paths.empty()) {
      if (conn.paths.front().implicit && !opts_.verbose) {
        HostAddressPairs(conn.paths.front().hname_address_pairs);
      } else {
        for (const Path& path : conn.paths) {
          Line("<path>\n");
          ++indent_;
          HostAddressPairs(path.hname_address_pairs);
          --indent_;
          Line("</path>\n");
        }
      }
    }
    Section("net", conn.net_options);
    Section("disk", conn.pd_options);
    for (const PeerDevice& pd : conn.peer_devices) {
      if (pd.implicit && !opts_.verbose) continue;
      Line("<volume vnr=\"" + std::to_string(pd.vnr) + "\">\n");
      ++indent_;
      Section("disk", pd.pd_options);
      --indent_;
      Line("</volume>\n");
    }
    --indent_;
    Line("</connection>\n");
  }

  const DumpOptions& opts_;
  std::ostream& out_;
  int indent_;
};

}  // namespace

void DumpXmlHeader(const Config& cfg, const DumpOptions& opts, std::ostream& out) {
  XmlDumper(opts, out, 0).Header(cfg);
}

void DumpXmlResource(const Config&, const Resource& res, const DumpOptions& opts,
                     std::ostream& out) {
  XmlDumper(opts, out, opts.xml_standalone ? 0 : 1).ResourceBlock(res);
}

void DumpXmlFooter(std::ostream& out) { out << "</config>\n"; }

}  // namespace drbd::cfg
