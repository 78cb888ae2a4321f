// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdadm adjust`: compare the configuration of a resource with what is
// running (as `drbdsetup show` prints it) and schedule the drbdsetup /
// drbdmeta commands that bring the running state to the configured one.
// Behaviour and command order follow drbd-utils 9.22 (drbdadm_adjust.c).
//
// AdmAdjust itself is declared in drbdadm/adm.h; this header exposes the
// comparison steps so that they can be tested on hand-built objects.
#pragma once

#include <list>
#include <string>
#include <string_view>

#include "drbdadm/adm.h"
#include "lib/config/ast.h"
#include "lib/config/options.h"

namespace drbd::adm {

// The ADJUST_* flags for this run: --skip-disk / --skip-net are taken out of
// st.backend_options the first time (they are not drbdsetup options) and the
// result is remembered in st.adjust_flags.
int AdjustFlagsFromBackendOptions(AdmState& st);

// drbd-utils opts_equal(): every running option equals the configured one or
// is at its default, and every configured option not running is at its
// default. Options flagged adj_skip are ignored; configured options that were
// matched get `mentioned` set. With st.verbose > 2 (> 3) the differences
// (equalities) are reported on st.err as drbd-utils does.
bool OptsEqual(const AdmState& st, cfg::OptContext ctx, cfg::Options& conf, cfg::Options& running);

// drbd-utils opt_equal(): compares one option by name, absent = default.
bool OptEqual(cfg::OptContext ctx, std::string_view name, const cfg::Options& conf,
              const cfg::Options& running);

// Whether the backing disk and meta-data placement of a configured volume
// match the running one (drbd-utils disk_equal).
bool DiskEqual(const AdmState& st, const cfg::Volume& conf, const cfg::Volume& running);

// Sets conf.adj_resize when the `size` option differs (drbd-utils
// compare_size); marks `size` adj_skip in both option lists.
void CompareSize(const AdmState& st, cfg::Volume& conf, cfg::Volume& running);

// Flags the adj_* members of conf for one volume present in both.
void CompareVolume(const AdmState& st, cfg::Volume& conf, cfg::Volume& running);

// Walks both vnr-sorted lists: volumes only configured get adj_new_minor
// (+ adj_attach), volumes only running are added to conf as placeholders
// flagged adj_del_minor (+ adj_detach), common ones go to CompareVolume.
void CompareVolumes(const AdmState& st, cfg::Volumes& conf, cfg::Volumes& running);

// drbd-utils matching_conn(): the connection in pool with the same peer
// node-id as pattern (ignored ones skipped); with ret_me, the first
// connection flagged `me` (named on the command line) wins.
cfg::Connection* MatchingConn(const cfg::Connection& pattern, std::list<cfg::Connection>& pool,
                              bool ret_me);

// The running resource called name: from one `drbdsetup show` for all
// resources when st.adjust_more_than_one_resource, else `drbdsetup show
// NAME` (drbd-utils quirk: then the last resource printed is returned,
// whatever its name). Reads $FAKE_DRBDSETUP_SHOW instead when set. May
// throw AdmExit (unreadable fake file: exit 1) or cfg::FatalConfigError
// (parse errors).
cfg::Resource* RunningResByName(AdmState& st, const std::string& name);

// Parses show_text as `drbdsetup show` output into st.running_config and
// post-processes it; returns the last resource parsed (or nullptr).
cfg::Resource* AddRunningConfig(AdmState& st, std::string_view show_text);

// Parses `drbd-proxy-ctl -c "show proxy-settings CONN"` output
// (`proxy { memlimit 128M; plugin { zstd level 4; } }`) into proxy options
// and plugin lines. False when the text holds no proxy section: the proxy
// connection is down.
bool ParseProxySettings(std::string_view text, cfg::ProxyInfo& proxy);

}  // namespace drbd::adm
