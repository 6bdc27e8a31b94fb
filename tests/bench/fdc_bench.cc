// Google Benchmark suite: the costs that do not involve a socket, measured on fdplug-host's own
// objects in this process (the real plugin loaded by the host's loader, the host's ISA bus,
// i8237, virtual clock and QMP dispatcher with the real schemas).
//
//   PortIo/*        one guest port access through the host's bus and the plugin ABI (ns)
//   WholeDiskRead   a 1.44 MB disk read, one cylinder per DMA command, timing=fast (us)
//   Qmp*            one QMP command: parsed request -> reply object, and text -> text
//   MediumOpen/*    opening a raw image and its IMD twin (media_bench.cc)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "tests/bench/bench_image.h"
#include "tests/bench/floppy_driver.h"
#include "tests/bench/inproc_host.h"

namespace fdplug::bench {
namespace {

struct Fixture {
    TempImage image;
    std::unique_ptr<InProcHost> host;
    Fixture() {
        host = std::make_unique<InProcHost>(std::vector<std::string>{
            "-machine", "pc", "-accel", "qtest", "-display", "none", "-global",
            "isa-fdc.timing=fast", "-drive", "if=floppy,index=0,format=raw,file=" + image.path()});
        if (!host->ok()) {
            std::fprintf(stderr, "fdc_bench: cannot build the in-process host: %s\n",
                         host->error().c_str());
            std::exit(1);
        }
    }
};

Fixture &fixture() {
    static Fixture f;
    return f;
}

void BM_PortIo_InbMsr(benchmark::State &state) {
    InProcHost &h = *fixture().host;
    for (auto _ : state) benchmark::DoNotOptimize(h.inb(FloppyPorts::kMsr));
}
BENCHMARK(BM_PortIo_InbMsr)->Name("PortIo/inb_MSR");

void BM_PortIo_InbDir(benchmark::State &state) {
    InProcHost &h = *fixture().host;
    for (auto _ : state) benchmark::DoNotOptimize(h.inb(FloppyPorts::kDir));
}
BENCHMARK(BM_PortIo_InbDir)->Name("PortIo/inb_DIR");

void BM_PortIo_OutbDsr(benchmark::State &state) {
    InProcHost &h = *fixture().host;
    for (auto _ : state) h.outb(FloppyPorts::kDsr, 0x00);  // 500 kbit/s, no reset, no precomp
}
BENCHMARK(BM_PortIo_OutbDsr)->Name("PortIo/outb_DSR");

void BM_PortIo_OutbCcr(benchmark::State &state) {
    InProcHost &h = *fixture().host;
    for (auto _ : state) h.outb(FloppyPorts::kCcr, 0x00);
}
BENCHMARK(BM_PortIo_OutbCcr)->Name("PortIo/outb_CCR");

// The bus alone: a port nobody decodes (reads all-ones), for comparison.
void BM_PortIo_Unassigned(benchmark::State &state) {
    InProcHost &h = *fixture().host;
    for (auto _ : state) benchmark::DoNotOptimize(h.inb(0x3F6));
}
BENCHMARK(BM_PortIo_Unassigned)->Name("PortIo/inb_unassigned");

void BM_WholeDiskRead(benchmark::State &state) {
    Fixture &f = fixture();
    std::vector<uint8_t> disk(Geometry144::kDiskBytes);
    uint64_t accesses = 0;
    bool first = true;
    for (auto _ : state) {
        FloppyDriver<InProcHost> drv(*f.host);
        drv.start();
        drv.seek(-1);
        drv.read_disk(0x10000, disk);
        if (!drv.ok()) {
            state.SkipWithError(drv.error().c_str());
            break;
        }
        accesses = drv.accesses();
        if (first) {
            state.PauseTiming();
            if (std::memcmp(disk.data(), f.image.bytes().data(), disk.size()) != 0) {
                state.SkipWithError("the data read differs from the image");
                break;
            }
            first = false;
            state.ResumeTiming();
        }
    }
    state.counters["port_accesses"] = double(accesses);
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(Geometry144::kDiskBytes));
}
BENCHMARK(BM_WholeDiskRead)->Name("WholeDiskRead/fast")->Unit(benchmark::kMicrosecond);

void BM_QmpDispatch(benchmark::State &state, const char *request) {
    InProcHost &h = *fixture().host;
    const qmp::Json req = qmp::Json::parse(request);
    for (auto _ : state) {
        qmp::Json r = h.qmp(req);
        if (!r.contains("return")) {
            state.SkipWithError(r.dump().c_str());
            break;
        }
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK_CAPTURE(BM_QmpDispatch, query_status, R"({"execute": "query-status"})")
    ->Name("QmpDispatch/query-status");
BENCHMARK_CAPTURE(BM_QmpDispatch, query_block, R"({"execute": "query-block"})")
    ->Name("QmpDispatch/query-block");

void BM_QmpText(benchmark::State &state, const char *request) {
    InProcHost &h = *fixture().host;
    for (auto _ : state) {
        const std::string r = h.qmp_text(request);
        if (r.find("\"return\"") == std::string::npos) {
            state.SkipWithError(r.c_str());
            break;
        }
        benchmark::DoNotOptimize(r.data());
    }
}
BENCHMARK_CAPTURE(BM_QmpText, query_status, "{\"execute\": \"query-status\"}\n")
    ->Name("QmpText/query-status");
BENCHMARK_CAPTURE(BM_QmpText, query_block, "{\"execute\": \"query-block\"}\n")
    ->Name("QmpText/query-block");

}  // namespace
}  // namespace fdplug::bench

BENCHMARK_MAIN();
