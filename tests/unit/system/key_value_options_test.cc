#include "chardev/key_value_options.h"

#include <gtest/gtest.h>

#include "system/cli_options.h"

namespace fdplug {
namespace {

TEST(KeyValueOptions, ImpliedKeyAndPairs) {
    std::string err;
    auto o = KeyValueOptions::parse("floppy,id=fd0,unit=1", "driver", &err);
    ASSERT_TRUE(o) << err;
    EXPECT_EQ(o->get("driver"), "floppy");
    EXPECT_EQ(o->get("id"), "fd0");
    EXPECT_EQ(o->get("unit"), "1");
    EXPECT_EQ(o->keys(), (std::vector<std::string>{"driver", "id", "unit"}));
}

TEST(KeyValueOptions, DoubledCommaIsALiteralComma) {
    auto o = KeyValueOptions::parse("file=/tmp/a,,b.img,format=raw", "", nullptr);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->get("file"), "/tmp/a,b.img");
    EXPECT_EQ(o->get("format"), "raw");
}

TEST(KeyValueOptions, BareFlagMeansOnAndTrailingCommaIsFine) {
    auto o = KeyValueOptions::parse("socket,server,", "backend", nullptr);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->get("server"), "on");
}

TEST(KeyValueOptions, EmptyElementsAndKeysAreErrors) {
    std::string err;
    EXPECT_FALSE(KeyValueOptions::parse(",a=1", "", &err));
    EXPECT_NE(err.find("empty element"), std::string::npos);
    EXPECT_FALSE(KeyValueOptions::parse("a=1,=2", "", &err));
    EXPECT_NE(err.find("missing key"), std::string::npos);
}

TEST(KeyValueOptions, TakeRemovesKeys) {
    auto o = KeyValueOptions::parse("a=1,b=2", "", nullptr);
    EXPECT_EQ(o->take("a"), "1");
    EXPECT_EQ(o->keys(), (std::vector<std::string>{"b"}));
    EXPECT_FALSE(o->take("a"));
}

TEST(ValueParsers, BoolsSizesInts) {
    EXPECT_EQ(parse_bool("on"), true);
    EXPECT_EQ(parse_bool("no"), false);
    EXPECT_FALSE(parse_bool("maybe"));
    EXPECT_EQ(parse_size("1440k"), 1440u * 1024);
    EXPECT_EQ(parse_size("32M"), 32u << 20);
    EXPECT_EQ(parse_size("512"), 512u);
    EXPECT_FALSE(parse_size("-1"));
    EXPECT_FALSE(parse_size("12Q"));
    EXPECT_FALSE(parse_size("99999999999999999999T"));
    EXPECT_EQ(parse_int("0x3f0"), 0x3f0);
    EXPECT_EQ(parse_int("010"), 8);
    EXPECT_EQ(parse_int("-5"), -5);
    EXPECT_FALSE(parse_int("5x"));
}

TEST(CommandLine, LibqtestCommandLineParses) {
    std::string err;
    auto c = parse_command_line({"-qtest",     "unix:/tmp/qtest-1.sock",
                                 "-qtest-log", "/dev/null",
                                 "-chardev",   "socket,path=/tmp/qtest-1.qmp,id=char0",
                                 "-mon",       "chardev=char0,mode=control",
                                 "-display",   "none",
                                 "-nographic", "-m",
                                 "32M",        "-nodefaults",
                                 "-drive",     "file=/tmp/x.img,format=raw,if=floppy,snapshot=on",
                                 "-machine",   "pc",
                                 "-device",    "floppy,id=floppy0",
                                 "-global",    "isa-fdc.driveA=d0",
                                 "-accel",     "qtest"},
                                &err);
    ASSERT_TRUE(c) << err;
    EXPECT_TRUE(c->qtest_accel);
    EXPECT_TRUE(c->nodefaults);
    EXPECT_EQ(c->ram_bytes, 32u << 20);
    ASSERT_TRUE(c->qtest);
    EXPECT_EQ(c->qtest->path, "/tmp/qtest-1.sock");
    EXPECT_FALSE(c->qtest->server);
    ASSERT_EQ(c->chardevs.size(), 1u);
    EXPECT_EQ(c->chardevs[0].id, "char0");
    EXPECT_EQ(c->monitors, (std::vector<std::string>{"char0"}));
    ASSERT_EQ(c->devices.size(), 1u);
    EXPECT_EQ(c->devices[0].type, "floppy");
    ASSERT_EQ(c->globals.size(), 1u);
    EXPECT_EQ(c->globals[0].property, "driveA");
    ASSERT_EQ(c->drives.size(), 1u);
    EXPECT_EQ(c->drives[0].get("if"), "floppy");
}

TEST(CommandLine, OldStyleAccelAndQmpShorthand) {
    auto c = parse_command_line(
        {"-machine", "pc,accel=qtest", "-qmp", "tcp:127.0.0.1:4444,server=on,wait=off", "-m", "64"},
        nullptr);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->qtest_accel);
    ASSERT_EQ(c->qmp.size(), 1u);
    EXPECT_EQ(c->qmp[0].transport, ChardevSpec::Transport::Tcp);
    EXPECT_EQ(c->qmp[0].port, "4444");
    EXPECT_TRUE(c->qmp[0].server);
    EXPECT_FALSE(c->qmp[0].wait);
    EXPECT_EQ(c->ram_bytes, 64u << 20) << "a bare -m number is MiB";
}

// QEMU's qmp-test starts "-nodefaults -machine none --preconfig"; -preconfig is the same option.
TEST(CommandLine, PreconfigInBothSpellings) {
    for (const char *spelling : {"--preconfig", "-preconfig"}) {
        auto c = parse_command_line({"-nodefaults", "-machine", "none", spelling}, nullptr);
        ASSERT_TRUE(c) << spelling;
        EXPECT_TRUE(c->preconfig) << spelling;
    }
    auto c = parse_command_line({"-machine", "none"}, nullptr);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->preconfig);
}

TEST(CommandLine, ErrorsNameTheOption) {
    std::string err;
    EXPECT_FALSE(parse_command_line({"-hda", "x.img"}, &err));
    EXPECT_NE(err.find("-hda"), std::string::npos) << err;
    EXPECT_FALSE(parse_command_line({"-device"}, &err));
    EXPECT_NE(err.find("requires an argument"), std::string::npos) << err;
    EXPECT_FALSE(parse_command_line({"-machine", "q35"}, &err));
    EXPECT_NE(err.find("q35"), std::string::npos) << err;
    EXPECT_FALSE(parse_command_line({"-drive", "file=a,colour=red"}, &err));
    EXPECT_NE(err.find("colour"), std::string::npos) << err;
    EXPECT_FALSE(parse_command_line({"-mon", "chardev=c,mode=readline"}, &err));
    EXPECT_FALSE(parse_command_line({"-qmp", "stdio"}, &err));
    EXPECT_FALSE(parse_command_line({"-display", "gtk"}, &err));
    EXPECT_FALSE(parse_command_line({"image.img"}, &err));
}

TEST(CommandLine, DeviceHelpForms) {
    auto a = parse_command_line({"-device", "help"}, nullptr);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->list_devices);
    auto b = parse_command_line({"-device", "floppy,help"}, nullptr);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->device_help, "floppy");
}

}  // namespace
}  // namespace fdplug
