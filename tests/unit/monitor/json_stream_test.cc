#include "monitor/json_stream.h"

#include <gtest/gtest.h>

#include "monitor/json_writer.h"

namespace fdplug::qmp {
namespace {

struct Collector {
    std::vector<std::string> events;  // "M:<json>" or "E:<desc>"
    JsonStream stream{[this](Json j) { events.push_back("M:" + to_qmp_text(j)); },
                      [this](const std::string &e) { events.push_back("E:" + e); }};
    JsonStream limited(JsonStream::Limits l) {
        return JsonStream(l, [this](Json j) { events.push_back("M:" + to_qmp_text(j)); },
                          [this](const std::string &e) { events.push_back("E:" + e); });
    }
};

TEST(JsonStream, SingleQuotesAreAccepted) {
    Collector c;
    c.stream.feed("{ 'execute': 'qmp_capabilities', 'id': 'it''s' }");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_TRUE(c.events[0].starts_with("E:JSON parse error, ")) << "two adjacent strings: " << c.events[0];
    Collector d;
    d.stream.feed("{'execute': 'x', 'arguments': {'s': 'a \"quoted\" \\' word'}}");
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_EQ(d.events[0], "M:{\"execute\": \"x\", \"arguments\": {\"s\": \"a \\\"quoted\\\" ' word\"}}");
}

TEST(JsonStream, ByteByByteAndManyPerChunk) {
    Collector c;
    const std::string msg = "{\"execute\": \"query-status\", \"id\": [1, {\"a\": null}]}";
    for (char ch : msg) c.stream.feed(std::string(1, ch));
    c.stream.feed(msg + msg + "\n" + msg);
    ASSERT_EQ(c.events.size(), 4u);
    for (const auto &e : c.events) EXPECT_EQ(e, "M:" + msg);
}

// Every malformed input of qmp-protocol.md §7 gets exactly one error, and the next message works.
TEST(JsonStream, MalformedInputsRecover) {
    const std::vector<std::string> cases = {
        "{]", "{\xFF", "{\x01", "{'bad \xFF", "{'execute': 'nonexistent', 'id':'\n", "%p\n",
        "{\"a\": \"\xC3\x28\"}\n", "\"unterminated\x02", "{'a': 1} trailing-garbage\n",
    };
    for (const std::string &bad : cases) {
        Collector c;
        c.stream.feed(bad);
        c.stream.feed("{'execute': 'no-such-cmd'}");
        ASSERT_FALSE(c.events.empty()) << bad;
        EXPECT_EQ(c.events.back(), "M:{\"execute\": \"no-such-cmd\"}") << "after: " << bad;
        size_t errors = 0;
        for (const auto &e : c.events) errors += e.starts_with("E:");
        EXPECT_GE(errors, 1u) << bad;
    }
}

TEST(JsonStream, ScalarsAndNonObjectsAreMessagesForTheDispatcher) {
    Collector c;
    c.stream.feed("null\n[1, 2]\n{}\n");
    EXPECT_EQ(c.events, (std::vector<std::string>{"M:null", "M:[1, 2]", "M:{}"}));
}

TEST(JsonStream, LimitsProduceQemuErrorsAndReset) {
    Collector c;
    JsonStream deep = c.limited({1 << 20, 8, 100000});
    deep.feed(std::string(9, '[') + "\n");
    deep.feed("{'ok': 1}");
    EXPECT_EQ(c.events.front(), "E:JSON nesting depth limit exceeded");
    EXPECT_EQ(c.events.back(), "M:{\"ok\": 1}");

    Collector s;
    JsonStream big = s.limited({1000, 64, 100000});
    big.feed("{'x': '" + std::string(5000, 'a') + "'}\n{'ok': 2}");
    EXPECT_EQ(s.events.front(), "E:JSON token size limit exceeded");
    EXPECT_EQ(s.events.back(), "M:{\"ok\": 2}");

    Collector t;
    JsonStream many = t.limited({1 << 20, 64, 50});
    std::string arr = "[";
    for (int i = 0; i < 100; ++i) arr += "1,";
    many.feed(arr + "1]\n{'ok': 3}");
    EXPECT_EQ(t.events.front(), "E:JSON token count limit exceeded");
    EXPECT_EQ(t.events.back(), "M:{\"ok\": 3}");
}

TEST(JsonWriter, QemuSpacingAndAsciiOnly) {
    Json j = Json::object();
    j["return"] = Json::object();
    j["id"] = Json::array({1, "two", nullptr, true});
    EXPECT_EQ(to_qmp_text(j), "{\"return\": {}, \"id\": [1, \"two\", null, true]}");
    EXPECT_EQ(to_qmp_text(Json("caf\xC3\xA9 \xF0\x9F\x92\xBE\n")), "\"caf\\u00E9 \\uD83D\\uDCBE\\n\"");
}

TEST(JsonStream, UnicodeEscapesIncludingSurrogates) {
    Collector c;
    c.stream.feed("{'s': '\\u00e9\\ud83d\\udcbe'}");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_EQ(c.events[0], "M:{\"s\": \"\\u00E9\\uD83D\\uDCBE\"}");
}

}  // namespace
}  // namespace fdplug::qmp
