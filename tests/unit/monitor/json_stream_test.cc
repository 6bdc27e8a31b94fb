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
        return JsonStream(
            l, [this](Json j) { events.push_back("M:" + to_qmp_text(j)); },
            [this](const std::string &e) { events.push_back("E:" + e); });
    }
};

TEST(JsonStream, SingleQuotesAreAccepted) {
    Collector c;
    c.stream.feed("{ 'execute': 'qmp_capabilities', 'id': 'it''s' }");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_TRUE(c.events[0].starts_with("E:JSON parse error, "))
        << "two adjacent strings: " << c.events[0];
    Collector d;
    d.stream.feed("{'execute': 'x', 'arguments': {'s': 'a \"quoted\" \\' word'}}");
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_EQ(d.events[0],
              "M:{\"execute\": \"x\", \"arguments\": {\"s\": \"a \\\"quoted\\\" ' word\"}}");
}

TEST(JsonStream, ByteByByteAndManyPerChunk) {
    Collector c;
    const std::string msg = "{\"execute\": \"query-status\", \"id\": [1, {\"a\": null}]}";
    for (char ch : msg) c.stream.feed(std::string(1, ch));
    c.stream.feed(msg + msg + "\n" + msg);
    ASSERT_EQ(c.events.size(), 4u);
    for (const auto &e : c.events) EXPECT_EQ(e, "M:" + msg);
}

// Every malformed input of docs/protocols/qmp.md §7 gets exactly one error, and the next message
// works.
TEST(JsonStream, MalformedInputsRecover) {
    const std::vector<std::string> cases = {
        "{]",
        "{\xFF",
        "{\x01",
        "{'bad \xFF",
        "{'execute': 'nonexistent', 'id':'\n",
        "%p\n",
        "{\"a\": \"\xC3\x28\"}\n",
        "\"unterminated\x02",
        "{'a': 1} trailing-garbage\n",
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
    EXPECT_EQ(to_qmp_text(Json("caf\xC3\xA9 \xF0\x9F\x92\xBE\n")),
              "\"caf\\u00E9 \\uD83D\\uDCBE\\n\"");
}

// Found by tests/fuzz/qmp_stream_fuzz: the error for a stray DEL byte quoted it raw, so the
// reply line was not printable ASCII (QEMU's writer escapes U+007F like the control characters).
TEST(JsonWriter, EscapesDel) {
    EXPECT_EQ(to_qmp_text(Json("a\x7F"
                               "b\x01")),
              "\"a\\u007Fb\\u0001\"");
    Collector c;
    c.stream.feed("\x7F");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_EQ(c.events[0], "E:JSON parse error, invalid character '\x7F'");
}

// Found by tests/fuzz/qmp_stream_fuzz: a number beyond a double's range made the parser throw an
// exception nobody caught, which ended the host. Now it is a parse error like any other.
TEST(JsonStream, NumberOutOfRangeIsAParseError) {
    Collector c;
    c.stream.feed(
        "{'execute': 'query-status', 'id': 33e333}\n{'n': -1e309}\n{'n': 1e308, 'm': "
        "123456789012345678901234567890}");
    ASSERT_EQ(c.events.size(), 3u);
    EXPECT_EQ(c.events[0], "E:JSON parse error, number out of range");
    EXPECT_EQ(c.events[1], "E:JSON parse error, number out of range");
    EXPECT_TRUE(c.events[2].starts_with("M:{\"n\": 1")) << c.events[2];
}

// Found by tests/fuzz/qmp_stream_fuzz: when the byte that hit the size limit was itself a sync
// byte, the reader went into recovery anyway and swallowed the client's next message.
TEST(JsonStream, SyncByteAtTheSizeLimitStillResynchronises) {
    Collector t;
    JsonStream::Limits l;
    l.max_message_bytes = 16;
    auto small = t.limited(l);
    small.feed("{'a': '012345678");  // 16 bytes of message text so far
    small.feed("\x01{'ok': 1}");
    ASSERT_EQ(t.events.size(), 2u);
    EXPECT_EQ(t.events[0], "E:JSON token size limit exceeded");
    EXPECT_EQ(t.events[1], "M:{\"ok\": 1}");
}

// Found by tests/fuzz/qmp_stream_fuzz: overlong forms, UTF-16 surrogates and code points past
// U+10FFFF passed the reader's UTF-8 check and reached the JSON parser, whose error text quoted
// the raw bytes back in the reply. They are refused as invalid UTF-8, like a bad continuation.
TEST(JsonStream, IllFormedUtf8IsRefusedBeforeTheParser) {
    for (const char *bad :
         {"\xF0\x8F\x92\xBE", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
        Collector c;
        c.stream.feed(std::string("{'s': 'a") + bad + "'}\n{'ok': 1}");
        ASSERT_EQ(c.events.size(), 2u) << bad;
        EXPECT_EQ(c.events[0], "E:JSON parse error, invalid UTF-8 sequence in string");
        EXPECT_EQ(c.events[1], "M:{\"ok\": 1}");
    }
    Collector ok;  // the edges that are valid
    ok.stream.feed("{'s': '\xE0\xA0\x80\xED\x9F\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF'}");
    ASSERT_EQ(ok.events.size(), 1u);
    EXPECT_EQ(ok.events[0], "M:{\"s\": \"\\u0800\\uD7FF\\uD800\\uDC00\\uDBFF\\uDFFF\"}");
}

TEST(JsonStream, UnicodeEscapesIncludingSurrogates) {
    Collector c;
    c.stream.feed("{'s': '\\u00e9\\ud83d\\udcbe'}");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_EQ(c.events[0], "M:{\"s\": \"\\u00E9\\uD83D\\uDCBE\"}");
}

}  // namespace
}  // namespace fdplug::qmp
