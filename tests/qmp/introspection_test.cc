// query-commands and query-qmp-schema describe one and the same set of commands, even when a
// schema declares a command nobody registered a handler for; and work a command leaves for
// after its reply runs only then.
#include <gtest/gtest.h>

#include <set>

#include "monitor/dispatcher.h"

namespace fdplug::qmp {
namespace {

const char *kSchema = R"(
{ 'struct': 'OnlyForOrphan', 'data': { 'x': 'int' } }
{ 'struct': 'Shared', 'data': { 'y': 'str' } }
{ 'command': 'qmp_capabilities', 'data': { '*enable': [ 'str' ] } }
{ 'command': 'handled', 'data': 'Shared' }
{ 'command': 'orphan', 'data': 'OnlyForOrphan', 'returns': 'Shared' }
{ 'event': 'DONE' }
)";

std::set<std::string> schema_commands(const Json &schema) {
    std::set<std::string> names;
    for (const Json &e : schema)
        if (e["meta-type"] == "command") names.insert(e["name"].get<std::string>());
    return names;
}

TEST(Introspection, CommandsWithoutHandlerAreNeitherListedNorDescribed) {
    Dispatcher d;
    std::string err;
    ASSERT_TRUE(d.add_schema(kSchema, "test.json", &err)) << err;
    ASSERT_TRUE(d.register_command(
        "qmp_capabilities", [](const Json &) { return Outcome::ok(); }, &err));
    ASSERT_TRUE(d.register_command(
        "handled", [](const Json &) { return Outcome::ok(); }, &err));

    const auto listed = d.command_names();
    const std::set<std::string> commands(listed.begin(), listed.end());
    const Json schema = d.introspect();
    EXPECT_EQ(commands, (std::set<std::string>{"qmp_capabilities", "handled"}));
    EXPECT_EQ(schema_commands(schema), commands);
    EXPECT_EQ(d.unhandled_commands(), std::vector<std::string>{"orphan"});
    // Nothing of the orphan leaks through its types either: no object has member 'x'.
    for (const Json &e : schema) {
        if (e["meta-type"] != "object") continue;
        for (const Json &m : e["members"]) EXPECT_NE(m["name"], "x") << e.dump();
    }
    bool negotiated = true;
    EXPECT_EQ(d.handle(Json::parse(R"({"execute": "orphan", "arguments": {"x": 1}})"),
                       negotiated)["error"]["class"],
              "CommandNotFound");
    // The schema's own view still has everything (validation, documentation).
    EXPECT_EQ(schema_commands(d.schema().introspect()),
              (std::set<std::string>{"qmp_capabilities", "handled", "orphan"}));
}

TEST(Introspection, AfterReplyWorkRunsOnlyWhenTheMonitorSaysSo) {
    Dispatcher d;
    std::string err;
    ASSERT_TRUE(d.add_schema(kSchema, "test.json", &err)) << err;
    int ran = 0;
    ASSERT_TRUE(d.register_command(
        "handled", [&ran](const Json &) { return Outcome::ok().then([&ran] { ++ran; }); }, &err));
    bool negotiated = true;
    const Json reply =
        d.handle(Json::parse(R"({"execute": "handled", "arguments": {"y": "a"}})"), negotiated);
    EXPECT_TRUE(reply.contains("return"));
    EXPECT_EQ(ran, 0) << "not before the reply is sent";
    d.run_after_reply();
    EXPECT_EQ(ran, 1);
    d.run_after_reply();
    EXPECT_EQ(ran, 1) << "once";
    // A request that fails validation leaves nothing to run.
    d.handle(Json::parse(R"({"execute": "handled", "arguments": {}})"), negotiated);
    d.run_after_reply();
    EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace fdplug::qmp
