#include "monitor/json_stream.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace fdplug::qmp {

namespace {

bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
bool is_structural(unsigned char c) {
    return c == '[' || c == ']' || c == '{' || c == '}' || c == ':' || c == ',';
}
// Where the lexer resynchronises after an error (docs/protocols/qmp.md §3): structural
// characters, ASCII control characters but TAB, and the bytes that never occur in UTF-8 ...
bool ends_recovery(unsigned char c) {
    return is_structural(c) || (c < 0x20 && c != '\t') || c >= 0xFE;
}
bool printable_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7E) return false;
    return true;
}

// QEMU's modified UTF-8 (docs/protocols/qmp.md §3): well-formed UTF-8 without surrogates and
// noncharacters, plus C0 80 for U+0000.
bool valid_code_point(long cp) {
    return cp >= 0 && cp <= 0x10FFFF && !(cp >= 0xFDD0 && cp <= 0xFDEF) &&
           (cp & 0xFFFE) != 0xFFFE && !(cp >= 0xD800 && cp <= 0xDFFF);
}
void append_utf8(std::string &out, long cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}
// One code point from s[i, end); -1 if ill-formed. *next: where the next one starts.
long decode_utf8(const std::string &s, size_t i, size_t end, size_t *next) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    *next = i + 1;
    if (b0 < 0x80) return b0;
    if (b0 >= 0xFE || !(b0 & 0x40)) return -1;  // impossible byte, or a lone continuation
    unsigned len = 0;
    for (unsigned mask = 0x80; b0 & mask; mask >>= 1) ++len;
    long cp = b0 & ((0x80 >> len) - 1);
    for (unsigned k = 1; k < len; ++k) {
        if (i + k >= end || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (s[i + k] & 0x3F);
        *next = i + k + 1;
    }
    static const long min_cp[] = {0x80, 0x800, 0x10000, 0x200000, 0x4000000};
    if (cp == 0 && len == 2) return 0;  // C0 80
    if (!valid_code_point(cp) || cp < min_cp[len - 2]) return -1;
    return cp;
}
long hex4(const std::string &s, size_t i, size_t end) {
    if (end - i < 4) return -1;
    long cp = 0;
    for (size_t k = i; k < i + 4; ++k) {
        const char c = s[k];
        const int d = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (d < 0) return -1;
        cp = cp << 4 | d;
    }
    return cp;
}

using Tok = JsonStream::Tok;
using Token = JsonStream::Token;

// A recursive-descent parser over one message's tokens, with QEMU 7.2's error texts (the first
// error wins). Its depth is bounded by the streamer's nesting limit.
class Parser {
  public:
    explicit Parser(const std::vector<Token> &tokens) : t_(tokens) {}

    bool parse(Json *out, std::string *error) {
        const bool ok = value(*out) && (pos_ == t_.size() || fail("expecting end of input"));
        if (!ok) *error = error_;
        return ok;
    }

  private:
    bool fail(const std::string &what) {
        if (error_.empty()) error_ = "JSON parse error, " + what;
        return false;
    }
    const Token *peek() const { return pos_ < t_.size() ? &t_[pos_] : nullptr; }
    const Token *pop() { return pos_ < t_.size() ? &t_[pos_++] : nullptr; }

    bool value(Json &out) {
        const Token *tok = peek();
        if (!tok) return fail("premature EOI");
        switch (tok->type) {
            case Tok::LCurly:
                return object(out);
            case Tok::LSquare:
                return array(out);
            case Tok::String: {
                ++pos_;
                std::string s;
                if (!string(tok->text, s)) return false;
                out = std::move(s);
                return true;
            }
            case Tok::Integer:
            case Tok::Float:
                ++pos_;
                return number(*tok, out);
            case Tok::Keyword:
                ++pos_;
                if (tok->text == "true") {
                    out = true;
                } else if (tok->text == "false") {
                    out = false;
                } else if (tok->text == "null") {
                    out = nullptr;
                } else {
                    return fail("invalid keyword '" + tok->text + "'");
                }
                return true;
            default:
                return fail("expecting value");
        }
    }

