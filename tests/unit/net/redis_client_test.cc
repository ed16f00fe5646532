#include "riposte/net/redis_client.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/redis_server.h"

namespace riposte::net {
namespace {

using std::chrono::milliseconds;

RedisOptions optionsFor(const testing::RedisServer& s) {
  RedisOptions o;
  EXPECT_TRUE(parseRedisUrl(s.url(), o).isOk());
  o.connect_timeout = milliseconds(500);
  o.command_timeout = milliseconds(1000);
  return o;
}

TEST(RedisUrl, ParsesHostPortPasswordAndDb) {
  RedisOptions o;
  ASSERT_TRUE(parseRedisUrl("redis://:s3cret@10.0.0.5:6380/2", o).isOk());
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.password, "s3cret");
  EXPECT_EQ(o.user, "");
  EXPECT_EQ(o.db, 2);
  ASSERT_TRUE(parseRedisUrl("redis://alice:pw@cache.internal", o).isOk());
  EXPECT_EQ(o.host, "cache.internal");
  EXPECT_EQ(o.port, 6379);
  EXPECT_EQ(o.user, "alice");
  EXPECT_EQ(o.db, 0);
  ASSERT_TRUE(parseRedisUrl("redis://[::1]:7000", o).isOk());
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 7000);
  EXPECT_EQ(o.describe(), "redis ::1:7000");
}

TEST(RedisUrl, RejectsMalformedUrlsWithAReason) {
  RedisOptions o;
  for (const char* bad : {"http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h:p",
                          "redis://h/db", "redis://[::1"}) {
    Status st = parseRedisUrl(bad, o);
    EXPECT_FALSE(st.isOk()) << bad;
    EXPECT_FALSE(st.message().empty()) << bad;
  }
}

TEST(RedisServerSupport, RestartKeepsThePortAndDropsDataWithoutPersistence) {
  RIPOSTE_REQUIRE_REDIS(server);
  RedisClient c(optionsFor(server));
  ASSERT_TRUE(c.command({"SET", "k", "v"}).isOk());
  const int port = server.port();
  server.stop();
  EXPECT_FALSE(server.running());
  ASSERT_TRUE(server.start()) << server.error();
  EXPECT_EQ(server.port(), port);
  RedisClient d(optionsFor(server));
  auto r = d.command({"GET", "k"});
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_TRUE(r->isNil());
}

TEST(RedisServerSupport, PersistenceKeepsDataAcrossARestart) {
  RIPOSTE_REQUIRE_REDIS(server, testing::RedisServerOptions{.persistence = true});
  {
    RedisClient c(optionsFor(server));
    ASSERT_TRUE(c.command({"SET", "k", "v"}).isOk());
  }
  server.stop();
  ASSERT_TRUE(server.start()) << server.error();
  RedisClient d(optionsFor(server));
  auto r = d.command({"GET", "k"});
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->str, "v");
}

TEST(RedisClient, CommandsRepliesAndErrorReplies) {
  RIPOSTE_REQUIRE_REDIS(server);
  RedisClient c(optionsFor(server));
  ASSERT_TRUE(c.connect().isOk());
  // Binary-safe values.
  const std::string value("a\0b\r\nc", 6);
  ASSERT_TRUE(c.command({"SET", "bin", value}).isOk());
  auto got = c.command({"GET", "bin"});
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ(got->str, value);
  auto n = c.command({"INCRBY", "n", "5"});
  ASSERT_TRUE(n.isOk());
  EXPECT_EQ(n->integer, 5);
  auto arr = c.command({"MGET", "bin", "missing"});
  ASSERT_TRUE(arr.isOk());
  ASSERT_EQ(arr->elements.size(), 2u);
  EXPECT_TRUE(arr->elements[1].isNil());
  // An error reply is a Status; the connection stays usable.
  auto bad = c.command({"INCR", "bin"});
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("INCR"), std::string::npos);
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.command({"PING"}).isOk());
  EXPECT_EQ(c.connects(), 1u);
}

