// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdsetup/cli.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace drbd::setup {
namespace {

// Runs the parse steps in drbdsetup's order; returns the exit, or nullopt and
// the invocation.
std::optional<CliExit> Parse(std::vector<std::string> argv, Invocation* out = nullptr) {
  CliEnv env;
  auto r = ParseCommand(argv, env);
  if (auto* e = std::get_if<CliExit>(&r)) return *e;
  Invocation inv = std::get<Invocation>(std::move(r));
  std::vector<std::string> cmdline = inv.args;
  if (auto e = ParseOptions(inv, cmdline, env)) return e;
  if (auto e = ParseObjects(inv, env)) return e;
  if (auto e = ParseExtraArgs(inv, env)) return e;
  if (out != nullptr) *out = std::move(inv);
  return std::nullopt;
}

TEST(DrbdsetupCli, HelpForAnUnknownCommandPrintsUsageAndExits20) {
  auto e = Parse({"help", "frobnicate"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 20);
  EXPECT_TRUE(e->out.starts_with("drbdsetup - Configure the DRBD kernel module.\n"));
  EXPECT_TRUE(e->out.ends_with("for command-specific help.\n\n\nunknown command\n"));
}

TEST(DrbdsetupCli, HelpAfterTheCommandIsHelpForIt) {
  auto e = Parse({"role", "--help"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 0);
  EXPECT_EQ(e->out,
            "drbdsetup role - Show the current role of a resource.\n\n"
            "USAGE: drbdsetup role {resource}\n");
}

TEST(DrbdsetupCli, AcceptsTheOldObjectFirstOrder) {
  Invocation inv;
  ASSERT_FALSE(Parse({"r0", "primary"}, &inv));
  EXPECT_EQ(inv.cmd->name, "primary");
  EXPECT_EQ(inv.resource, "r0");
}

TEST(DrbdsetupCli, UnknownOptionGivesGetoptMessageAndUsage) {
  auto e = Parse({"primary", "r0", "--foo"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 20);
  EXPECT_EQ(e->err, "primary: unrecognized option '--foo'\n");
  EXPECT_TRUE(e->out.starts_with("drbdsetup - Configure"));
}

TEST(DrbdsetupCli, BadBooleanIsAnInvalidArgument) {
  auto e = Parse({"primary", "r0", "--force=maybe"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 20);
  EXPECT_EQ(e->err, "Option --force: invalid argument 'maybe'\n");
}

TEST(DrbdsetupCli, OverwriteDataOfPeerIsForce) {
  Invocation inv;
  ASSERT_FALSE(Parse({"primary", "r0", "--overwrite-data-of-peer"}, &inv));
  ASSERT_EQ(inv.fields.size(), 1u);
  EXPECT_EQ(inv.fields[0].field->name, "force");
  EXPECT_EQ(inv.fields[0].number, 1u);
}

TEST(DrbdsetupCli, NumbersTakeUnitsRelativeToTheFieldScale) {
  Invocation inv;
  ASSERT_FALSE(Parse({"attach", "0", "/dev/a", "/dev/b", "internal", "--size=1G"}, &inv));
  ASSERT_EQ(inv.fields.size(), 1u);
  EXPECT_EQ(inv.fields[0].number, 2097152u);  // sectors
  ASSERT_EQ(inv.extra.size(), 3u);
  EXPECT_EQ(inv.extra[2].number, 0xffffffffu);  // internal
  EXPECT_EQ(inv.minor, 0u);
}

TEST(DrbdsetupCli, NotANumberExitsLikeMStrtoll) {
  auto e = Parse({"new-resource", "r0", "1", "--peer-ack-window=abc"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 20);
  EXPECT_EQ(e->err, "abc is not a valid number\n");
}

TEST(DrbdsetupCli, EnumOrNumberTakesWordsAndNumbersInRange) {
  Invocation inv;
  ASSERT_FALSE(Parse({"resource-options", "r0", "--quorum=majority", "--set-defaults"}, &inv));
  ASSERT_EQ(inv.fields.size(), 1u);
  EXPECT_TRUE(inv.set_defaults);
  ASSERT_FALSE(Parse({"resource-options", "r0", "--quorum=3"}, &inv));
  EXPECT_EQ(inv.fields[0].number, 3u);
  auto e = Parse({"resource-options", "r0", "--quorum=99"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err, "Option --quorum: invalid argument '99'\n");
}

TEST(DrbdsetupCli, ProtocolIsCaseInsensitive) {
  Invocation inv;
  ASSERT_FALSE(Parse({"new-peer", "r0", "1", "--protocol=c"}, &inv));
  EXPECT_EQ(inv.fields[0].number, 3u);
  EXPECT_EQ(inv.peer_node_id, 1u);
}

TEST(DrbdsetupCli, MissingObjectArgumentIsCountedFromOne) {
  auto e = Parse({"primary"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 20);
  EXPECT_EQ(e->err, "Missing argument 1 to command\n");
  EXPECT_TRUE(e->out.starts_with("drbdsetup primary - "));
}

TEST(DrbdsetupCli, ShowWithoutArgumentsMeansAll) {
  Invocation inv;
  ASSERT_FALSE(Parse({"show", "--json"}, &inv));
  EXPECT_EQ(inv.context, static_cast<uint32_t>(kAll));
  EXPECT_EQ(inv.objname, "all");
  EXPECT_TRUE(inv.Has('j'));
}

TEST(DrbdsetupCli, AllIsRefusedWhereTheCommandDoesNotTakeIt) {
  auto e = Parse({"primary", "all"});
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->out.ends_with("\ncommand does not accept argument 'all'\n"));
}

TEST(DrbdsetupCli, MinorMustBeANumberOrDevDrbdN) {
  Invocation inv;
  ASSERT_FALSE(Parse({"dstate", "/dev/drbd12"}, &inv));
  EXPECT_EQ(inv.minor, 12u);
  auto e = Parse({"new-minor", "r0", "x", "0"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err, "Cannot determine minor device number of device 'x'\n");
}

TEST(DrbdsetupCli, ControlCharactersInAResourceNameExit1) {
  auto e = Parse({"role", "r\x01"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 1);
  EXPECT_EQ(e->err, "Resource name is invalid - please don't use control characters.\n");
}

TEST(DrbdsetupCli, MissingAndExcessExtraArguments) {
  auto e = Parse({"attach", "0", "/dev/a"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err, "Missing argument 'meta_data_dev'\n");
  e = Parse({"role", "r0", "extra", "more"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err, "Excess arguments: extra more\n");
}

TEST(DrbdsetupCli, PathAddressesBecomeSockaddrs) {
  Invocation inv;
  ASSERT_FALSE(Parse({"new-path", "r0", "1", "local:10.0.0.1:7000", "ipv6:[fe80::1]:7001"}, &inv));
  ASSERT_EQ(inv.extra.size(), 2u);
  sockaddr_in sin{};
  ASSERT_EQ(inv.extra[0].sockaddr.size(), sizeof sin);
  std::memcpy(&sin, inv.extra[0].sockaddr.data(), sizeof sin);
  EXPECT_EQ(sin.sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin.sin_port), 7000);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0x0a000001u);
  sockaddr_in6 sin6{};
  ASSERT_EQ(inv.extra[1].sockaddr.size(), sizeof sin6);
  std::memcpy(&sin6, inv.extra[1].sockaddr.data(), sizeof sin6);
  EXPECT_EQ(sin6.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sin6.sin6_port), 7001);
  ASSERT_FALSE(Parse({"new-path", "r0", "1", "10.0.0.1", "10.0.0.2"}, &inv));
  std::memcpy(&sin, inv.extra[1].sockaddr.data(), sizeof sin);
  EXPECT_EQ(ntohs(sin.sin_port), 7788);  // drbdsetup's default port
}

}  // namespace
}  // namespace drbd::setup
