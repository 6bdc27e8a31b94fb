#include "monitor/json_writer.h"

#include <cstdio>

namespace fdplug::qmp {

namespace {

void append_escaped(std::string &out, const std::string &s) {
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        char buf[16];
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    if (c < 0x20 || c == 0x7F) {  // QEMU escapes DEL too: the line stays printable
                        std::snprintf(buf, sizeof buf, "\\u%04X", c);
                        out += buf;
                    } else {
                        out += char(c);
                    }
            }
            ++i;
            continue;
        }
        // Decode one UTF-8 sequence (strings held by nlohmann are valid UTF-8).
        const unsigned len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
        for (unsigned k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
        i += len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04X\\u%04X", 0xD800 + (cp >> 10),
                          0xDC00 + (cp & 0x3FF));
        } else {
            std::snprintf(buf, sizeof buf, "\\u%04X", cp);
        }
        out += buf;
    }
    out += '"';
}

void write(std::string &out, const Json &v) {
    switch (v.type()) {
        case Json::value_t::object: {
            out += '{';
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (!first) out += ", ";
                first = false;
                append_escaped(out, it.key());
                out += ": ";
                write(out, it.value());
            }
            out += '}';
            break;
        }
        case Json::value_t::array: {
            out += '[';
            for (size_t i = 0; i < v.size(); ++i) {
                if (i) out += ", ";
                write(out, v[i]);
            }
            out += ']';
            break;
        }
        case Json::value_t::string:
            append_escaped(out, v.get_ref<const std::string &>());
            break;
        default:
            out += v.dump();
    }
}

}  // namespace

std::string to_qmp_text(const Json &value) {
    std::string out;
    write(out, value);
    return out;
}

}  // namespace fdplug::qmp
