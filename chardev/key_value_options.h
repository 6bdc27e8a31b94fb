// QEMU's "value,key=value,key=value" option syntax (QemuOpts): a doubled comma is a literal
// comma, and a leading word without '=' is the value of an implied key (the driver, the
// machine type, the chardev backend).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdplug {

class KeyValueOptions {
  public:
    // implied_key: the key a leading bare word is stored under ("" = no implied key).
    static std::optional<KeyValueOptions> parse(std::string_view text, std::string_view implied_key,
                                                std::string *error);

    bool has(std::string_view key) const { return values_.count(std::string(key)) != 0; }
    std::optional<std::string> get(std::string_view key) const;
    std::string get_or(std::string_view key, std::string fallback) const;
    // Removes and returns a key, so that callers can tell which keys nobody consumed.
    std::optional<std::string> take(std::string_view key);
    void set(std::string key, std::string value);
    // Keys in the order they were given.
    const std::vector<std::string> &keys() const { return order_; }
    bool empty() const { return order_.empty(); }

  private:
    std::map<std::string, std::string, std::less<>> values_;
    std::vector<std::string> order_;
};

// "on/off", "yes/no", "true/false" as QEMU accepts them for booleans.
std::optional<bool> parse_bool(std::string_view text);
// Sizes with an optional K/M/G/T suffix (powers of 1024), e.g. "32M", "1440k".
std::optional<uint64_t> parse_size(std::string_view text);
// Integers the way strtoll(…, 0) reads them: 0x hex, leading 0 octal, else decimal.
std::optional<int64_t> parse_int(std::string_view text);

}  // namespace fdplug