    bool object(Json &out) {
        ++pos_;  // {
        out = Json::object();
        const Token *tok = peek();
        if (!tok) return fail("premature EOI");
        if (tok->type == Tok::RCurly) {
            ++pos_;
            return true;
        }
        if (!pair(out)) return false;
        for (;;) {
            tok = pop();
            if (!tok) return fail("premature EOI");
            if (tok->type == Tok::RCurly) return true;
            if (tok->type != Tok::Comma) return fail("expected separator in dict");
            if (!pair(out)) return false;
        }
    }

    bool pair(Json &object) {
        if (!peek()) return fail("premature EOI");
        Json key;
        if (!value(key)) return false;
        if (!key.is_string()) return fail("key is not a string in object");
        const Token *colon = pop();
        if (!colon) return fail("premature EOI");
        if (colon->type != Tok::Colon) return fail("missing : in object pair");
        Json member;
        if (!value(member)) return fail("Missing value in dict");
        const std::string &name = key.get_ref<const std::string &>();
        if (object.contains(name)) return fail("duplicate key");
        object[name] = std::move(member);
        return true;
    }

    bool array(Json &out) {
        ++pos_;  // [
        out = Json::array();
        const Token *tok = peek();
        if (!tok) return fail("premature EOI");
        if (tok->type == Tok::RSquare) {
            ++pos_;
            return true;
        }
        for (;;) {
            Json element;
            if (!value(element)) return fail("expecting value");
            out.push_back(std::move(element));
            tok = pop();
            if (!tok) return fail("premature EOI");
            if (tok->type == Tok::RSquare) return true;
            if (tok->type != Tok::Comma) return fail("expected separator in list");
        }
    }

    // Like nlohmann's own parser: unsigned if it fits, else signed, else a double. A number
    // beyond a double's range is an error (QEMU would send back "inf", which is not JSON).
    bool number(const Token &tok, Json &out) {
        const std::string &s = tok.text;
        const char *first = s.data(), *last = s.data() + s.size();
        if (tok.type == Tok::Integer) {
            if (s[0] != '-') {
                uint64_t u = 0;
                auto [end, ec] = std::from_chars(first, last, u);
                if (ec == std::errc() && end == last) {
                    out = u;
                    return true;
                }
            } else {
                int64_t i = 0;
                auto [end, ec] = std::from_chars(first, last, i);
                if (ec == std::errc() && end == last) {
                    out = i;
                    return true;
                }
            }
        }
        const double d = std::strtod(s.c_str(), nullptr);
        if (!std::isfinite(d)) return fail("number out of range");
        out = d;
        return true;
    }

    bool string(const std::string &text, std::string &out) {
        const size_t end = text.size() - 1;  // the closing quote
        for (size_t i = 1; i < end;) {
            if (text[i] != '\\') {
                size_t next = 0;
                const long cp = decode_utf8(text, i, end, &next);
                if (cp < 0) return fail("invalid UTF-8 sequence in string");
                append_utf8(out, cp);
                i = next;
                continue;
            }
            const size_t begin = i;
            const char e = text[i + 1];
            i += 2;
            switch (e) {
                case '"':
                case '\'':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    long cp = hex4(text, i, end);
                    i = std::min(i + 4, end);
                    if (cp >= 0xD800 && cp <= 0xDBFF && end - i >= 2 && text[i] == '\\' &&
                        text[i + 1] == 'u') {
                        const long trailing = hex4(text, i + 2, end);
                        if (trailing >= 0xDC00 && trailing <= 0xDFFF) {
                            cp = 0x10000 + ((cp & 0x3FF) << 10) + (trailing & 0x3FF);
                            i += 6;
                        } else {
                            cp = -1;
                        }
                    }
                    if (!valid_code_point(cp)) {
                        const std::string escape = text.substr(begin, i - begin);
                        return fail(printable_ascii(escape)
                                        ? escape + " is not a valid Unicode character"
                                        : "invalid \\u escape sequence in string");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    return fail("invalid escape sequence in string");
            }
        }
        return true;
    }

    const std::vector<Token> &t_;
    size_t pos_ = 0;
    std::string error_;
};

}  // namespace

