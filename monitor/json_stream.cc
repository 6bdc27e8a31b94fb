#include "monitor/json_stream.h"

#include <algorithm>
#include <cctype>

namespace fdplug::qmp {

namespace {
bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_sync_byte(unsigned char c) {
    return c < 0x20 || c == 0xC0 || c == 0xC1 || c >= 0xF5;
}
bool is_scalar_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

// nlohmann's messages carry a prefix and position; keep what says what was wrong.
std::string short_reason(const std::string &what) {
    for (const char *marker :
         {"while parsing value - ", "while parsing object - ", "while parsing object key - ",
          "while parsing object separator - ", "while parsing array - "}) {
        const size_t at = what.find(marker);
        if (at != std::string::npos) return what.substr(at + std::string(marker).size());
    }
    return "expecting value";
}
}  // namespace

JsonStream::JsonStream(Limits limits, OnMessage on_message, OnError on_error)
    : limits_(limits), on_message_(std::move(on_message)), on_error_(std::move(on_error)) {}

void JsonStream::reset() {
    state_ = State::Start;
    text_.clear();
    brackets_.clear();
    tokens_ = 0;
    utf8_left_ = unicode_left_ = 0;
    in_scalar_ = false;
}

void JsonStream::feed(std::string_view bytes) {
    for (unsigned char c : bytes) feed_byte(c);
}

void JsonStream::fail(const std::string &desc, bool recover) {
    reset();
    if (recover) state_ = State::Recovery;
    on_error_(desc);
}

void JsonStream::finish() {
    Json value;
    std::string reason;
    // Like QEMU's parser, refuse an object that repeats a key (nlohmann would keep one).
    std::vector<std::vector<std::string>> keys;  // per open object, its keys so far
    bool duplicate = false;
    auto watch = [&](int, Json::parse_event_t event, Json &parsed) {
        if (event == Json::parse_event_t::object_start) {
            keys.emplace_back();
        } else if (event == Json::parse_event_t::object_end) {
            if (!keys.empty()) keys.pop_back();
        } else if (event == Json::parse_event_t::key && !keys.empty()) {
            const std::string key = parsed.get<std::string>();
            auto &seen = keys.back();
            if (std::find(seen.begin(), seen.end(), key) != seen.end()) duplicate = true;
            seen.push_back(key);
        }
        return true;
    };
    try {
        value = Json::parse(text_, watch);
    } catch (const nlohmann::json::parse_error &e) {
        reason = short_reason(e.what());
    } catch (const nlohmann::json::out_of_range &) {
        // A number too large for a double ("1e400"): nlohmann throws out_of_range, not
        // parse_error. Uncaught, it ended the host process (found by tests/fuzz/qmp_stream_fuzz).
        reason = "number out of range";
    }
    if (reason.empty() && duplicate) reason = "duplicate key";
    reset();
    if (!reason.empty())
        on_error_("JSON parse error, " + reason);
    else
        on_message_(std::move(value));
}

bool JsonStream::utf8_continuation(unsigned char c) {
    if (c < utf8_lo_ || c > utf8_hi_) return false;
    utf8_lo_ = 0x80;
    utf8_hi_ = 0xBF;
    --utf8_left_;
    return true;
}

void JsonStream::feed_byte(unsigned char c) {
    if (state_ == State::Recovery) {
        if (is_sync_byte(c)) state_ = State::Start;  // the sync byte itself is consumed
        return;
    }
    if (text_.size() >= limits_.max_message_bytes) {
        // A sync byte that arrives just as the limit is reached still resynchronises: without
        // this, the client's next message was skipped (found by tests/fuzz/qmp_stream_fuzz).
        fail("JSON token size limit exceeded", !is_sync_byte(c));
        return;
    }
    switch (state_) {
        case State::String:
            if (utf8_left_) {
                if (!utf8_continuation(c))
                    fail("JSON parse error, invalid UTF-8 sequence in string", !is_sync_byte(c));
                else
                    text_ += char(c);
                return;
            }
            if (c == quote_) {
                text_ += '"';
                state_ = State::Value;
            } else if (c == '\\') {
                state_ = State::Escape;
            } else if (c < 0x20) {
                fail("JSON parse error, control character in string", false);
            } else if (c == '"') {  // inside a single-quoted string
                text_ += "\\\"";
            } else if (c >= 0x80) {
                if (c < 0xC2 || c > 0xF4) {
                    fail("JSON parse error, invalid UTF-8 byte in string", !is_sync_byte(c));
                    return;
                }
                utf8_left_ = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
                // Well-formed UTF-8 only (RFC 3629): no overlong forms, surrogates or code points
                // past U+10FFFF. Such bytes used to reach the JSON parser, whose error text quoted
                // them back to the client (found by tests/fuzz/qmp_stream_fuzz).
                utf8_lo_ = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
                utf8_hi_ = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
                text_ += char(c);
            } else {
                text_ += char(c);
            }
            return;
        case State::Escape:
            state_ = State::String;
            switch (c) {
                case '\'':
                    text_ += '\'';
                    return;  // QEMU accepts \' in either quoting
                case '"':
                case '\\':
                case '/':
                case 'b':
                case 'f':
                case 'n':
                case 'r':
                case 't':
                    text_ += '\\';
                    text_ += char(c);
                    return;
                case 'u':
                    text_ += "\\u";
                    unicode_left_ = 4;
                    state_ = State::Unicode;
                    return;
                default:
                    fail("JSON parse error, invalid escape sequence in string", !is_sync_byte(c));
                    return;
            }
        case State::Unicode:
            if (!std::isxdigit(c)) {
                fail("JSON parse error, invalid \\u escape in string", !is_sync_byte(c));
                return;
            }
            text_ += char(c);
            if (--unicode_left_ == 0) state_ = State::String;
            return;
        case State::Start:
        case State::Value:
        case State::Recovery:
            break;
    }

    // Outside strings.
    if (in_scalar_ && !is_scalar_char(c)) {
        in_scalar_ = false;
        if (brackets_.empty()) {  // a bare top-level scalar ends here
            finish();
            feed_byte(c);
            return;
        }
    }
    if (is_space(c)) {
        if (state_ == State::Value) text_ += char(c);
        return;
    }
    if (c < 0x20 || c >= 0x80) {
        fail("JSON parse error, invalid character", !is_sync_byte(c));
        return;
    }
    if (++tokens_ > limits_.max_tokens) {
        fail("JSON token count limit exceeded", true);
        return;
    }
    state_ = State::Value;
    switch (c) {
        case '{':
        case '[':
            if (brackets_.size() >= limits_.max_depth) {
                fail("JSON nesting depth limit exceeded", true);
                return;
            }
            brackets_.push_back(char(c));
            text_ += char(c);
            return;
        case '}':
        case ']':
            if (brackets_.empty() || brackets_.back() != (c == '}' ? '{' : '[')) {
                text_ += char(c);
                const std::string reason =
                    brackets_.empty() ? "unexpected end of object or array" : "mismatched brackets";
                reset();
                on_error_("JSON parse error, " + reason);
                return;
            }
            brackets_.pop_back();
            text_ += char(c);
            if (brackets_.empty()) finish();
            return;
        case '"':
        case '\'':
            quote_ = char(c);
            text_ += '"';
            state_ = State::String;
            return;
        case ',':
        case ':':
            text_ += char(c);
            return;
        default:
            if (is_scalar_char(c)) {
                in_scalar_ = true;
                text_ += char(c);
                return;
            }
            fail(std::string("JSON parse error, invalid character '") + char(c) + "'", true);
            return;
    }
}

}  // namespace fdplug::qmp
