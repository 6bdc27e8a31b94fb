// Google Benchmark: opening a medium the way a drive does (open_medium(): detection by content,
// the lock, the read, the geometry), for the same 1.44 MB disk as a raw image and as an IMD
// file whose every sector is a full data record (the worst case: nothing compressed).
//
//   MediumOpen/raw   a raw image: stat, open, lock, the boot sector, the format table (us)
//   MediumOpen/imd   an IMD file: the same, plus reading and checking the whole file into the
//                    track model (us; docs/performance.md's goal is <= 5 ms)
//   MediumOpen/td0   a Teledisk file with advanced compression (written by the tests' encoder,
//                    tests/support/td0_bytes.h, greedy LZSS matches): the same, plus expanding
//                    the LZSS + adaptive Huffman stream (us; issue 19's goal is <= 20 ms)
//   MediumOpen/td0-literals  the same disk with a stream of literals only: one Huffman symbol
//                    per byte, the decoder's worst case
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/open_medium.h"
#include "hw/block/media/track_convert.h"
#include "tests/bench/bench_image.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::bench {
namespace {

using floppy::MediumRequest;

[[noreturn]] void die(const std::string &what) {
    std::fprintf(stderr, "media_bench: %s\n", what.c_str());
    std::exit(1);
}

// The IMD twin of the raw image, beside it; its path.
std::string imd_twin(const TempImage &raw) {
    floppy::MemoryImage image(floppy::format_by_name("1.44M")->geometry, raw.bytes());
    auto disk = floppy::read_tracks(image);
    if (!disk) die(disk.error().message());
    auto bytes = floppy::write_imd(floppy::imd_header("01/01/2026 00:00:00", "bench\r\n"), *disk);
    if (!bytes) die(bytes.error().message());
    const std::string path = raw.path() + ".imd";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes->data()), std::streamsize(bytes->size()));
    return path;
}

// The TD0 twin (advanced compression) of the raw image, beside it; its path.
std::string td0_twin(const TempImage &raw, bool literals_only) {
    floppy::test::Td0Spec spec{.advanced = true, .data_rate = 2, .drive_type = 4};
    const auto &b = raw.bytes();
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h)
            spec.tracks.push_back(floppy::test::td0_standard_track(c, h, 18, 2, [&](uint8_t r) {
                const size_t at = ((size_t(c) * 2 + h) * 18 + (r - 1)) * 512;
                return std::vector<uint8_t>(b.begin() + long(at), b.begin() + long(at + 512));
            }));
    const auto bytes = floppy::test::td0_file(spec, literals_only);
    const std::string path = raw.path() + (literals_only ? ".literals.td0" : ".td0");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
    return path;
}

void open_repeatedly(benchmark::State &state, const std::string &path, bool read_only = false) {
    MediumRequest request;
    request.file = path;
    request.read_only = read_only;
    for (auto _ : state) {
        auto medium = floppy::open_medium(request);
        if (!medium) {
            state.SkipWithError(medium.error().message().c_str());
            break;
        }
        benchmark::DoNotOptimize(medium->image.get());
    }
}

void BM_MediumOpenRaw(benchmark::State &state) {
    static TempImage raw;
    open_repeatedly(state, raw.path());
}
BENCHMARK(BM_MediumOpenRaw)->Name("MediumOpen/raw")->Unit(benchmark::kMicrosecond);

void BM_MediumOpenImd(benchmark::State &state) {
    static TempImage raw;
    static const std::string imd = imd_twin(raw);
    open_repeatedly(state, imd);
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(raw.bytes().size()));
}
BENCHMARK(BM_MediumOpenImd)->Name("MediumOpen/imd")->Unit(benchmark::kMicrosecond);

void BM_MediumOpenTd0(benchmark::State &state) {
    static TempImage raw;
    static const std::string td0 = td0_twin(raw, false);
    open_repeatedly(state, td0, true);
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(raw.bytes().size()));
}
BENCHMARK(BM_MediumOpenTd0)->Name("MediumOpen/td0")->Unit(benchmark::kMicrosecond);

void BM_MediumOpenTd0Literals(benchmark::State &state) {
    static TempImage raw;
    static const std::string td0 = td0_twin(raw, true);
    open_repeatedly(state, td0, true);
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(raw.bytes().size()));
}
BENCHMARK(BM_MediumOpenTd0Literals)->Name("MediumOpen/td0-literals")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fdplug::bench
