// The floppy stack's error type (hw/block/error/expected.h): a value or an error, the error's
// words and kind kept as given, context put in front, and a kind of another layer's own.
#include "hw/block/error/expected.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace fdplug::floppy {
namespace {

Expected<int> parse_digit(char c) {
    if (c < '0' || c > '9') return Error(ErrorKind::Failed, std::string("'") + c + "' is no digit");
    return c - '0';
}

TEST(Expected, HoldsAValueOrAnError) {
    const Expected<int> seven = parse_digit('7');
    ASSERT_TRUE(seven);
    EXPECT_TRUE(seven.ok());
    EXPECT_EQ(*seven, 7);
    EXPECT_EQ(seven.value(), 7);

    const Expected<int> refused = parse_digit('x');
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind(), ErrorKind::Failed);
    EXPECT_EQ(refused.error().message(), "'x' is no digit");
    EXPECT_THROW((void)refused.value(), std::bad_variant_access) << "no value to take";
}

TEST(Expected, MovesValuesThatCannotBeCopied) {
    Expected<std::unique_ptr<int>> owned = std::make_unique<int>(3);
    ASSERT_TRUE(owned);
    std::unique_ptr<int> taken = std::move(*owned);
    EXPECT_EQ(*taken, 3);
    EXPECT_EQ(*owned, nullptr);
}

TEST(Status, IsSuccessOrAnError) {
    const Status fine;
    EXPECT_TRUE(fine);
    const Status failed = Error(ErrorKind::IoError, "flushing 'a.img' failed");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().kind(), ErrorKind::IoError);
    const Status passed_on = parse_digit('?').error();
    EXPECT_EQ(passed_on.error().message(), "'?' is no digit") << "an Expected's error passes on";
}

TEST(Error, PrefixedKeepsTheKindAndPutsTheContextFirst) {
    const Error<> cause(ErrorKind::NotFound, "floppy image '/a.img' does not exist");
    const Error<> framed = cause.prefixed("floppy drive 'fd0': ");
    EXPECT_EQ(framed.kind(), ErrorKind::NotFound);
    EXPECT_EQ(framed.message(), "floppy drive 'fd0': floppy image '/a.img' does not exist");
    EXPECT_EQ(cause.message(), "floppy image '/a.img' does not exist") << "the cause is kept";
}

// A layer branches on kinds of its own with the same type (floppy management: VpcError).
enum class Verdict : uint8_t { Refused, Broken };

TEST(Error, TakesAKindOfAnotherLayer) {
    const Expected<std::string, Verdict> answer = Error(Verdict::Broken, "out of order");
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error().kind(), Verdict::Broken);
    const Expected<void, Verdict> done;
    EXPECT_TRUE(done);
}

TEST(ErrorKindName, NamesEveryKind) {
    EXPECT_STREQ(error_kind_name(ErrorKind::Failed), "Failed");
    EXPECT_STREQ(error_kind_name(ErrorKind::Unsupported), "Unsupported");
    EXPECT_STREQ(error_kind_name(ErrorKind::BadPath), "BadPath");
    EXPECT_STREQ(error_kind_name(ErrorKind::NotFound), "NotFound");
    EXPECT_STREQ(error_kind_name(ErrorKind::WrongFileType), "WrongFileType");
    EXPECT_STREQ(error_kind_name(ErrorKind::Unreadable), "Unreadable");
    EXPECT_STREQ(error_kind_name(ErrorKind::ReadOnly), "ReadOnly");
    EXPECT_STREQ(error_kind_name(ErrorKind::InUse), "InUse");
    EXPECT_STREQ(error_kind_name(ErrorKind::NoMedium), "NoMedium");
    EXPECT_STREQ(error_kind_name(ErrorKind::UnknownSize), "UnknownSize");
    EXPECT_STREQ(error_kind_name(ErrorKind::IoError), "IoError");
    EXPECT_STREQ(error_kind_name(ErrorKind(99)), "Unknown");
}

}  // namespace
}  // namespace fdplug::floppy
