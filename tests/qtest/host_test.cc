// End-to-end tests of fdplug-host: the real process, started the way libqtest starts QEMU,
// driven over the qtest socket. The test plugin (testdev/) exercises the plugin ABI.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/qtest/libqtest.h"

namespace fdplug::test {
namespace {

std::string testdev_args() {
    return std::string("-plugin-dir ") + std::getenv("FDPLUG_TESTDEV_DIR");
}

// libqtest's default: negotiate QMP after the qtest connection is up.
QTestState::Options with_qmp() {
    return QTestState::Options{};
}

// Runs the host with arguments and no sockets; returns {exit status, combined output}.
std::pair<int, std::string> run_host(const std::string &args) {
    // A host that should have refused its command line would otherwise run forever.
    const std::string cmd =
        "timeout 20 " + std::string(std::getenv("QTEST_QEMU_BINARY")) + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// QEMU 7.2's measured transcript (docs/protocols/qtest.md §5), the parts that do not need the FDC.
TEST(HostQtest, ReproducesQemuReplyFormats) {
    QTestState qts("-machine pc", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    const std::pair<const char *, const char *> exchange[] = {
        {"clock_step", "OK 0"},  // nothing pending: 7.2 leaves the clock where it is
        {"clock_step 1000000", "OK 1000000"},
        {"clock_set 5000000", "OK 5000000"},
        {"clock_set 1000", "OK 5000000"},
        {"inl 0x3f4", "OK 0xffffffff"},
        {"inb 0x3f0", "OK 0x00ff"},
        {"writeb 0x1000 0x12", "OK"},
        {"writew 0x1002 0x3456", "OK"},
        {"writel 0x1004 0x789abcde", "OK"},
        {"writeq 0x1008 0x0123456789abcdef", "OK"},
        {"readb 0x1000", "OK 0x0000000000000012"},
        {"readw 0x1002", "OK 0x0000000000003456"},
        {"readl 0x1004", "OK 0x00000000789abcde"},
        {"readq 0x1008", "OK 0x0123456789abcdef"},
        {"read 0x1000 0x10", "OK 0x12005634debc9a78efcdab8967452301"},
        {"b64read 0x1000 0x10", "OK EgBWNN68mnjvzauJZ0UjAQ=="},
        {"write 0x2000 0x4 0xdeadbeef", "OK"},
        {"read 0x2000 0x4", "OK 0xdeadbeef"},
        {"write 0x2000 0x4 0xab", "OK"},
        {"read 0x2000 0x4", "OK 0xab000000"},
        {"write 0x2000 0x4 0x", "ERR invalid argument size"},
        {"b64write 0x3000 0x3 AQID", "OK"},
        {"read 0x3000 0x3", "OK 0x010203"},
        {"memset 0x4000 0x4 0x5a", "OK"},
        {"read 0x4000 0x4", "OK 0x5a5a5a5a"},
        {"memset 0x4000 0x0 0x11", "OK"},
        {"irq_intercept_in /machine/nonexistent", "FAIL Unknown device"},
        {"irq_intercept_in ioapic", "OK"},
        {"irq_intercept_in ioapic", "OK"},
        {"irq_intercept_out /machine/i440fx", "FAIL IRQ intercept already enabled"},
        {"module_load accel qtest", "OK"},
        {"no_such_command 1 2", "FAIL Unknown command 'no_such_command'"},
        {"OUTB 0x80 0x1", "FAIL Unknown command 'OUTB'"},
    };
    for (const auto &[req, reply] : exchange) EXPECT_EQ(qts.request(req), reply) << req;
    // set_irq_in reports the intercepted pin before its OK.
    qts.request("set_irq_in ioapic unnamed-gpio-in 5 1");
    EXPECT_EQ(qts.transcript()[qts.transcript().size() - 2], "< IRQ raise 5");
    EXPECT_EQ(qts.transcript().back(), "< OK");
    qts.request("set_irq_in ioapic unnamed-gpio-in 5 0");
    EXPECT_EQ(qts.transcript()[qts.transcript().size() - 2], "< IRQ lower 5");
    EXPECT_EQ(qts.quit(), 0);
}

TEST(HostQtest, MalformedRequestsFailAndTheHostSurvives) {
    QTestState qts("-machine pc", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    for (const char *bad :
         {"outb", "outb 0x10000 1", "inb zz", "read 0 0", "readb", "clock_step x",
          "write 0x0 0x4 0xzz11", "set_irq_in ioapic unnamed-gpio-in 99 1", "outb  0x80 1"}) {
        EXPECT_TRUE(qts.request(bad).starts_with("FAIL ")) << bad;
    }
    EXPECT_EQ(qts.request("endianness"), "OK little");
    EXPECT_EQ(qts.quit(), 0);
}

TEST(HostQtest, MachineNoneHasNoIoapicButHasMemory) {
    QTestState qts("-machine none", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    EXPECT_EQ(qts.request("irq_intercept_in ioapic"), "FAIL Unknown device");
    EXPECT_EQ(qts.request("writeb 0x10 0x7"), "OK");
    EXPECT_EQ(qts.readb(0x10), 7);
    EXPECT_EQ(qts.inb(0x3f4), 0xFF);
}

TEST(HostQtest, PluginDeviceRaisesAndLowersItsIrqThroughThePic) {
    QTestState qts(testdev_args() + " -machine pc -device test-isa-dev,irq=5", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    qts.irq_intercept_in("ioapic");
    EXPECT_FALSE(qts.get_irq(5));
    qts.outb(0x300, 1);
    EXPECT_TRUE(qts.get_irq(5));
    // The PIC saw the line: read its IRR through OCW3.
    qts.outb(0x20, 0x0A);
    EXPECT_EQ(qts.inb(0x20) & 0x20, 0x20);
    qts.outb(0x300, 0);
    EXPECT_FALSE(qts.get_irq(5));
}

TEST(HostQtest, PluginDmaThroughThe8237AsAPcProgramsIt) {
    QTestState qts(testdev_args() + " -machine pc -device test-isa-dev,dma=1,irq=7", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    qts.irq_intercept_in("ioapic");
    // Channel 1: 100 bytes at 0x23450, single mode, write to memory.
    qts.outb(0x0A, 0x05);
    qts.outb(0x0C, 0x00);
    qts.outb(0x0B, 0x45);
    qts.outb(0x02, 0x50);
    qts.outb(0x02, 0x34);
    qts.outb(0x83, 0x02);
    qts.outb(0x03, 99);
    qts.outb(0x03, 0);
    qts.outb(0x0A, 0x01);
    qts.outb(0x301, 200);  // the device would give 200; the channel takes 100 and ends with TC
    EXPECT_EQ(qts.inb(0x301), 100);
    EXPECT_EQ(qts.inb(0x302), 3) << "TC seen and transfer done";
    EXPECT_TRUE(qts.get_irq(7));
    const auto mem = qts.memread(0x23450, 101);
    for (size_t i = 0; i < 100; ++i) ASSERT_EQ(mem[i], uint8_t(i * 3 + 1)) << i;
    EXPECT_EQ(mem[100], 0) << "nothing past the count";
    EXPECT_EQ(qts.inb(0x08) & 0x02, 0x02) << "8237 status shows TC on channel 1";

    // And back: memory to device, 16 bytes of 0x11 → sum 0x10.
    qts.request("memset 0x30000 0x10 0x11");
    qts.outb(0x0B, 0x49);  // read transfer, channel 1
    qts.outb(0x0C, 0x00);
    qts.outb(0x02, 0x00);
    qts.outb(0x02, 0x00);
    qts.outb(0x83, 0x03);
    qts.outb(0x03, 15);
    qts.outb(0x03, 0);
    qts.outb(0x0A, 0x01);
    qts.outb(0x302, 16);
    EXPECT_EQ(qts.inb(0x304), 0x10);
}

TEST(HostQtest, PluginTimerFiresAtItsDeadlineOnClockStep) {
    QTestState qts(testdev_args() + " -machine pc -device test-isa-dev", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    qts.irq_intercept_in("ioapic");
    qts.clock_step(1000);
    qts.outb(0x303, 5);  // 5 ms from now
    EXPECT_EQ(qts.clock_step(4'000'000), 4'001'000);
    EXPECT_EQ(qts.inb(0x303), 0);
    EXPECT_EQ(qts.clock_step(), 5'001'000) << "clock_step without argument stops at the deadline";
    EXPECT_EQ(qts.inb(0x303), 1);
    EXPECT_TRUE(qts.get_irq(5));
}

TEST(HostQtest, ChildrenPlugIntoAPluginProvidedBus) {
    QTestState qts(testdev_args() +
                       " -machine pc -device test-isa-dev,id=t -device test-child "
                       "-device test-child,bus=t",
                   with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    EXPECT_EQ(qts.inb(0x305), 2);
}

TEST(HostQtest, SigtermExitsWithStatusZero) {
    QTestState qts("-machine pc", with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    EXPECT_EQ(qts.quit(), 0);
}

// Every option of issue 2's QEMU subset, on one command line, and each one taking effect.
TEST(HostCommandLine, AcceptsTheQemuSubsetEndToEnd) {
    QTestState qts(
        testdev_args() +
            " -machine pc,accel=qtest -m 64M -name demo-vm -nodefaults -S -audio none -nographic"
            " -trace fdc_reset -run-with exit-with-parent=on -global test-isa-dev.irq=7"
            " -drive if=none,id=d0,file=/nonexistent.img,format=raw"
            " -blockdev driver=file,node-name=n0,filename=/nonexistent.img"
            " -device test-isa-dev,id=t0",
        with_qmp());
    ASSERT_TRUE(qts.ok()) << qts.error();
    EXPECT_EQ(qts.qmp("{'execute': 'query-name'}")["return"],
              nlohmann::json::parse(R"({"name": "demo-vm"})"));
    EXPECT_EQ(qts.qmp("{'execute': 'query-status'}")["return"]["status"], "prelaunch") << "-S";
    qts.outb(0x70, 0x31);  // CMOS extended memory (KiB above 1 MiB), high byte: (64M - 1M) / 1K
    EXPECT_EQ(qts.inb(0x71), 0xFC) << "-m 64M";
    qts.irq_intercept_in("ioapic");
    qts.outb(0x300, 1);
    EXPECT_TRUE(qts.get_irq(7)) << "-global test-isa-dev.irq=7";
    EXPECT_EQ(qts.clock_step(1000), 1000) << "accel=qtest: a manual clock";
    EXPECT_EQ(qts.quit(), 0);
}

TEST(HostCommandLine, HelpVersionAndListsExitZero) {
    auto [s1, o1] = run_host("-h");
    EXPECT_EQ(s1, 0);
    EXPECT_NE(o1.find("usage: fdplug-host"), std::string::npos) << o1;
    auto [s2, o2] = run_host("-version");
    EXPECT_EQ(s2, 0);
    EXPECT_NE(o2.find("plugin ABI 1."), std::string::npos) << o2;
    // run_host gives up after 20 s: a host that took "help" for a machine name would run on.
    auto [s3, o3] = run_host("-machine help");
    EXPECT_EQ(s3, 0);
    EXPECT_NE(o3.find("\npc "), std::string::npos) << o3;
    EXPECT_NE(o3.find("\nnone "), std::string::npos) << o3;
    auto [s4, o4] = run_host("-accel help");
    EXPECT_EQ(s4, 0);
    EXPECT_NE(o4.find("\nqtest "), std::string::npos) << o4;
    auto [s5, o5] = run_host("-machine q35");
    EXPECT_EQ(s5, 1);
    EXPECT_NE(o5.find("q35"), std::string::npos) << o5;
    EXPECT_NE(o5.find("known: pc, none"), std::string::npos) << o5;
}

TEST(HostCommandLine, UnknownGlobalTypeNamesItAndTheKnownOnes) {
    auto [status, out] = run_host(testdev_args() + " -machine pc -global no-such-dev.irq=1");
    EXPECT_EQ(status, 1);
    EXPECT_NE(out.find("no-such-dev"), std::string::npos) << out;
    EXPECT_NE(out.find("test-isa-dev"), std::string::npos) << out;
}

// -qtest-log as QEMU 7.2 writes it: OPENED stamped with the wall clock, then each request and
// reply (and async IRQ line) relative to it.
TEST(HostQtest, QtestLogLinesLikeQemu) {
    const std::string log = "/tmp/fdplug-qtest-log-" + std::to_string(getpid()) + ".txt";
    {
        QTestState qts(testdev_args() + " -machine pc -device test-isa-dev -qtest-log " + log,
                       with_qmp());
        ASSERT_TRUE(qts.ok()) << qts.error();
        qts.irq_intercept_in("ioapic");
        qts.outb(0x300, 1);
        EXPECT_EQ(qts.quit(), 0);
    }
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    std::remove(log.c_str());
    std::vector<std::string> lines;
    for (std::string l; std::getline(text, l);) lines.push_back(l);
    ASSERT_GE(lines.size(), 8u) << text.str();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[0], m, std::regex(R"(\[I (\d+)\.\d{6}\] OPENED)")))
        << lines[0];
    EXPECT_GT(std::stoll(m[1]), 1'000'000'000)
        << "seconds of the wall clock, as QEMU's gettimeofday";
    const char *const expected[] = {
        "[R +T] endianness", "[S +T] OK little",      "[R +T] irq_intercept_in ioapic",
        "[S +T] OK",         "[R +T] outb 0x300 0x1", "[S +T] IRQ raise 5",
        "[S +T] OK"};
    for (size_t i = 0; i < std::size(expected); ++i)
        EXPECT_EQ(std::regex_replace(lines[i + 1], std::regex(R"(\+\d+\.\d{6}\])"), "+T]"),
                  expected[i])
            << i;
}

TEST(HostCommandLine, UnknownOptionExitsOneNamingIt) {
    auto [status, out] = run_host("-bogus-option");
    EXPECT_EQ(status, 1);
    EXPECT_NE(out.find("-bogus-option"), std::string::npos) << out;
}

TEST(HostCommandLine, UnknownDeviceTypeNamesItAndTheKnownOnes) {
    auto [status, out] = run_host(testdev_args() + " -machine pc -device no-such-dev");
    EXPECT_EQ(status, 1);
    EXPECT_NE(out.find("no-such-dev"), std::string::npos) << out;
    EXPECT_NE(out.find("test-isa-dev"), std::string::npos) << out;
}

TEST(HostCommandLine, UnknownOrBadPropertyNamesIt) {
    auto [s1, o1] = run_host(testdev_args() + " -machine pc -device test-isa-dev,colour=red");
    EXPECT_EQ(s1, 1);
    EXPECT_NE(o1.find("colour"), std::string::npos) << o1;
    EXPECT_NE(o1.find("iobase"), std::string::npos) << o1;
    auto [s2, o2] = run_host(testdev_args() + " -machine pc -device test-isa-dev,irq=99");
    EXPECT_EQ(s2, 1);
    EXPECT_NE(o2.find("test-isa-dev.irq"), std::string::npos) << o2;
    auto [s3, o3] = run_host(testdev_args() + " -machine pc -global test-isa-dev.nope=1");
    EXPECT_EQ(s3, 1);
    EXPECT_NE(o3.find("nope"), std::string::npos) << o3;
}

TEST(HostCommandLine, OverlappingPortsAreRefused) {
    auto [status, out] = run_host(
        testdev_args() + " -machine pc -device test-isa-dev -device test-isa-dev,irq=7,dma=3");
    EXPECT_EQ(status, 1);
    EXPECT_NE(out.find("overlaps"), std::string::npos) << out;
}

TEST(HostCommandLine, DeviceHelpListsPluginTypesAndProperties) {
    auto [s1, o1] = run_host(testdev_args() + " -device help");
    EXPECT_EQ(s1, 0);
    EXPECT_NE(o1.find("test-isa-dev"), std::string::npos) << o1;
    auto [s2, o2] = run_host(testdev_args() + " -device test-isa-dev,help");
    EXPECT_EQ(s2, 0);
    EXPECT_NE(o2.find("iobase"), std::string::npos) << o2;
}

TEST(HostPlugins, MismatchedAbiIsRefusedNamingBothVersions) {
    auto [status, out] =
        run_host(std::string("-plugin-dir ") + std::getenv("FDPLUG_BADABI_DIR") + " -device help");
    EXPECT_EQ(status, 0);
    EXPECT_NE(out.find("plugin ABI 2.2 does not fit host ABI 1.2"), std::string::npos) << out;
    EXPECT_EQ(out.find("bad-abi-dev"), std::string::npos) << "a refused plugin provides nothing";
}

}  // namespace
}  // namespace fdplug::test
