// SPDX-License-Identifier: GPL-2.0-or-later
// events2 --now text → ResourceSnapshot; see snapshot.h.
#include "lib/ocf/snapshot.h"

#include <variant>

#include "lib/events/parser.h"

namespace drbd::ocf {

bool SnapshotFromEvents2Now(std::string_view text, std::string_view resource,
                            std::optional<events::ResourceSnapshot>* out, std::string* error) {
  out->reset();
  events::Events2Parser parser;
  events::ResourceSnapshot snap;
  bool found = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty()) continue;
    events::Events2Line parsed;
    if (!parser.Parse(line, &parsed, error)) return false;
    if (parsed.type == events::Events2Line::Type::kEndOfInitialState) break;
    if (parsed.type != events::Events2Line::Type::kObject) continue;
    const auto& o = parsed.notification.object;
    if (const auto* r = std::get_if<events::Resource>(&o)) {
      if (r->name != resource) continue;
      snap.resource = *r;
      found = true;
    } else if (const auto* d = std::get_if<events::Device>(&o)) {
      if (d->resource == resource) snap.devices.push_back(*d);
    } else if (const auto* c = std::get_if<events::Connection>(&o)) {
      if (c->resource == resource) snap.connections.emplace_back().connection = *c;
    } else if (const auto* pd = std::get_if<events::PeerDevice>(&o)) {
      if (pd->resource != resource) continue;
      for (events::ConnectionSnapshot& cs : snap.connections)
        if (cs.connection.peer_node_id == pd->peer_node_id) cs.peer_devices.push_back(*pd);
    } else if (const auto* p = std::get_if<events::Path>(&o)) {
      if (p->resource != resource) continue;
      for (events::ConnectionSnapshot& cs : snap.connections)
        if (cs.connection.peer_node_id == p->peer_node_id) cs.paths.push_back(*p);
    }
  }
  if (found) *out = std::move(snap);
  return true;
}

}  // namespace drbd::ocf
