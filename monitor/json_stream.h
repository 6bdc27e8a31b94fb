// Splits a QMP byte stream into JSON messages the way QEMU 7.2's json-lexer and json-streamer do
// (docs/protocols/qmp.md §3 and §7): input may arrive in any split, several messages may share a
// read, 'single-quoted' strings are accepted. Three stages:
//
// - a lexer turns bytes into tokens. On a byte no token can take it reports one error, then
//   skips bytes up to the next structural character ([ ] { } : ,), ASCII control character
//   other than TAB, or 0xFE / 0xFF, and reads that byte afresh as the start of a token — so a
//   command that follows a bad byte in the same write is not lost;
// - a streamer counts braces and brackets and hands a message's tokens to the parser once they
//   balance. A lexical error drops the tokens of the message in progress (one error for it);
// - a parser builds the value, or reports one syntax error for the whole message.
//
// Memory stays bounded whatever arrives (Limits). After a limit error the rest of the failed
// message is skipped up to the point where its brackets balance, with no further error.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace fdplug::qmp {

using Json = nlohmann::ordered_json;

class JsonStream {
  public:
    struct Limits {
        size_t max_message_bytes = 1u << 20;  // token text of one message (whitespace not counted)
        size_t max_depth = 64;
        size_t max_tokens = 100000;
    };
    // Exactly one of the two per finished message.
    using OnMessage = std::function<void(Json)>;
    using OnError = std::function<void(const std::string &desc)>;

    JsonStream(OnMessage on_message, OnError on_error)
        : JsonStream(Limits{}, std::move(on_message), std::move(on_error)) {}
    JsonStream(Limits limits, OnMessage on_message, OnError on_error);

    void feed(std::string_view bytes);
    void reset();

    enum class Tok : uint8_t {
        LCurly,
        RCurly,
        LSquare,
        RSquare,
        Colon,
        Comma,
        Integer,
        Float,
        Keyword,
        String
    };
    struct Token {
        Tok type;
        std::string text;
    };

  private:
    enum class Lex : uint8_t {
        Start,
        Recovery,
        String,
        StringEscape,
        Zero,
        Digits,
        Sign,
        Mantissa,
        MantissaDigits,
        ExpE,
        ExpSign,
        ExpDigits,
        Keyword
    };
    void feed_byte(unsigned char c);
    void append(unsigned char c);  // drops the token once it outgrows the limit
    void lexical_error(unsigned char c);
    void emit(Tok type);
    void process(Tok type, std::string text);
    void limit_error(const char *desc);
    bool open() const { return (braces_ > 0 || brackets_ > 0) && braces_ >= 0 && brackets_ >= 0; }
    void reset_message();

    Limits limits_;
    OnMessage on_message_;
    OnError on_error_;
    // lexer
    Lex lex_ = Lex::Start;
    char quote_ = '"';
    std::string token_;      // the token being read
    bool dropping_ = false;  // the token outgrew the limit: read to its end, keep nothing
    // streamer
    std::vector<Token> tokens_;  // the message so far
    size_t token_bytes_ = 0;
    long braces_ = 0, brackets_ = 0;
    bool skipping_ = false;  // after a limit error: until the failed message's brackets balance
};

// The parser on its own: one message's tokens to a value, or QEMU's "JSON parse error, ..." text.
bool parse_json_tokens(const std::vector<JsonStream::Token> &tokens, Json *value,
                       std::string *error);

}  // namespace fdplug::qmp
