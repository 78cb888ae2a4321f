// SPDX-License-Identifier: GPL-2.0-or-later
// The syntax-independent walk shared by the `dump` and `dump-xml` printers.
// See docs/formats/dump.md.
#include "lib/config/dump_printer.h"

namespace drbd::cfg::dump_internal {

std::string_view OrNull(const std::string& s) {
  return s.empty() ? std::string_view("(null)") : std::string_view(s);
}

void Printer::TextOptionList(const Options& opts) {
  for (const Option& o : opts) {
    if (o.has_value) {
      out_ << FormatOptionLine(indent_, o.name,
                               o.is_escaped ? o.value : EscapeToken(o.value, opts_.err));
    } else {
      Line(o.name + ";\n");
    }
  }
}

void Printer::Section(std::string_view name, const Options& opts, Within within,
                      const Options* extra, const Options* fake_tail, const Options* lead) {
  auto empty = [](const Options* list) { return list == nullptr || list->empty(); };
  if (opts.empty() && empty(extra) && empty(fake_tail) && empty(lead)) return;
  Open(Block::kSection, name);
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
        if (!extra->empty()) {
          Line("plugin {\n");
          ++indent_;
          TextOptionList(*extra);
          --indent_;
          Line("}\n");
        }
        break;
      case Within::kNone:
        break;
    }
  }
  Close(Block::kSection);
}

void Printer::ResourceSections(const Resource& res, bool is_common, Within plugins) {
  Section("options", res.res_options);
  Section("net", res.net_options);
  Section("disk", res.disk_options, Within::kInline, &res.pd_options, nullptr, &res.device_options);
  // drbd-utils keeps the stacked-timeouts flag outside the option list.
  Options fake;
  if (DumpShowsStackedTimeouts(res, is_common, opts_)) {
    Option& o = fake.emplace_back();
    o.name = "stacked-timeouts";
    o.has_value = false;
  }
  Section("startup", res.startup_options, Within::kNone, nullptr, &fake);
  Section("proxy", res.proxy_options, plugins, &res.proxy_plugins);
  Section("handlers", res.handlers);
}

void Printer::ConnectionBlock(const Connection& conn) {
  Open(Block::kConnection, conn.name);
  if (!conn.paths.empty()) {
    if (conn.paths.front().implicit && !opts_.verbose) {
      HostAddressPairs(conn.paths.front().hname_address_pairs);
    } else {
      for (const Path& path : conn.paths) {
        Open(Block::kPath, "");
        HostAddressPairs(path.hname_address_pairs);
        Close(Block::kPath);
      }
    }
  }
  Section("net", conn.net_options);
  Section("disk", conn.pd_options);
  for (const PeerDevice& pd : conn.peer_devices) {
    if (pd.implicit && !opts_.verbose) continue;
    Open(Block::kVolume, std::to_string(pd.vnr));
    Section("disk", pd.pd_options);
    Close(Block::kVolume);
  }
  Close(Block::kConnection);
}

}  // namespace drbd::cfg::dump_internal
