// SPDX-License-Identifier: GPL-2.0-or-later
// The part of the `dump` and `dump-xml` printers that does not depend on the
// syntax: the walk over option sections (with their lead, inline, plugin and
// `stacked-timeouts` parts), a resource's standard sections, and a
// connection's paths and peer-device volumes. A printer subclass says only
// how a block opens and closes and how an option line looks. Private to
// lib/config (dump.cc, dump_xml.cc). See docs/formats/dump.md.
#pragma once

#include <list>
#include <ostream>
#include <string>
#include <string_view>

#include "lib/config/ast.h"
#include "lib/config/dump.h"

namespace drbd::cfg::dump_internal {

constexpr int kIndentWidth = 4;

// C's printf("%s", NULL) prints "(null)"; an unset address field is empty
// in our model.
std::string_view OrNull(const std::string& s);

// The blocks both syntaxes nest, each opened with an argument: a section's
// name, a connection's (possibly empty) name, a volume number; none for a
// path.
enum class Block { kSection, kConnection, kPath, kVolume };

// What a section prints after its own options.
enum class Within {
  kNone,
  kInline,      // the extra list inside the same block (peer-device options)
  kPlugin,      // the extra list as a nested `plugin` section
  kTextPlugin,  // as kPlugin, but always in drbd.conf syntax (dump-xml's common)
};

class Printer {
 public:
  Printer(const DumpOptions& opts, std::ostream& out, int indent)
      : opts_(opts), out_(out), indent_(indent) {}
  virtual ~Printer() = default;
  Printer(const Printer&) = delete;
  Printer& operator=(const Printer&) = delete;

 protected:
  // Prints the opening line of a block and indents one level; Close undoes
  // both and prints the closing line.
  virtual void Open(Block block, std::string_view arg) = 0;
  virtual void Close(Block block) = 0;
  virtual void OptionList(const Options& opts) = 0;
  // The host lines of one path.
  virtual void HostAddressPairs(const std::list<HnameAddress>& pairs) = 0;

  std::string Indent() const { return std::string(kIndentWidth * indent_, ' '); }
  void Line(std::string_view text) { out_ << Indent() << text; }

  // Options in drbd.conf syntax: `name value;` or `name;`.
  void TextOptionList(const Options& opts);

  // A section `name`, printed when any of its lists is non-empty: `lead`
  // first (device options in `disk`, as drbd-utils after 9.22 prints them),
  // then `opts`, then `fake_tail`, then `extra` as `within` says.
  void Section(std::string_view name, const Options& opts, Within within = Within::kNone,
               const Options* extra = nullptr, const Options* fake_tail = nullptr,
               const Options* lead = nullptr);

  // options, net, disk, startup (with `stacked-timeouts` appended when
  // drbd-utils shows it), proxy (its plugin list printed as `plugins` says)
  // and handlers. is_common: res is the `common` section.
  void ResourceSections(const Resource& res, bool is_common, Within plugins);

  // A connection block: its paths (an implicit one unwrapped unless -v),
  // net and disk sections, and its explicit peer-device volumes.
  void ConnectionBlock(const Connection& conn);

  const DumpOptions& opts_;
  std::ostream& out_;
  int indent_;
};

}  // namespace drbd::cfg::dump_internal
