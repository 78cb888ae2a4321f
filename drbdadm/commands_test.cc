// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdadm/commands.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace drbd::adm {
namespace {

TEST(CommandTable, NamesAreUniqueAndLookupsWork) {
  std::set<std::string_view> names;
  for (const AdmCmd* c : AllCommands()) {
    EXPECT_TRUE(names.insert(c->name).second) << c->name;
    EXPECT_NE(c->fn, nullptr) << c->name;
  }
  // the 78 entries of drbd-utils 9.22's cmds[] plus sh-list-adjustable (9.23)
  EXPECT_EQ(names.size(), 79u);
  AdmState st;
  std::ostringstream err;
  st.err = &err;
  EXPECT_EQ(FindCommand("up", st)->name, "up");
  EXPECT_EQ(FindCommand("nope", st), nullptr);
  EXPECT_EQ(err.str(), "");
}

TEST(CommandTable, DeprecatedNamesAreSubstitutedWithANotice) {
  AdmState st;
  std::ostringstream err;
  st.err = &err;
  EXPECT_EQ(FindCommand("state", st)->name, "role");
  EXPECT_EQ(FindCommand("outdate-peer", st)->name, "fence-peer");
  EXPECT_EQ(err.str(),
            "'drbdadm state' is deprecated, use 'drbdadm role' instead.\n"
            "'drbdadm outdate-peer' is deprecated, use 'drbdadm fence-peer' instead.\n");
}

TEST(CommandTable, FlagsFollowDrbdUtils) {
  AdmState st;
  std::ostringstream err;
  st.err = &err;
  const AdmCmd* attach = FindCommand("attach", st);
  EXPECT_TRUE(attach->disk_required);
  EXPECT_TRUE(attach->iterate_volumes);
  EXPECT_FALSE(attach->backend_res_name);
  const AdmCmd* connect = FindCommand("connect", st);
  EXPECT_TRUE(connect->need_peer);
  EXPECT_TRUE(connect->verify_ips);
  const AdmCmd* ncu = FindCommand("new-current-uuid", st);
  EXPECT_TRUE(ncu->vol_id_required);
  EXPECT_EQ(ncu->show_in_usage, 4);
  EXPECT_TRUE(FindCommand("dump", st)->test_config);
  EXPECT_TRUE(FindCommand("sh-nop", st)->test_config);
  EXPECT_EQ(FindCommand("fence-peer", st)->show_in_usage, 3);
}

TEST(CliFields, BackendOptionsPerCommandContext) {
  auto names = [](CliCtx c) {
    std::vector<std::string> v;
    for (const CliField& f : CliFields(c)) v.push_back(f.name + (f.optional_arg ? "?" : ""));
    return v;
  };
  EXPECT_EQ(names(CliCtx::kConnect), (std::vector<std::string>{"tentative?", "discard-my-data?"}));
  EXPECT_EQ(names(CliCtx::kForceable), (std::vector<std::string>{"force?"}));
  EXPECT_EQ(names(CliCtx::kInvalidateAdm),
            (std::vector<std::string>{"force?", "sync-from-peer-node-id", "reset-bitmap?"}));
  std::vector<std::string> np = names(CliCtx::kNewPeer);
  ASSERT_FALSE(np.empty());
  EXPECT_EQ(np.front(), "transport");
  EXPECT_EQ(np.back(), "_name");
  std::vector<std::string> no = names(CliCtx::kNetOptions);
  EXPECT_EQ(no.size() + 1, np.size());
  EXPECT_EQ(names(CliCtx::kAttach).front(), "size");
  EXPECT_TRUE(CliFields(CliCtx::kPath).empty());
}

int PrintName(AdmState& st, const CmdCtx& ctx) {
  *st.out << ctx.cmd->name << "\n";
  return 0;
}

// drbd-utils >= 9.23 names a proxy connection after the DRBD nodes
// (RES-OUTSIDE-INSIDE), so one proxy node serving several DRBD nodes gives
// each connection its own name; 9.22 used the proxy host names.
TEST(ProxyNames, NewNameUsesDrbdNodesOldNameProxyHosts) {
  cfg::Resource res;
  res.name = "r0";
  cfg::HostInfo alpha, charlie;
  alpha.on_hosts = {"alpha"};
  charlie.on_hosts = {"charlie", "charlie2"};
  alpha.used_as_me = true;
  cfg::Connection conn;
  cfg::Path path;
  cfg::HnameAddress a, c;
  a.host_info = &alpha;
  a.used_as_me = true;
  a.proxy = cfg::ProxyInfo();
  a.proxy->on_hosts = {"site1-pxy"};
  c.host_info = &charlie;
  c.proxy = cfg::ProxyInfo();
  c.proxy->on_hosts = {"charlie-pxy"};
  path.hname_address_pairs = {a, c};
  path.my_proxy = &*path.hname_address_pairs.front().proxy;
  path.peer_proxy = &*path.hname_address_pairs.back().proxy;
  conn.paths.push_back(path);
  EXPECT_EQ(ProxyConnectionName(res, conn), "r0-charlie_charlie2-alpha");
  EXPECT_EQ(OldProxyConnectionName(res, conn), "r0-charlie-pxy-site1-pxy");
  conn.name = "c1";
  EXPECT_EQ(ProxyConnectionName(res, conn), "c1-charlie_charlie2-alpha");
  cfg::Connection empty;
  EXPECT_EQ(ProxyConnectionName(res, empty), "r0-UNKNOWN-UNKNOWN");
  EXPECT_EQ(OldProxyConnectionName(res, empty), "r0-UNKNOWN-UNKNOWN");
}

TEST(DeferredScheduler, CommandWaitsForItsDependencyInALaterStage) {
  // drbd-utils >= 9.23: a del-peer that depends on a connect runs after it,
  // in a second pass over the stages; cancelled commands never run.
  AdmCmd del_peer{.name = "del-peer", .fn = PrintName};
  AdmCmd connect{.name = "connect", .fn = PrintName};
  AdmCmd wait{.name = "wait", .fn = PrintName};
  AdmCmd new_peer{.name = "new-peer", .fn = PrintName};
  cfg::Resource res;
  res.name = "r0";
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  CmdCtx ctx;
  ctx.res = &res;
  DeferredRef d = ScheduleDeferredCmd(st, new_peer, ctx, Stage::kNetPrepUp);
  d = ScheduleDeferredCmd(st, connect, ctx, Stage::kNetConnect, d);
  DeferredRef w = ScheduleDeferredCmd(st, wait, ctx, Stage::kWaitConnect, d);
  ScheduleDeferredCmd(st, del_peer, ctx, Stage::kNetPrepDown, d);
  EXPECT_EQ(DeferredCmdOf(st, w), &wait);
  CancelDeferredWaits(st, &res);
  EXPECT_EQ(RunDeferredCmds(st), 0);
  EXPECT_EQ(out.str(), "new-peer\nconnect\ndel-peer\n");
  EXPECT_EQ(err.str(), "");
}

}  // namespace
}  // namespace drbd::adm
