#include "monitor/dispatcher.h"

#include <gtest/gtest.h>

#include <set>

namespace fdplug::qmp {
namespace {

const char *kSchema = R"(
# comment with a 'quote
##
# @Colour:
##
{ 'enum': 'Colour', 'data': [ 'red', 'green' ] }
{ 'struct': 'Base', 'data': { 'id': 'str' } }
{ 'struct': 'Paint', 'base': 'Base', 'data': { 'colour': 'Colour', '*coats': 'int', '*tags': ['str'] } }
{ 'command': 'qmp_capabilities', 'data': { '*enable': [ 'str' ] } }
{ 'command': 'paint', 'data': 'Paint', 'returns': 'Paint' }
{ 'command': 'ping', 'data': { 'n': 'uint8', '*deep': { 'type': 'Base' } } }
{ 'event': 'PAINTED', 'data': { 'id': 'str' } }
)";

class DispatcherTest : public ::testing::Test {
  protected:
    Dispatcher d;
    bool negotiated = true;
    void SetUp() override {
        std::string err;
        ASSERT_TRUE(d.add_schema(kSchema, "test.json", &err)) << err;
        ASSERT_TRUE(d.register_command(
            "qmp_capabilities", [](const Json &) { return Outcome::ok(); }, &err));
        ASSERT_TRUE(d.register_command(
            "paint", [](const Json &a) { return Outcome::ok(a); }, &err));
        ASSERT_TRUE(d.register_command(
            "ping",
            [](const Json &) {
                return Outcome::fail("VM_E_TEST", "it failed", Json{{"hresult", "0xA0040652"}});
            },
            &err));
    }
    Json run(const std::string &text) { return d.handle(Json::parse(text), negotiated); }
    std::string desc(const std::string &text) {
        return run(text)["error"]["desc"].get<std::string>();
    }
};

TEST_F(DispatcherTest, ValidationTextsMatchQemu) {
    EXPECT_EQ(desc(R"({"execute": "paint", "arguments": {"id": "a"}})"),
              "Parameter 'colour' is missing");
    EXPECT_EQ(desc(R"({"execute": "paint", "arguments": {"id": "a", "colour": "red", "x": 1}})"),
              "Parameter 'x' is unexpected");
    EXPECT_EQ(desc(R"({"execute": "paint", "arguments": {"id": 5, "colour": "red"}})"),
              "Invalid parameter type for 'id', expected: string");
    EXPECT_EQ(desc(R"({"execute": "paint", "arguments": {"id": "a", "colour": "blue"}})"),
              "Parameter 'colour' does not accept value 'blue'");
    EXPECT_EQ(
        desc(
            R"({"execute": "paint", "arguments": {"id": "a", "colour": "red", "tags": ["x", 2]}})"),
        "Invalid parameter type for 'tags[1]', expected: string");
    EXPECT_EQ(desc(R"({"execute": "ping", "arguments": {"n": -1}})"),
              "Invalid parameter type for 'n', expected: integer");
    EXPECT_EQ(desc(R"({"execute": "ping", "arguments": {"n": 1, "deep": {}}})"),
              "Parameter 'deep.id' is missing");
}

TEST_F(DispatcherTest, ShapeErrorsInQemuOrderWithId) {
    EXPECT_EQ(run("[1]")["error"]["desc"], "QMP input must be a JSON object");
    EXPECT_FALSE(run("[1]").contains("id"));
    EXPECT_EQ(run(R"({"execute": true, "id": 7})")["id"], 7);
    EXPECT_EQ(desc(R"({"execute": true})"), "QMP input member 'execute' must be a string");
    EXPECT_EQ(desc(R"({"execute": "paint", "arguments": []})"),
              "QMP input member 'arguments' must be an object");
    EXPECT_EQ(desc(R"({"execute": "paint", "extra": true})"),
              "QMP input member 'extra' is unexpected");
    EXPECT_EQ(desc(R"({})"), "QMP input lacks member 'execute'");
    Json r = run(R"({"execute": "nope", "id": {"x": [1, "two"]}})");
    EXPECT_EQ(r["error"]["class"], "CommandNotFound");
    EXPECT_EQ(r["id"], Json::parse(R"({"x": [1, "two"]})"));
}

TEST_F(DispatcherTest, NegotiationRules) {
    negotiated = false;
    EXPECT_EQ(desc(R"({"execute": "paint"})"),
              "Expecting capabilities negotiation with 'qmp_capabilities'");
    EXPECT_TRUE(run(R"({"execute": "qmp_capabilities"})").contains("return"));
    EXPECT_TRUE(negotiated);
    EXPECT_EQ(desc(R"({"execute": "qmp_capabilities"})"),
              "Capabilities negotiation is already complete, command ignored");
}

TEST_F(DispatcherTest, HandlerErrorsCarryExtraMembers) {
    Json r = run(R"({"execute": "ping", "arguments": {"n": 3}, "id": "c1"})");
    EXPECT_EQ(r["error"]["class"], "VM_E_TEST");
    EXPECT_EQ(r["error"]["hresult"], "0xA0040652");
    EXPECT_EQ(r["id"], "c1");
}

TEST_F(DispatcherTest, EventsReachSubscribersOnlyIfDeclared) {
    std::vector<std::string> lines;
    const int token = d.subscribe([&](const std::string &l) { lines.push_back(l); });
    EXPECT_TRUE(d.emit_event("PAINTED", Json{{"id", "a"}}));
    EXPECT_FALSE(d.emit_event("UNDECLARED", Json::object()));
    d.unsubscribe(token);
    EXPECT_TRUE(d.emit_event("PAINTED", Json{{"id", "b"}}));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].starts_with(
        "{\"event\": \"PAINTED\", \"data\": {\"id\": \"a\"}, \"timestamp\": {\"seconds\": "));
    EXPECT_TRUE(lines[0].ends_with("}}\r\n"));
}

