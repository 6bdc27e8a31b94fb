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

// Every lexical and syntax error of QEMU's qmp-test (docs/protocols/qmp.md §7) gets exactly one
// error, and a command sent right behind it — in the same write, without a newline — is read.
TEST(JsonStream, MalformedInputsOfQemusQmpTestLoseNothing) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{]\n", "E:JSON parse error, expecting value"},
        {"{\xFF", "E:JSON parse error, invalid character"},
        {"{\x01", "E:JSON parse error, invalid character"},
        {"{'bad \xFF", "E:JSON parse error, invalid UTF-8 byte in string"},
        {"{'execute': 'nonexistent', 'id':'\n", "E:JSON parse error, control character in string"},
        {"%p", "E:JSON parse error, stray '%'"},
    };
    for (const auto &[bad, error] : cases) {
        for (const char *sep : {"", "\n", " "}) {
            Collector c;
            c.stream.feed(bad + sep + "{ 'execute': 'no-such-cmd' }");
            EXPECT_EQ(c.events,
                      (std::vector<std::string>{error, "M:{\"execute\": \"no-such-cmd\"}"}))
                << "input: " << bad << sep;
        }
    }
}

// A burst of bad and good commands in one write: every good one is read, each bad one gets one
// error, in order.
TEST(JsonStream, PipelinedBurstOfBadAndGoodCommands) {
    Collector c;
    std::string burst;
    std::vector<std::string> want;
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"%p", "E:JSON parse error, stray '%'"},
        {"{]", "E:JSON parse error, expecting value"},
        {"{\xFF", "E:JSON parse error, invalid character"},
        {"{'a': 1, }", "E:JSON parse error, expecting value"},
        {"{'bad \xFF", "E:JSON parse error, invalid UTF-8 byte in string"},
        {"{'s': '\xC3\x28'}", "E:JSON parse error, invalid UTF-8 sequence in string"},
        {"{'s': '\\q'}", "E:JSON parse error, invalid escape sequence in string"},
        {"-x", "E:JSON parse error, stray '-x'"},
        {"nul", "E:JSON parse error, invalid keyword 'nul'"},
        {"{'a' 1}", "E:JSON parse error, missing : in object pair"},
        {"{1: 2}", "E:JSON parse error, key is not a string in object"},
        {"[1 2]", "E:JSON parse error, expected separator in list"},
        {"{'a': 1 'b': 2}", "E:JSON parse error, expected separator in dict"},
        {"{'a': 1, 'a': 2}", "E:JSON parse error, duplicate key"},
        {"}", "E:JSON parse error, expecting value"},
        {"{'s': '\\uD800'}", "E:JSON parse error, \\uD800 is not a valid Unicode character"},
    };
    for (size_t i = 0; i < bad.size(); ++i) {
        burst += bad[i].first + "{'execute': 'no-such-cmd', 'id': " + std::to_string(i) + "}";
        want.push_back(bad[i].second);
        want.push_back("M:{\"execute\": \"no-such-cmd\", \"id\": " + std::to_string(i) + "}");
    }
    c.stream.feed(burst);
    EXPECT_EQ(c.events, want);
    // The same burst byte by byte reads the same.
    Collector d;
    for (char ch : burst) d.stream.feed(std::string(1, ch));
    EXPECT_EQ(d.events, want);
}

// After a lexical error the lexer skips up to a structural character, a control character other
// than TAB, or 0xFE / 0xFF, and reads that byte afresh (docs/protocols/qmp.md §3).
TEST(JsonStream, RecoveryResumesAtTheRightByte) {
    struct Case {
        std::string input;
        std::vector<std::string> events;
    };
    const std::vector<Case> cases = {
        // skipped: letters, spaces, TAB, quotes, bytes 0x80..0xFD
        {"%p q\t\"'\x80\xFD{'a': 1}", {"E:JSON parse error, stray '%'", "M:{\"a\": 1}"}},
        // each structural character ends the skipping and is read as a token
        {"%x[1]", {"E:JSON parse error, stray '%'", "M:[1]"}},
        {"%x]", {"E:JSON parse error, stray '%'", "E:JSON parse error, expecting value"}},
        {"%x}", {"E:JSON parse error, stray '%'", "E:JSON parse error, expecting value"}},
        {"%x:", {"E:JSON parse error, stray '%'", "E:JSON parse error, expecting value"}},
        {"%x,", {"E:JSON parse error, stray '%'", "E:JSON parse error, expecting value"}},
        // a newline ends it and is whitespace
        {"%x\n1 ", {"E:JSON parse error, stray '%'", "M:1"}},
        // other control characters and 0xFE / 0xFF end it and are errors themselves
        {"%x\x01{}",
         {"E:JSON parse error, stray '%'", "E:JSON parse error, invalid character", "M:{}"}},
        {"%x\xFF{}",
         {"E:JSON parse error, stray '%'", "E:JSON parse error, invalid character", "M:{}"}},
        {"%x\xFE{}",
         {"E:JSON parse error, stray '%'", "E:JSON parse error, invalid character", "M:{}"}},
        // the byte that caused the error is consumed, even a structural one
        {"-{}", {"E:JSON parse error, stray '-{'", "E:JSON parse error, expecting value"}},
        {"01{}", {"E:JSON parse error, stray '01'", "M:{}"}},
        {"1.}[]", {"E:JSON parse error, stray '1.}'", "M:[]"}},
        // a lexical error drops the message in progress: the next '{' starts afresh
        {"{'a': [1, %, {'b': 2}",
         {"E:JSON parse error, stray '%'", "E:JSON parse error, expecting value", "M:{\"b\": 2}"}},
        // a token ended by lookahead: the byte is read again
        {"[1]true{}", {"M:[1]", "M:true", "M:{}"}},
        {"12,", {"M:12", "E:JSON parse error, expecting value"}},
    };
    for (const Case &k : cases) {
        Collector c;
        c.stream.feed(k.input);
        EXPECT_EQ(c.events, k.events) << "input: " << k.input;
    }
}

