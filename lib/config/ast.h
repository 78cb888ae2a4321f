// SPDX-License-Identifier: GPL-2.0-or-later
// The in-memory model of a drbd.conf: what the parser builds, post-processing
// (inheritance, host matching, implicit connections) completes, and the dump
// printer and the drbdadm planner read.
//
// The model keeps the shape drbdadm 9.22 works with (resource → hosts →
// volumes, connections → paths → host/address pairs, peer devices), because
// byte-identical `dump` and `-d` output depends on the order in which options
// and objects are kept. Options are ordered lists, never maps: inheritance
// inserts at the head, as upstream does, and the planner prints list order.
//
// Ownership: every collection owns its elements (std::list, so that raw
// pointers to elements stay valid while other elements are added or removed).
// Raw pointers in this file never own.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/flat_string_map.h"
#include "lib/base/heap_optional.h"

namespace drbd::cfg {

// One `name value;` statement (or `name;` for a flag / boolean yes).
struct Option {
  std::string name;
  // Unescaped value text as written (quotes stripped). Empty for a flag
  // option that carries no value (has_value == false).
  std::string value;
  bool has_value = true;
  bool mentioned = false;  // adjust: seen in the running configuration
  bool is_escaped = false;
  bool adj_skip = false;   // adjust: do not compare
  bool inherited = false;  // copied in by inheritance, not written here
  // adjust: `drbdsetup show` printed `_unknown NAME;` (the kernel did not
  // report a value); such an option is never compared.
  bool unknown = false;
  // Where it was written (0 when synthesized).
  int line = 0;
  int col = 0;
};
using Options = std::list<Option>;

// Finds an option by name; nullptr when absent.
const Option* FindOption(const Options& opts, std::string_view name);
Option* FindOption(Options& opts, std::string_view name);
// Removes every option with this name; true if one was removed.
bool DeleteOption(Options& opts, std::string_view name);

using Names = std::vector<std::string>;

// `[af] addr:port`. All fields empty when not given.
struct Address {
  std::string addr;  // "10.1.1.1", "fd00::1" (no brackets), "fe80::1%br0"
  std::string port;  // decimal text as written
  std::string af;    // "ipv4", "ipv6", "ssocks", "sdp"; "" when unset
  bool is_local = false;
  bool empty() const { return addr.empty() && port.empty() && af.empty(); }
};

struct ProxyInfo {
  Names on_hosts;
  Address inside;
  Address outside;
  Options options;
  Options plugins;
  int config_line = 0;
};

struct Connection;

// Options of one volume as seen from one connection.
struct PeerDevice {
  int vnr = 0;
  Options pd_options;
  int config_line = 0;
  Connection* connection = nullptr;
  bool implicit = false;  // created by post-processing; not dumped by default
};

struct Volume {
  int vnr = 0;
  std::optional<std::string> device;  // "/dev/drbd1"; nullopt when unset
  int device_minor = -1;              // -1 when unset
  std::optional<std::string> disk;    // "none" for an intentionally diskless volume
  std::optional<std::string> meta_disk;   // "internal" or a path
  std::optional<std::string> meta_index;  // "internal", "flexible" or "N"
  Options disk_options;    // per-volume disk options
  Options pd_options;      // per-volume peer-device options
  Options device_options;  // device options (new-minor) written in `disk { }`
  // `tiebreaker yes|no;` (drbd-utils after 9.22): whether this node's disk
  // counts as a quorum tiebreaker; peers get `peer-tiebreaker no` when false.
  bool tiebreaker = true;
  bool parsed_tiebreaker = false;
  std::string config_file;
  int device_line = 0;
  int disk_line = 0;
  int meta_disk_line = 0;
  bool implicit = false;  // volume 0 created by a bare device/disk line
  bool parsed_device = false;
  bool parsed_disk = false;
  bool parsed_meta_disk = false;
  // adjust bookkeeping
  bool adj_del_minor = false;
  bool adj_new_minor = false;
  bool adj_detach = false;
  bool adj_attach = false;
  bool adj_resize = false;
  bool adj_disk_opts = false;
};
using Volumes = std::list<Volume>;  // kept sorted by vnr

// Inserts keeping the list sorted by vnr (after equal vnrs); returns it.
Volume& InsertVolume(Volumes& vols, Volume v);
Volume* FindVolume(Volumes& vols, int vnr);
const Volume* FindVolume(const Volumes& vols, int vnr);

struct Resource;

// An `on`, `floating` or `stacked-on-top-of` section (or a host implied by a
// connection's `host NAME address ...` line).
struct HostInfo {
  Names on_hosts;  // alternative names; for floating: empty
  Volumes volumes;
  Address address;
  HeapOptional<ProxyInfo> proxy_compat_only;  // `proxy on` inside `on` (rare: on the heap)
  Resource* lower = nullptr;    // stacked: the lower resource (after binding)
  std::string lower_name;       // stacked: as written
  int config_line = 0;
  bool implicit = false;        // declared only by a connection's host line
  bool by_address = false;      // floating: matched by local IP
  bool used_as_me = false;
  bool require_minor = true;
  Options res_options;          // `on X { options { ... } }`
  std::optional<std::string> node_id;
};
using Hosts = std::list<HostInfo>;

// `host NAME [address [af] a:p | port P] [via proxy ...];`
struct HnameAddress {
  std::string name;
  int config_line = 0;
  Address address;
  HeapOptional<ProxyInfo> proxy;  // `via proxy` (rare: on the heap)
  // `via outside-address [af] a:p` (drbd-utils after 9.22): the address
  // the peer reaches this host at through NAT (rare: on the heap).
  HeapOptional<Address> outside_address;
  bool parsed_outside_address = false;
  HostInfo* host_info = nullptr;  // resolved in post-processing
  bool used_as_me = false;
  bool faked_hostname = false;
  bool by_address = false;
  bool parsed_address = false;
  bool parsed_port = false;
  bool conflicts = false;
};

struct Path {
  int config_line = 0;
  std::list<HnameAddress> hname_address_pairs;
  // Resolved in post-processing (set_me_in_resource); point into the pairs
  // above or into host sections.
  Address* my_address = nullptr;
  Address* peer_address = nullptr;
  Address* connect_to = nullptr;
  ProxyInfo* my_proxy = nullptr;
  ProxyInfo* peer_proxy = nullptr;
  bool implicit = false;
  bool adj_seen = false;
  bool proxy_conn_is_down = false;
  bool ignore = false;
};

struct Connection {
  std::string name;  // as written (deprecated), or empty
  std::list<Path> paths;
  int config_line = 0;
  std::list<PeerDevice> peer_devices;
  HostInfo* peer = nullptr;  // resolved in post-processing
  // Hosts made by `_peer_node_id N;` (drbdsetup show); `peer` points here.
  Hosts implicit_peers;
  Options net_options;
  Options pd_options;
  bool ignore = false;
  bool ignore_tmp = false;
  bool me = false;
  bool implicit = false;
  bool is_standalone = false;
  // `drbdsetup show` `_cstate NAME;` (drbd-utils >= 9.23); empty when absent.
  std::string cstate;
  bool on_cmdline = false;
};

struct Mesh {
  Names hosts;
  Options net_options;
  int config_line = 0;
};

struct Resource {
  std::string name;
  Resource* template_res = nullptr;  // from `template-file`, owned by Config
  std::string template_file;         // as written
  Volumes volumes;                   // resource-level volume defaults
  std::list<Connection> connections;
  HostInfo* me = nullptr;
  Hosts all_hosts;
  std::list<Mesh> meshes;
  Options net_options;
  Options disk_options;
  Options pd_options;
  Options device_options;  // device options (new-minor) written in `disk { }`
  Options res_options;
  Options startup_options;
  Options handlers;
  Options proxy_options;
  Options proxy_plugins;
  std::string config_file;  // canonical path of the defining file
  int start_line = 0;
  bool stacked_timeouts = false;
  // A `startup { }` section was parsed and yielded no options (it held only
  // stacked-timeouts / become-primary-on, or nothing). drbd-utils 9.22 then
  // loses the `stacked-timeouts;` line dump appends, unless inheritance has
  // put an option into the list first. See docs/formats/dump.md.
  bool startup_section_empty = false;
  bool ignore = false;
  bool stacked = false;
  bool stacked_on_one = false;
  // No host section is this node's, but it runs the proxy of some (`via
  // proxy on`): a dedicated proxy node (drbd-utils >= 9.23). me is then the
  // last host section it proxies for.
  bool proxy_only = false;
  bool peers_addrs_set = false;
  bool no_bitmap_done = false;
  bool skip_further_deferred_command = false;
};

enum class UsageCount { kYes, kNo, kAsk };

// The `global { }` section. Defaults are those drbdadm 9.22 starts with.
struct Globals {
  unsigned cmd_timeout_short = 5;
  unsigned cmd_timeout_medium = 600;  // 9.22 quirk, see docs/compat.md
  unsigned cmd_timeout_long = 0;      // 9.22 quirk, see docs/compat.md
  bool disable_ip_verification = false;
  bool udev_always_use_vnr = false;
  int minor_count = 0;                // 0 = unset
  int dialog_refresh = 1;
  UsageCount usage_count = UsageCount::kAsk;
};

// `require-drbd-module-version-XX X.Y.Z;`
struct ModuleVersionRequirement {
  std::string op;       // "eq", "ne", "gt", "ge", "lt", "le"
  std::string version;  // "9.2.0"
  std::string file;
  int line = 0;
};

// A whole parsed configuration (one config file and everything it includes).
struct Config {
  std::string config_file;  // as given (-c), or the default found
  std::string config_save;  // canonical path used in dumps
  Globals globals;
  bool global_seen = false;
  std::optional<Resource> common;       // the `common { }` section
  std::list<Resource> resources;        // in definition order
  std::list<Resource> templates;        // template-file sources, kept alive
  std::vector<ModuleVersionRequirement> module_requirements;

  // Uniqueness registry (drbd-utils check_uniq): key "what:detail" (e.g.
  // "device-minor:alpha:0") → where it was first used.
  // File names are kept once per file in uniq_files (the newest last), and
  // an entry holds the index: 8 bytes per key for 170 000 keys at 10 000
  // resources.
  struct FirstUse {
    uint32_t file = 0;  // index into uniq_files
    int line = 0;
  };
  FlatStringMap<FirstUse> uniq;
  std::vector<std::string> uniq_files;
  // drbd-utils' config_valid: cleared by any non-fatal validation error.
  bool valid = true;
  // Files already read (canonical paths), for include de-duplication.
  std::set<std::string> seen_files;
  // The lexer's line counter when parsing of the top-level file ended (its
  // newline count + 1). drbd-utils reports some whole-resource checks
  // (volume sets, implicit/explicit volume mix) at config_file:end_line.
  // 0 = not recorded (post-processing then counts the file's lines).
  int end_line = 0;
};

}  // namespace drbd::cfg
