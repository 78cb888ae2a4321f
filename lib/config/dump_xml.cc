// SPDX-License-Identifier: GPL-2.0-or-later
// The `drbdadm dump-xml` printer, laid out exactly as drbd-utils 9.22 does:
// including its quirks (an unclosed <template>, "(null)" for unset address
// fields, a text-style `plugin { }` block inside common's proxy section).
// See docs/formats/dump.md.
#include <string>
#include <string_view>

#include "lib/config/dump.h"
#include "lib/config/dump_printer.h"
#include "lib/config/postparse.h"

namespace drbd::cfg {
namespace {

using dump_internal::Block;
using dump_internal::OrNull;
using dump_internal::Within;

// Whether drbd-utils' esc_xml() answers from its static buffer.
bool UsesXmlBuffer(std::string_view s) {
  return s.find_first_of("\"'<>&\\") != std::string_view::npos;
}

class XmlDumper : public dump_internal::Printer {
 public:
  using Printer::Printer;

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
    ResourceSections(res, /*is_common=*/false, Within::kPlugin);
    --indent_;
    Line("</resource>\n");
  }

 private:
  std::string Esc(std::string_view s) { return EscapeXml(s, opts_.err); }

  static std::string_view Tag(Block block) {
    switch (block) {
      case Block::kSection:
        return "section";
      case Block::kConnection:
        return "connection";
      case Block::kPath:
        return "path";
      case Block::kVolume:
        return "volume";
    }
    return "";
  }

  void Open(Block block, std::string_view arg) override {
    std::string line = "<" + std::string(Tag(block));
    if (block == Block::kSection) line += " name=\"" + std::string(arg) + "\"";
    if (block == Block::kConnection && !arg.empty()) line += " name=\"" + Esc(arg) + "\"";
    if (block == Block::kVolume) line += " vnr=\"" + std::string(arg) + "\"";
    Line(line + ">\n");
    ++indent_;
  }

  void Close(Block block) override {
    --indent_;
    Line("</" + std::string(Tag(block)) + ">\n");
  }

  void OptionList(const Options& opts) override {
    for (const Option& o : opts) {
      if (o.has_value) {
        Line("<option name=\"" + o.name + "\" value=\"" + (o.is_escaped ? o.value : Esc(o.value)) +
             "\"/>\n");
      } else {
        Line("<option name=\"" + o.name + "\"/>\n");
      }
    }
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
    // drbd-utils' common section hands proxy plugins to the text printer.
    ResourceSections(common, /*is_common=*/true, Within::kTextPlugin);
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

  void HostAddressPairs(const std::list<HnameAddress>& pairs) override {
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