TEST(JsonStream, ScalarsAndNonObjectsAreMessagesForTheDispatcher) {
    Collector c;
    c.stream.feed("null\n[1, 2]\n{}\n");
    EXPECT_EQ(c.events, (std::vector<std::string>{"M:null", "M:[1, 2]", "M:{}"}));
}

// One error per oversized message; the rest of it is skipped up to where its brackets balance,
// and the command behind it is read.
TEST(JsonStream, LimitsGiveOneErrorAndSkipTheRestOfTheMessage) {
    Collector c;
    JsonStream deep = c.limited({1 << 20, 8, 100000});
    deep.feed(std::string(9, '[') + "{'a': [1]}" + std::string(9, ']') + "{'ok': 1}");
    EXPECT_EQ(c.events,
              (std::vector<std::string>{"E:JSON nesting depth limit exceeded", "M:{\"ok\": 1}"}));

    Collector s;
    JsonStream big = s.limited({1000, 64, 100000});
    big.feed("{'x': '" + std::string(5000, 'a') + "', 'y': [1, 2]}{'ok': 2}");
    EXPECT_EQ(s.events,
              (std::vector<std::string>{"E:JSON token size limit exceeded", "M:{\"ok\": 2}"}));
    s.events.clear();  // a top-level string, and a long number
    big.feed("'" + std::string(5000, 'b') + "'" + std::string(2000, '7') + " {'ok': 3}");
    EXPECT_EQ(s.events,
              (std::vector<std::string>{"E:JSON token size limit exceeded",
                                        "E:JSON token size limit exceeded", "M:{\"ok\": 3}"}));

    Collector t;
    JsonStream many = t.limited({1 << 20, 64, 50});
    std::string arr = "[";
    for (int i = 0; i < 100; ++i) arr += "[1],";
    many.feed(arr + "1]{'ok': 3}");
    EXPECT_EQ(t.events,
              (std::vector<std::string>{"E:JSON token count limit exceeded", "M:{\"ok\": 3}"}));

    // An unbalanced oversized message is ended by a control character, like any other.
    Collector u;
    JsonStream open = u.limited({1 << 20, 8, 100000});
    open.feed(std::string(100, '[') + "{'lost': 1}\x01{'ok': 4}");
    EXPECT_EQ(u.events,
              (std::vector<std::string>{"E:JSON nesting depth limit exceeded",
                                        "E:JSON parse error, invalid character", "M:{\"ok\": 4}"}));
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
    EXPECT_EQ(c.events[0], "E:JSON parse error, invalid character");
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
// byte, the reader went into recovery anyway and swallowed the client's next message. A control
// character still ends a message that outgrew the limit, and gets its own error.
TEST(JsonStream, SyncByteAtTheSizeLimitStillResynchronises) {
    Collector t;
    JsonStream::Limits l;
    l.max_message_bytes = 16;
    auto small = t.limited(l);
    small.feed("{'a': '0123456789");  // 5 bytes of tokens, and a string one byte too long
    small.feed("\x01{'ok': 1}");
    EXPECT_EQ(t.events, (std::vector<std::string>{"E:JSON token size limit exceeded",
                                                  "E:JSON parse error, control character in string",
                                                  "M:{\"ok\": 1}"}));
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
    ok.stream.feed("{'s': '\xE0\xA0\x80\xED\x9F\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBD'}");
    ASSERT_EQ(ok.events.size(), 1u);
    EXPECT_EQ(ok.events[0], "M:{\"s\": \"\\u0800\\uD7FF\\uD800\\uDC00\\uDBFF\\uDFFD\"}");
}

// QEMU's modified UTF-8: noncharacters are refused, raw or escaped; C0 80 is U+0000.
TEST(JsonStream, NoncharactersAreRefusedAndC080IsNul) {
    for (const char *bad : {"\xEF\xBF\xBE", "\xEF\xB7\x90", "\xF4\x8F\xBF\xBF"}) {
        Collector c;
        c.stream.feed(std::string("{'s': '") + bad + "'}");
        EXPECT_EQ(
            c.events,
            (std::vector<std::string>{"E:JSON parse error, invalid UTF-8 sequence in string"}));
    }
    Collector e;
    e.stream.feed("{'s': '\\uFFFF'}{'s': '\\udbff\\udfff'}");
    EXPECT_EQ(e.events,
              (std::vector<std::string>{
                  "E:JSON parse error, \\uFFFF is not a valid Unicode character",
                  "E:JSON parse error, \\udbff\\udfff is not a valid Unicode character"}));
    Collector z;
    z.stream.feed(
        "{'s': 'a\xC0\x80"
        "b\\u0000'}");
    EXPECT_EQ(z.events, (std::vector<std::string>{"M:{\"s\": \"a\\u0000b\\u0000\"}"}));
}

TEST(JsonStream, UnicodeEscapesIncludingSurrogates) {
    Collector c;
    c.stream.feed("{'s': '\\u00e9\\ud83d\\udcbe'}");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_EQ(c.events[0], "M:{\"s\": \"\\u00E9\\uD83D\\uDCBE\"}");
}

}  // namespace
}  // namespace fdplug::qmp