TEST(RedisClient, PipelineReturnsRepliesInOrderWithErrorsInPlace) {
  RIPOSTE_REQUIRE_REDIS(server);
  RedisClient c(optionsFor(server));
  std::vector<RedisCommand> cmds;
  for (int i = 0; i < 1000; ++i) cmds.push_back({"RPUSH", "list", std::to_string(i)});
  cmds.push_back({"SET", "s", "x"});
  cmds.push_back({"INCR", "s"});
  cmds.push_back({"LLEN", "list"});
  auto r = c.pipeline(cmds);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_EQ(r->size(), cmds.size());
  EXPECT_EQ((*r)[999].integer, 1000);
  EXPECT_TRUE((*r)[1001].isError());
  EXPECT_EQ((*r)[1002].integer, 1000);
}

TEST(RedisClient, ServerDownFailsFastWithinBackoffAndReconnectsWhenBack) {
  RIPOSTE_REQUIRE_REDIS(server);
  RedisOptions o = optionsFor(server);
  o.backoff_initial = milliseconds(300);
  RedisClient c(o);
  ASSERT_TRUE(c.command({"PING"}).isOk());
  server.stop();
  auto r1 = c.command({"PING"});  // the broken connection is noticed
  ASSERT_FALSE(r1.isOk());
  EXPECT_EQ(r1.status().code(), StatusCode::kUnavailable);
  auto r2 = c.command({"PING"});  // reconnect attempt refused by the server
  ASSERT_FALSE(r2.isOk());
  const auto t0 = std::chrono::steady_clock::now();
  auto r3 = c.command({"PING"});  // within the backoff: fails at once, says when it retries
  ASSERT_FALSE(r3.isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(50));
  EXPECT_NE(r3.status().message().find("next attempt"), std::string::npos)
      << r3.status().toString();
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(testing::waitFor([&] { return c.command({"PING"}).isOk(); }, 5000));
  EXPECT_EQ(c.connects(), 2u);
}

TEST(RedisClient, ConnectToAClosedPortNamesTheServer) {
  RIPOSTE_REQUIRE_REDIS(server);
  RedisOptions o = optionsFor(server);
  server.stop();
  RedisClient c(o);
  Status st = c.connect();
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find(std::to_string(o.port)), std::string::npos) << st.toString();
}

TEST(RedisClient, PubSubDeliversMessagesAndTimesOut) {
  RIPOSTE_REQUIRE_REDIS(server);
  RedisClient sub(optionsFor(server));
  RedisClient pub(optionsFor(server));
  ASSERT_TRUE(sub.subscribe({"ch1", "ch2"}).isOk());
  auto none = sub.readPush(milliseconds(50));
  ASSERT_TRUE(none.isOk());
  EXPECT_FALSE(none->has_value());
  auto receivers = pub.command({"PUBLISH", "ch2", "hello"});
  ASSERT_TRUE(receivers.isOk());
  EXPECT_EQ(receivers->integer, 1);
  auto msg = sub.readPush(milliseconds(2000));
  ASSERT_TRUE(msg.isOk());
  ASSERT_TRUE(msg->has_value());
  const RedisReply& m = **msg;
  ASSERT_EQ(m.elements.size(), 3u);
  EXPECT_EQ(m.elements[0].str, "message");
  EXPECT_EQ(m.elements[1].str, "ch2");
  EXPECT_EQ(m.elements[2].str, "hello");
  // Several messages in one read are returned one by one.
  ASSERT_TRUE(pub.pipeline({{"PUBLISH", "ch1", "a"}, {"PUBLISH", "ch1", "b"}}).isOk());
  std::vector<std::string> got;
  ASSERT_TRUE(testing::waitFor([&] {
    auto r = sub.readPush(milliseconds(100));
    if (r.isOk() && r->has_value()) got.push_back((**r).elements[2].str);
    return got.size() == 2;
  }));
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
  // The server going away is an error, not a silent timeout.
  server.stop();
  bool failed = false;
  ASSERT_TRUE(testing::waitFor([&] {
    auto r = sub.readPush(milliseconds(100));
    failed = !r.isOk();
    return failed;
  }));
  EXPECT_FALSE(sub.connected());
}

}  // namespace
}  // namespace riposte::net