TEST_F(DispatcherTest, RegisteringUndeclaredOrTwiceFails) {
    std::string err;
    EXPECT_FALSE(d.register_command(
        "undeclared", [](const Json &) { return Outcome::ok(); }, &err));
    EXPECT_NE(err.find("not declared"), std::string::npos);
    EXPECT_FALSE(d.register_command(
        "paint", [](const Json &) { return Outcome::ok(); }, &err));
}

TEST(QapiSchema, ErrorsNameSourceAndLine) {
    QapiSchema s;
    std::string err;
    EXPECT_FALSE(
        s.add("{ 'enum': 'A', 'data': ['x'] }\n\n{ 'struct': 'S', 'data': { 'm': 'Missing' } }",
              "f.json", &err));
    EXPECT_EQ(err, "f.json:3: type 'Missing' is not defined");
    EXPECT_FALSE(s.type("A")) << "all or nothing";
    EXPECT_FALSE(s.add("{ 'frobnicate': 'X' }", "g.json", &err));
    EXPECT_NE(err.find("g.json:1: unknown definition kind 'frobnicate'"), std::string::npos) << err;
    EXPECT_TRUE(s.add("{ 'enum': 'A', 'data': ['x'] }", "h.json", &err)) << err;
    EXPECT_FALSE(s.add("{ 'enum': 'A', 'data': ['y'] }", "i.json", &err));
    EXPECT_NE(err.find("already defined"), std::string::npos);
    EXPECT_FALSE(s.add("{ 'enum': 'B', 'data': ['x'] ", "j.json", &err) && s.type("B"))
        << "unterminated";
}

TEST_F(DispatcherTest, IntrospectionCoversEveryCommandAndResolvesEveryType) {
    const Json schema = d.schema().introspect();
    std::set<std::string> names, commands;
    for (const Json &e : schema) {
        names.insert(e["name"].get<std::string>());
        if (e["meta-type"] == "command") commands.insert(e["name"].get<std::string>());
    }
    EXPECT_EQ(commands, (std::set<std::string>{"paint", "ping", "qmp_capabilities"}));
    for (const Json &e : schema) {
        for (const char *ref : {"arg-type", "ret-type", "element-type"}) {
            if (e.contains(ref)) {
                EXPECT_TRUE(names.count(e[ref].get<std::string>())) << e.dump();
            }
        }
        if (e["meta-type"] == "object") {
            for (const Json &m : e["members"]) {
                EXPECT_TRUE(names.count(m["type"].get<std::string>())) << e.dump();
            }
        }
    }
}

}  // namespace
}  // namespace fdplug::qmp
