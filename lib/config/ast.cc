// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/config/ast.h"

#include <algorithm>

namespace drbd::cfg {

const Option* FindOption(const Options& opts, std::string_view name) {
  for (const Option& o : opts) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

Option* FindOption(Options& opts, std::string_view name) {
  for (Option& o : opts) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

bool DeleteOption(Options& opts, std::string_view name) {
  auto before = opts.size();
  opts.remove_if([&](const Option& o) { return o.name == name; });
  return opts.size() != before;
}

Volume& InsertVolume(Volumes& vols, Volume v) {
  auto it = std::find_if(vols.begin(), vols.end(), [&](const Volume& x) { return x.vnr > v.vnr; });
  return *vols.insert(it, std::move(v));
}

Volume* FindVolume(Volumes& vols, int vnr) {
  for (Volume& v : vols) {
    if (v.vnr == vnr) return &v;
  }
  return nullptr;
}

const Volume* FindVolume(const Volumes& vols, int vnr) {
  for (const Volume& v : vols) {
    if (v.vnr == vnr) return &v;
  }
  return nullptr;
}

}  // namespace drbd::cfg