bool parse_json_tokens(const std::vector<JsonStream::Token> &tokens, Json *value,
                       std::string *error) {
    return Parser(tokens).parse(value, error);
}

JsonStream::JsonStream(Limits limits, OnMessage on_message, OnError on_error)
    : limits_(limits), on_message_(std::move(on_message)), on_error_(std::move(on_error)) {}

void JsonStream::reset() {
    lex_ = Lex::Start;
    token_.clear();
    dropping_ = false;
    reset_message();
}

void JsonStream::reset_message() {
    tokens_.clear();
    token_bytes_ = 0;
    braces_ = brackets_ = 0;
    skipping_ = false;
}

void JsonStream::feed(std::string_view bytes) {
    for (unsigned char c : bytes) feed_byte(c);
}

// The token being read may not outgrow what is left of the message's budget (QEMU's lexer
// hands on a token that outgrows its own limit as is, and reads the rest of it as new tokens;
// here the token is read to its end and dropped, so the stream stays in step).
void JsonStream::append(unsigned char c) {
    if (dropping_) return;
    token_ += char(c);
    if (token_bytes_ + token_.size() + 1 <= limits_.max_message_bytes) return;
    token_.clear();
    dropping_ = true;
    if (!skipping_) limit_error("JSON token size limit exceeded");
}

void JsonStream::lexical_error(unsigned char c) {
    std::string desc;
    if (!dropping_) token_ += char(c);
    if (!dropping_ && token_.size() <= 64 && printable_ascii(token_)) {
        desc = "stray '" + token_ + "'";  // QEMU's text, where it is safe to quote the input
    } else if (lex_ == Lex::String || lex_ == Lex::StringEscape) {
        desc = c < 0x20 ? "control character in string" : "invalid UTF-8 byte in string";
    } else if (lex_ == Lex::Start) {
        desc = "invalid character";
    } else {
        desc = "invalid number";
    }
    // The message in progress is dropped; the lexer skips to a point of resynchronisation.
    lex_ = Lex::Recovery;
    token_.clear();
    dropping_ = false;
    reset_message();
    on_error_("JSON parse error, " + desc);
}

void JsonStream::emit(Tok type) {
    std::string text = std::move(token_);
    token_.clear();
    const bool dropped = dropping_;
    dropping_ = false;
    lex_ = Lex::Start;
    if (dropped) text.clear();
    process(type, std::move(text));
}

