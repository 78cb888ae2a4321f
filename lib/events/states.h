// SPDX-License-Identifier: GPL-2.0-or-later
// The DRBD state vocabularies of lib/spec/states.def as enum classes, with
// the kernel numbers and the exact words drbd-utils prints and parses.
// Enumerator values are the DRBD 9 kernel numbers; 8.4 numbers are mapped
// by the *From84 helpers. See docs/formats/events2.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace drbd::events {

enum class Role : uint32_t {
#define DRBD_ROLE(name, number, text) name = number,
#include "lib/spec/states.def"
};

enum class DiskState : uint32_t {
#define DRBD_DISK_STATE(name, number9, number84, text) name = number9,
#include "lib/spec/states.def"
};

enum class ConnState : uint32_t {
#define DRBD_CONN_STATE(name, number9, number84, text, text84) name = number9,
#include "lib/spec/states.def"
};

enum class ReplState : uint32_t {
#define DRBD_REPL_STATE(name, number9, number84, text, text84) name = number9,
#include "lib/spec/states.def"
};

// Bit numbers of the suspend reasons (SuspendFlags/ResyncSuspendFlags).
enum class SuspReason : uint32_t {
#define DRBD_SUSP_REASON(name, bit, text, field) name = bit,
#include "lib/spec/states.def"
};

enum class ResyncSuspReason : uint32_t {
#define DRBD_RESYNC_SUSP_REASON(name, bit, text, field) name = bit,
#include "lib/spec/states.def"
};

enum class WriteOrdering : uint32_t {
#define DRBD_WRITE_ORDERING(name, number, text) name = number,
#include "lib/spec/states.def"
};

enum class NotifyType : uint32_t {
#define DRBD_NOTIFY_TYPE(name, number, text) name = number,
#include "lib/spec/states.def"
};

// drbd_notification_header.nh_type flag: more messages of the same atomic
// change follow.
inline constexpr uint32_t kNotifyContinues = 0x8000;

enum class ObjectKind : uint32_t {
#define DRBD_OBJECT_KIND(name, text) name,
#include "lib/spec/states.def"
};

enum class Tristate : uint32_t {
#define DRBD_TRISTATE(name, text) name,
#include "lib/spec/states.def"
};

// The printed word. Values outside the table (a newer kernel) print as "?"
// for kernel state enums, as drbd-utils' drbd_strings.c does.
std::string_view ToString(Role v);
std::string_view ToString(DiskState v);
std::string_view ToString(ConnState v);
std::string_view ToString(ReplState v);
std::string_view ToString(WriteOrdering v);
std::string_view ToString(NotifyType v);
std::string_view ToString(ObjectKind v);
std::string_view ToString(Tristate v);

// Exact-word parsers (case-sensitive, as printed); nullopt for anything else.
std::optional<Role> ParseRole(std::string_view s);
std::optional<DiskState> ParseDiskState(std::string_view s);
std::optional<ConnState> ParseConnState(std::string_view s);
std::optional<ReplState> ParseReplState(std::string_view s);
std::optional<WriteOrdering> ParseWriteOrdering(std::string_view s);
std::optional<NotifyType> ParseNotifyType(std::string_view s);
std::optional<ObjectKind> ParseObjectKind(std::string_view s);
std::optional<Tristate> ParseTristate(std::string_view s);

// Whether a raw kernel number names a row of the table.
bool IsKnown(Role v);
bool IsKnown(DiskState v);
bool IsKnown(ConnState v);
bool IsKnown(ReplState v);
bool IsKnown(WriteOrdering v);

// 8.4 kernel numbers (drbd_disk_state, drbd_conns) to the 9 enums.
// nullopt for numbers 8.4 does not define. For a connection, 8.4's
// WFConnection/WFReportParams become Connecting/Connected; for a peer device
// WFReportParams and below become Off, Connected becomes Established.
std::optional<DiskState> DiskStateFrom84(uint32_t n);
std::optional<ConnState> ConnStateFrom84(uint32_t n);
std::optional<ReplState> ReplStateFrom84(uint32_t n);
// 8.4's own word for a 9 connection / replication state number.
std::string_view ToString84(ConnState v);

// Suspend flag sets. Bit i = reason with number i.
struct SuspendFlags {
  bool user = false;     // res_susp: suspend-io by the admin
  bool no_data = false;  // res_susp_nod: no access to UpToDate data
  bool fencing = false;  // res_susp_fen: fencing in progress
  bool quorum = false;   // res_susp_quorum: lost quorum
  bool Any() const { return user || no_data || fencing || quorum; }
  bool Get(SuspReason r) const;
  void Set(SuspReason r, bool on);
  bool Printed(SuspReason) const { return true; }
  friend bool operator==(const SuspendFlags&, const SuspendFlags&) = default;
};
struct ResyncSuspendFlags {
  bool user = false;          // pause-sync by the admin
  bool peer = false;          // paused by the peer
  bool dependency = false;    // resync-after dependency
  bool max_parallel = false;  // newer kernels; not printed (drbd-utils 9.22)
  bool Any() const { return user || peer || dependency; }
  bool Get(ResyncSuspReason r) const;
  void Set(ResyncSuspReason r, bool on);
  // drbd-utils 9.22 prints only user, peer, dependency.
  bool Printed(ResyncSuspReason r) const { return r != ResyncSuspReason::kMaxParallel; }
  friend bool operator==(const ResyncSuspendFlags&, const ResyncSuspendFlags&) = default;
};

// "no" or the comma list in table order: "user,no-data,fencing,quorum".
std::string ToString(const SuspendFlags& f);
// "no" or "user,peer,dependency" (max-parallel is not printed).
std::string ToString(const ResyncSuspendFlags& f);
std::optional<SuspendFlags> ParseSuspendFlags(std::string_view s);
std::optional<ResyncSuspendFlags> ParseResyncSuspendFlags(std::string_view s);

}  // namespace drbd::events
