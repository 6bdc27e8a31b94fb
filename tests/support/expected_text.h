// What a failed Expected or Status said, or "" when it succeeded: for assertions that print the
// error (ASSERT_EQ(error_text(r), "")) and for checks of what a refusal says.
#pragma once

#include <string>

namespace fdplug::floppy::test {

template <class Result>
std::string error_text(const Result &result) {
    return result ? std::string() : result.error().message();
}

}  // namespace fdplug::floppy::test
