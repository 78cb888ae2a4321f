// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup events2` as a state of the world: notifications (from the
// kernel, drbd-simd or parsed text) are applied burst by burst to a model of
// every resource, and each finished burst prints the differences as events2
// lines, byte for byte as drbd-utils 9.22 does (exists/create/change/destroy,
// call/response helper, rename, the "exists -" end of the initial state,
// --statistics, --full, --diff, --timestamps prefix, colours, --poll
// updates). See docs/formats/events2.md.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/events/model.h"

namespace drbd::events {

struct Events2Options {
  bool statistics = false;  // --statistics
  bool full = false;        // --full (implies statistics)
  bool diff = false;        // --diff
  bool color = false;       // --color resolved (always, or auto on a tty)
  // `events2 RES`: only this resource's objects are shown ("all": every
  // one). Filtering after the sequence ordering keeps other resources'
  // events from looking like gaps.
  std::string resource = "all";
};

// The events2 --timestamps prefix for a time: local time with microseconds
// and UTC offset, then a space ("2026-01-15T10:04:31.504211+01:00 ").
// `unix_us` is microseconds since the epoch; the offset comes from the TZ
// environment, as localtime(3) sees it.
std::string TimestampPrefix(int64_t unix_us);

// `drbdsetup events2 RES`: whether a notification passes the resource
// filter (Events2Options::resource). The end-of-initial-state marker always
// passes; objname "all" passes all.
bool MatchesResource(const Notification& n, std::string_view objname);

// A model of all resources plus the events2 printer. Not thread-safe; one
// per events2 run.
class Events2World {
 public:
  explicit Events2World(Events2Options options) : options_(std::move(options)) {}

  // Applies one notification. Lines printed by it (if it ends a burst) are
  // appended to `out`, each prefixed with `prefix` (the timestamp or "").
  // Non-exists notifications arriving before the initial state is done (or
  // during a --poll update) are held and applied after it; all of them are
  // applied in the order of `seq`, the netlink sequence number of the
  // multicast event (drbd-utils >= 9.28), a change without one taking the
  // next number in line.
  void Apply(const Notification& n, std::string_view prefix, std::string* out,
             std::optional<uint32_t> seq = std::nullopt);

  // Whether changes are held back waiting for a missing sequence number.
  bool HasHeld() const { return !held_.empty() && !initial_state_ && !receive_update_; }

  // Gives up on the missing sequence number(s): applies every held change in
  // sequence order. A reader calls it when no message arrived for a while
  // with changes still held, so that a lost message never stalls events2
  // (drbd-utils would wait for it forever).
  void SkipGap(std::string_view prefix, std::string* out);

  // --poll "n" without --now: the next initial-state dump updates the model
  // (its exists messages count as changes; no second "exists -").
  void PrepareUpdate() { receive_update_ = true; }
  // --poll "n" with --now: forget everything and start again.
  void Reset();

  bool initial_state() const { return initial_state_; }

  // The current model, resources in name order; siblings in drbd-utils'
  // list order (which reverses on every burst that touches a resource).
  std::vector<ResourceSnapshot> Snapshot() const;

  // may_promote / promotion_score as drbdsetup computes them.
  struct Promotion {
    bool may_promote = false;
    int score = 0;
    friend bool operator==(const Promotion&, const Promotion&) = default;
  };
  static Promotion ComputePromotion(const ResourceSnapshot& r);

 private:
  struct Res {
    ResourceSnapshot snap;
    bool destroyed = false;
    std::string rename_to;  // non-empty: NOTIFY_RENAME pending
  };

  // Applies the held changes that are next in sequence.
  void DrainHeld(std::string_view prefix, std::string* out);
  void ApplyNow(const Notification& n, std::string_view prefix, std::string* out);
  Res* FindPending(const std::string& name);
  void PrintChanges(std::string_view prefix, const Res* old, Res& now, std::string* out);

  Events2Options options_;
  bool initial_state_ = true;
  bool receive_update_ = false;
  std::map<std::string, Res> all_;
  std::deque<Res> pending_;  // front = most recently added (upstream prepends)
  // Changes not applied yet, with their nlmsg_seq, in arrival order.
  std::vector<std::pair<uint32_t, Notification>> held_;
  std::optional<uint32_t> next_seq_;  // nlmsg_seq of the next change to apply
};

}  // namespace drbd::events
