// Splits a QMP byte stream into JSON messages, in the spirit of QEMU's json-streamer: input may
// arrive in any split, several messages may share a read, 'single-quoted' strings are accepted,
// and after a lexical error the reader skips to the next control character or impossible UTF-8
// byte, so a client can always resynchronise. Memory stays bounded whatever arrives.
#pragma once

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
        size_t max_message_bytes = 1u << 20;
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

  private:
    enum class State { Start, Value, String, Escape, Unicode, Recovery };
    void feed_byte(unsigned char c);
    void fail(const std::string &desc, bool recover);
    void finish();
    bool utf8_continuation(unsigned char c);

    Limits limits_;
    OnMessage on_message_;
    OnError on_error_;
    State state_ = State::Start;
    std::string text_;            // the message so far, rewritten as standard JSON
    std::vector<char> brackets_;  // open '{' / '['
    char quote_ = '"';
    size_t tokens_ = 0;
    unsigned unicode_left_ = 0;
    unsigned utf8_left_ = 0;                         // continuation bytes still due in a string
    unsigned char utf8_lo_ = 0x80, utf8_hi_ = 0xBF;  // range of the next continuation byte
    bool in_scalar_ = false;                         // a bare word or number is being read
};

}  // namespace fdplug::qmp
