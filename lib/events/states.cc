// SPDX-License-Identifier: GPL-2.0-or-later
// Words and numbers of the DRBD state vocabularies, expanded from
// lib/spec/states.def.
#include "lib/events/states.h"

#include <array>

namespace drbd::events {
namespace {

template <typename E>
struct Row {
  E value;
  std::string_view text;
};

constexpr Row<Role> kRoles[] = {
#define DRBD_ROLE(name, number, text) {Role::name, text},
#include "lib/spec/states.def"
};
constexpr Row<DiskState> kDiskStates[] = {
#define DRBD_DISK_STATE(name, number9, number84, text) {DiskState::name, text},
#include "lib/spec/states.def"
};
constexpr Row<ConnState> kConnStates[] = {
#define DRBD_CONN_STATE(name, number9, number84, text, text84) {ConnState::name, text},
#include "lib/spec/states.def"
};
constexpr Row<ConnState> kConnStates84[] = {
#define DRBD_CONN_STATE(name, number9, number84, text, text84) {ConnState::name, text84},
#include "lib/spec/states.def"
};
constexpr Row<ReplState> kReplStates[] = {
#define DRBD_REPL_STATE(name, number9, number84, text, text84) {ReplState::name, text},
#include "lib/spec/states.def"
};
constexpr Row<WriteOrdering> kWriteOrderings[] = {
#define DRBD_WRITE_ORDERING(name, number, text) {WriteOrdering::name, text},
#include "lib/spec/states.def"
};
constexpr Row<NotifyType> kNotifyTypes[] = {
#define DRBD_NOTIFY_TYPE(name, number, text) {NotifyType::name, text},
#include "lib/spec/states.def"
};
constexpr Row<ObjectKind> kObjectKinds[] = {
#define DRBD_OBJECT_KIND(name, text) {ObjectKind::name, text},
#include "lib/spec/states.def"
};
constexpr Row<Tristate> kTristates[] = {
#define DRBD_TRISTATE(name, text) {Tristate::name, text},
#include "lib/spec/states.def"
};

struct Map84 {
  int number84;
  uint32_t number9;
};
constexpr Map84 kDisk84[] = {
#define DRBD_DISK_STATE(name, number9, number84, text) {number84, number9},
#include "lib/spec/states.def"
};

// Each table lists every number once.
template <typename E, size_t N>
constexpr bool Unique(const Row<E> (&rows)[N]) {
  for (size_t i = 0; i < N; ++i)
    for (size_t j = i + 1; j < N; ++j)
      if (rows[i].value == rows[j].value || rows[i].text == rows[j].text) return false;
  return true;
}
static_assert(Unique(kRoles) && Unique(kDiskStates) && Unique(kConnStates) && Unique(kReplStates) &&
              Unique(kWriteOrderings) && Unique(kNotifyTypes) && Unique(kObjectKinds) &&
              Unique(kTristates));

template <typename E, size_t N>
std::string_view Lookup(const Row<E> (&rows)[N], E v, std::string_view dflt) {
  for (const auto& r : rows)
    if (r.value == v) return r.text;
  return dflt;
}

template <typename E, size_t N>
std::optional<E> Find(const Row<E> (&rows)[N], std::string_view s) {
  for (const auto& r : rows)
    if (r.text == s) return r.value;
  return std::nullopt;
}

template <typename E, size_t N>
bool Known(const Row<E> (&rows)[N], E v) {
  for (const auto& r : rows)
    if (r.value == v) return true;
  return false;
}

constexpr std::string_view kOutOfRange = "?";

}  // namespace

std::string_view ToString(Role v) { return Lookup(kRoles, v, kOutOfRange); }
std::string_view ToString(DiskState v) { return Lookup(kDiskStates, v, kOutOfRange); }
std::string_view ToString(ConnState v) { return Lookup(kConnStates, v, kOutOfRange); }
std::string_view ToString(ReplState v) { return Lookup(kReplStates, v, kOutOfRange); }
std::string_view ToString(WriteOrdering v) { return Lookup(kWriteOrderings, v, kOutOfRange); }
std::string_view ToString(NotifyType v) { return Lookup(kNotifyTypes, v, kOutOfRange); }
std::string_view ToString(ObjectKind v) { return Lookup(kObjectKinds, v, kOutOfRange); }
std::string_view ToString(Tristate v) { return Lookup(kTristates, v, "unknown"); }
std::string_view ToString84(ConnState v) { return Lookup(kConnStates84, v, kOutOfRange); }

std::optional<Role> ParseRole(std::string_view s) { return Find(kRoles, s); }
std::optional<DiskState> ParseDiskState(std::string_view s) { return Find(kDiskStates, s); }
std::optional<ConnState> ParseConnState(std::string_view s) { return Find(kConnStates, s); }
std::optional<ReplState> ParseReplState(std::string_view s) { return Find(kReplStates, s); }
std::optional<WriteOrdering> ParseWriteOrdering(std::string_view s) {
  return Find(kWriteOrderings, s);
}
std::optional<NotifyType> ParseNotifyType(std::string_view s) { return Find(kNotifyTypes, s); }
std::optional<ObjectKind> ParseObjectKind(std::string_view s) { return Find(kObjectKinds, s); }
std::optional<Tristate> ParseTristate(std::string_view s) { return Find(kTristates, s); }

bool IsKnown(Role v) { return Known(kRoles, v); }
bool IsKnown(DiskState v) { return Known(kDiskStates, v); }
bool IsKnown(ConnState v) { return Known(kConnStates, v); }
bool IsKnown(ReplState v) { return Known(kReplStates, v); }
bool IsKnown(WriteOrdering v) { return Known(kWriteOrderings, v); }

std::optional<DiskState> DiskStateFrom84(uint32_t n) {
  for (const auto& m : kDisk84)
    if (m.number84 >= 0 && static_cast<uint32_t>(m.number84) == n)
      return static_cast<DiskState>(m.number9);
  return std::nullopt;
}

std::optional<ConnState> ConnStateFrom84(uint32_t n) {
  // 8.4 drbd_conns: 0..9 map one to one (WFConnection = Connecting,
  // WFReportParams = Connected); 10 and above are replication states of a
  // connected peer.
  if (n <= static_cast<uint32_t>(ConnState::kConnected)) return static_cast<ConnState>(n);
  if (n <= static_cast<uint32_t>(ReplState::kBehind)) return ConnState::kConnected;
  return std::nullopt;
}

std::optional<ReplState> ReplStateFrom84(uint32_t n) {
  if (n <= static_cast<uint32_t>(ReplState::kOff)) return ReplState::kOff;
  if (n <= static_cast<uint32_t>(ReplState::kBehind)) return static_cast<ReplState>(n);
  return std::nullopt;
}

namespace {

constexpr Row<SuspReason> kSuspReasons[] = {
#define DRBD_SUSP_REASON(name, bit, text, field) {SuspReason::name, text},
#include "lib/spec/states.def"
};
constexpr Row<ResyncSuspReason> kResyncSuspReasons[] = {
#define DRBD_RESYNC_SUSP_REASON(name, bit, text, field) {ResyncSuspReason::name, text},
#include "lib/spec/states.def"
};

template <typename Flags, typename E, size_t N>
std::string FlagList(const Flags& f, const Row<E> (&rows)[N]) {
  std::string out;
  for (const auto& r : rows) {
    if (!f.Printed(r.value) || !f.Get(r.value)) continue;
    if (!out.empty()) out += ',';
    out += r.text;
  }
  return out.empty() ? "no" : out;
}

// Splits "a,b,c" and sets each reason; false on an unknown word.
template <typename Flags, typename E, size_t N>
bool ParseFlagList(std::string_view s, const Row<E> (&rows)[N], Flags* f) {
  if (s.empty()) return false;
  while (true) {
    size_t comma = s.find(',');
    std::optional<E> e = Find(rows, s.substr(0, comma));
    if (!e) return false;
    f->Set(*e, true);
    if (comma == std::string_view::npos) return true;
    s.remove_prefix(comma + 1);
  }
}

}  // namespace

bool SuspendFlags::Get(SuspReason r) const {
  switch (r) {
    case SuspReason::kUser:
      return user;
    case SuspReason::kNoData:
      return no_data;
    case SuspReason::kFencing:
      return fencing;
    case SuspReason::kQuorum:
      return quorum;
  }
  return false;
}
void SuspendFlags::Set(SuspReason r, bool on) {
  switch (r) {
    case SuspReason::kUser:
      user = on;
      break;
    case SuspReason::kNoData:
      no_data = on;
      break;
    case SuspReason::kFencing:
      fencing = on;
      break;
    case SuspReason::kQuorum:
      quorum = on;
      break;
  }
}
bool ResyncSuspendFlags::Get(ResyncSuspReason r) const {
  switch (r) {
    case ResyncSuspReason::kUser:
      return user;
    case ResyncSuspReason::kPeer:
      return peer;
    case ResyncSuspReason::kDependency:
      return dependency;
    case ResyncSuspReason::kMaxParallel:
      return max_parallel;
  }
  return false;
}
void ResyncSuspendFlags::Set(ResyncSuspReason r, bool on) {
  switch (r) {
    case ResyncSuspReason::kUser:
      user = on;
      break;
    case ResyncSuspReason::kPeer:
      peer = on;
      break;
    case ResyncSuspReason::kDependency:
      dependency = on;
      break;
    case ResyncSuspReason::kMaxParallel:
      max_parallel = on;
      break;
  }
}

std::string ToString(const SuspendFlags& f) { return FlagList(f, kSuspReasons); }
std::string ToString(const ResyncSuspendFlags& f) { return FlagList(f, kResyncSuspReasons); }

std::optional<SuspendFlags> ParseSuspendFlags(std::string_view s) {
  SuspendFlags f;
  if (s == "no") return f;
  if (!ParseFlagList(s, kSuspReasons, &f)) return std::nullopt;
  return f;
}

std::optional<ResyncSuspendFlags> ParseResyncSuspendFlags(std::string_view s) {
  ResyncSuspendFlags f;
  if (s == "no") return f;
  if (!ParseFlagList(s, kResyncSuspReasons, &f)) return std::nullopt;
  return f;
}

}  // namespace drbd::events
