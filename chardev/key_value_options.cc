#include "chardev/key_value_options.h"

#include <cerrno>
#include <cstdlib>

namespace fdplug {

std::optional<KeyValueOptions> KeyValueOptions::parse(std::string_view text,
                                                      std::string_view implied_key,
                                                      std::string *error) {
    KeyValueOptions opts;
    if (text.empty()) return opts;
    // Split on single commas; ",," stands for a literal comma.
    std::vector<std::string> elements(1);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != ',') {
            elements.back() += text[i];
        } else if (i + 1 < text.size() && text[i + 1] == ',') {
            elements.back() += ',';
            ++i;
        } else {
            elements.emplace_back();
        }
    }
    if (elements.size() > 1 && elements.back().empty()) elements.pop_back();  // trailing comma
    for (size_t n = 0; n < elements.size(); ++n) {
        const std::string &element = elements[n];
        if (element.empty()) {
            if (error) *error = "empty element in '" + std::string(text) + "'";
            return std::nullopt;
        }
        const size_t eq = element.find('=');
        if (eq == std::string::npos) {
            // A leading bare word is the implied key's value; any other means "flag=on".
            if (n == 0 && !implied_key.empty())
                opts.set(std::string(implied_key), element);
            else
                opts.set(element, "on");
        } else if (eq == 0) {
            if (error) *error = "missing key before '=' in '" + std::string(text) + "'";
            return std::nullopt;
        } else {
            opts.set(element.substr(0, eq), element.substr(eq + 1));
        }
    }
    return opts;
}

void KeyValueOptions::set(std::string key, std::string value) {
    auto [it, inserted] = values_.insert_or_assign(key, std::move(value));
    if (inserted) order_.push_back(std::move(key));
}

std::optional<std::string> KeyValueOptions::get(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string KeyValueOptions::get_or(std::string_view key, std::string fallback) const {
    auto v = get(key);
    return v ? *v : std::move(fallback);
}

std::optional<std::string> KeyValueOptions::take(std::string_view key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    std::string v = std::move(it->second);
    values_.erase(it);
    std::erase(order_, std::string(key));
    return v;
}

std::optional<bool> parse_bool(std::string_view t) {
    if (t == "on" || t == "yes" || t == "true") return true;
    if (t == "off" || t == "no" || t == "false") return false;
    return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view text) {
    if (text.empty()) return std::nullopt;
    const std::string s(text);
    errno = 0;
    char *end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 0);
    if (errno || end != s.c_str() + s.size()) return std::nullopt;
    return v;
}

std::optional<uint64_t> parse_size(std::string_view text) {
    if (text.empty()) return std::nullopt;
    unsigned shift = 0;
    switch (text.back()) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        case 't':
        case 'T':
            shift = 40;
            break;
        case 'b':
        case 'B':
            break;
        default:
            shift = 64;
            break;  // no suffix
    }
    if (shift != 64)
        text.remove_suffix(1);
    else
        shift = 0;
    const std::string s(text);
    if (s.empty() || s[0] == '-') return std::nullopt;
    errno = 0;
    char *end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno || end != s.c_str() + s.size()) return std::nullopt;
    if (shift && v > (~0ull >> shift)) return std::nullopt;
    return uint64_t(v) << shift;
}

}  // namespace fdplug