void JsonStream::feed_byte(unsigned char c) {
    for (;;) {  // a byte that ends a token by lookahead is read again in Start
        switch (lex_) {
            case Lex::Recovery:
                if (!ends_recovery(c)) return;
                lex_ = Lex::Start;
                continue;
            case Lex::Start:
                switch (c) {
                    case ' ':
                    case '\t':
                    case '\r':
                    case '\n':
                        return;
                    case '{':
                    case '}':
                    case '[':
                    case ']':
                    case ':':
                    case ',':
                        token_ = char(c);
                        emit(c == '{'   ? Tok::LCurly
                             : c == '}' ? Tok::RCurly
                             : c == '[' ? Tok::LSquare
                             : c == ']' ? Tok::RSquare
                             : c == ':' ? Tok::Colon
                                        : Tok::Comma);
                        return;
                    case '"':
                    case '\'':
                        quote_ = char(c);
                        lex_ = Lex::String;
                        break;
                    case '0':
                        lex_ = Lex::Zero;
                        break;
                    case '-':
                        lex_ = Lex::Sign;
                        break;
                    default:
                        if (c >= '1' && c <= '9') {
                            lex_ = Lex::Digits;
                        } else if (c >= 'a' && c <= 'z') {
                            lex_ = Lex::Keyword;
                        } else {
                            lexical_error(c);
                            return;
                        }
                }
                append(c);
                return;
            case Lex::String:
                if (c < 0x20 || c >= 0xFE) {
                    lexical_error(c);
                    return;
                }
                append(c);  // a dropped token is still read to its closing quote
                if (c == '\\') {
                    lex_ = Lex::StringEscape;
                } else if (c == static_cast<unsigned char>(quote_)) {
                    emit(Tok::String);
                }
                return;
            case Lex::StringEscape:
                if (c < 0x20 || c >= 0xFE) {
                    lexical_error(c);
                    return;
                }
                append(c);
                lex_ = Lex::String;
                return;
            case Lex::Zero:
                if (is_digit(c)) {
                    lexical_error(c);
                    return;
                }
                if (c == '.') {
                    lex_ = Lex::Mantissa;
                    append(c);
                    return;
                }
                emit(Tok::Integer);
                continue;
            case Lex::Digits:
                if (is_digit(c) || c == '.' || c == 'e' || c == 'E') {
                    if (c == '.') lex_ = Lex::Mantissa;
                    if (c == 'e' || c == 'E') lex_ = Lex::ExpE;
                    append(c);
                    return;
                }
                emit(Tok::Integer);
                continue;
            case Lex::Sign:
                if (!is_digit(c)) {
                    lexical_error(c);
                    return;
                }
                lex_ = c == '0' ? Lex::Zero : Lex::Digits;
                append(c);
                return;
            case Lex::Mantissa:
            case Lex::ExpSign:
                if (!is_digit(c)) {
                    lexical_error(c);
                    return;
                }
                lex_ = lex_ == Lex::Mantissa ? Lex::MantissaDigits : Lex::ExpDigits;
                append(c);
                return;
            case Lex::MantissaDigits:
                if (is_digit(c) || c == 'e' || c == 'E') {
                    if (!is_digit(c)) lex_ = Lex::ExpE;
                    append(c);
                    return;
                }
                emit(Tok::Float);
                continue;
            case Lex::ExpE:
                if (c == '+' || c == '-') {
                    lex_ = Lex::ExpSign;
                } else if (is_digit(c)) {
                    lex_ = Lex::ExpDigits;
                } else {
                    lexical_error(c);
                    return;
                }
                append(c);
                return;
            case Lex::ExpDigits:
                if (is_digit(c)) {
                    append(c);
                    return;
                }
                emit(Tok::Float);
                continue;
            case Lex::Keyword:
                if (c >= 'a' && c <= 'z') {
                    append(c);
                    return;
                }
                emit(Tok::Keyword);
                continue;
        }
    }
}

void JsonStream::limit_error(const char *desc) {
    tokens_.clear();
    token_bytes_ = 0;
    skipping_ = true;
    on_error_(desc);
}

// The streamer (docs/protocols/qmp.md §3): a message ends where its braces and brackets balance,
// or where a closing one has no opening one.
void JsonStream::process(Tok type, std::string text) {
    switch (type) {
        case Tok::LCurly:
            ++braces_;
            break;
        case Tok::RCurly:
            --braces_;
            break;
        case Tok::LSquare:
            ++brackets_;
            break;
        case Tok::RSquare:
            --brackets_;
            break;
        default:
            break;
    }
    if (!skipping_) {
        if (token_bytes_ + text.size() + 1 > limits_.max_message_bytes)
            limit_error("JSON token size limit exceeded");
        else if (tokens_.size() + 1 > limits_.max_tokens)
            limit_error("JSON token count limit exceeded");
        else if (size_t(std::max(0L, braces_) + std::max(0L, brackets_)) > limits_.max_depth)
            limit_error("JSON nesting depth limit exceeded");
    }
    if (skipping_) {
        if (!open()) reset_message();
        return;
    }
    token_bytes_ += text.size();
    tokens_.push_back(Token{type, std::move(text)});
    if (open()) return;

    const std::vector<Token> tokens = std::move(tokens_);
    reset_message();
    Json value;
    std::string error;
    if (parse_json_tokens(tokens, &value, &error))
        on_message_(std::move(value));
    else
        on_error_(error);
}

}  // namespace fdplug::qmp
