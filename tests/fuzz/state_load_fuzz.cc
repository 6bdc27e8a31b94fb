// libFuzzer target: loading a device state. The input is a (mostly) hostile state blob for the
// 82077AA core — decoded by state_format::decode(), validated and applied by
// Fdc82077::load_state() — followed by guest operations that run on whatever was loaded. A state
// that passes the checks must never lead to an out-of-bounds access, an overflow or a hang, and
// the controller's own state must keep passing them while the guest drives it.
//
// Input format:
//   byte 0    mode: bits 0-1 framing — 0: the bytes are the whole blob; 1: the harness fixes the
//             blob's CRC; 2/3: the bytes are the payload and the harness adds header and CRC
//             (so the field decoder and the validator see what the fuzzer wrote), of the
//             version this build writes (2) or of the oldest it reads (3, kMinVersion);
//             bit 2: the harness then sets the decoded state's configuration, drive types and
//             profiles and media identities to the rig's (so validation gets past them to the
//             controller's fields); bit 3: the rig runs the fast timing policy
//   bytes 1-2 length L of the state part (little endian), then L bytes
//   the rest  operations after a successful load, 4 bytes each: op, a, b, c
//
// Seeds: FDPLUG_STATE_FUZZ_SEEDS=DIR state_load_fuzz writes real states (mid-seek, mid-sector
// under DMA and PIO, result phase, FORMAT) into DIR and exits. The corpus keeps those of older
// format versions too (v1-*, framing 3 where they are payloads).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hw/block/fdc/fdc82077.h"
#include "hw/block/media/media_fingerprint.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/state/fdc_state_format.h"

namespace fdplug::floppy::fuzz {
namespace {

namespace sf = state_format;

[[noreturn]] void fail(const char *what, const std::string &detail = "") {
    std::fprintf(stderr, "state_load_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ",
                 detail.c_str());
    std::abort();
}

// save_state(), which cannot fail on the harness's in-memory media.
FdcState must_save(Fdc82077 &fdc, const char *what) {
    Expected<FdcState> saved = fdc.save_state();
    if (!saved) fail(what, saved.error().message());
    return std::move(*saved);
}

// 160K media keep the per-input fingerprint cheap (320 sectors).
constexpr Geometry k160{40, 1, 8, DataRate::k250, 300, DriveType::k360, false};

class Host : public FdcHost {
  public:
    int64_t now = 1'000'000;
    int64_t deadline = kNever;
    bool irq = false, drq = false;
    int64_t now_ns() const override { return now; }
    void set_irq(bool level) override { irq = level; }
    void set_drq(bool level) override { drq = level; }
    void arm_timer(int64_t t) override { deadline = t; }
    void cancel_timer() override { deadline = kNever; }
};

const std::vector<uint8_t> &image_bytes(const Geometry &g) {
    static std::vector<uint8_t> b;
    if (b.empty()) {
        b.resize(g.size_bytes());
        for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 13 + (i >> 9));
    }
    return b;
}

struct Rig {
    explicit Rig(bool fast) {
        fdc = std::make_unique<Fdc82077>(
            host, FdcConfig{FdcMode::At, fast ? TimingPolicy::Fast : TimingPolicy::Accurate});
        fdc->drive(0).connect(DriveType::k144);
        fdc->drive(1).connect(DriveType::k144);
        fdc->insert_media(0, std::make_unique<MemoryImage>(k160, image_bytes(k160)));
        // Drive 1 stays empty: every load fingerprints each medium, so one small one keeps the
        // harness fast.
    }
    Host host;
    std::unique_ptr<Fdc82077> fdc;

    // The clock stops at kMaxClockNs (73 years): beyond it no state loads at all, so
    // validate_state() would refuse every state for the clock's sake, not the core's (a loaded
    // timer up to kMaxRelativeNs ahead took it there:
    // corpus/state_load/regress-clock-past-load-limit).
    void advance(int64_t ns) {
        const int64_t end = std::min(host.now + ns, kMaxClockNs);
        for (int guard = 0; guard < 20000 && host.deadline <= end; ++guard) {
            host.now = std::max(host.now, host.deadline);
            host.deadline = kNever;
            fdc->on_timer();
        }
        host.now = std::max(host.now, end);
    }
    std::vector<uint8_t> save() { return sf::encode(must_save(*fdc, "save_state")); }
};

void put_u32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

// The rig's own identity, written over a decoded state (mode bit 2).
void match_rig(FdcState &s, const FdcState &rig) {
    s.config = rig.config;
    for (unsigned u = 0; u < 4; ++u) {
        s.drives[u].type = rig.drives[u].type;
        s.drives[u].profile = rig.drives[u].profile;
        s.drives[u].media = rig.drives[u].media;
    }
}

void run_ops(Rig &r, std::span<const uint8_t> ops) {
    std::vector<uint8_t> buf(1024);
    for (size_t i = 0; i + 4 <= ops.size() && i < 4 * 400; i += 4) {
        const uint8_t op = ops[i], a = ops[i + 1], b = ops[i + 2], c = ops[i + 3];
        switch (op % 7) {
            case 0:
                r.fdc->write(a & 7, b);
                break;
            case 1:
                (void)r.fdc->read(a & 7);
                break;
            case 2: {  // a DMA cycle while DRQ is up
                const size_t len = size_t(1 + (b | (c & 3) << 8));
                const DmaCycle cycle = a % 3 == 0   ? DmaCycle::ToMemory
                                       : a % 3 == 1 ? DmaCycle::FromMemory
                                                    : DmaCycle::Verify;
                const size_t n =
                    r.fdc->dma_transfer(cycle, std::span<uint8_t>(buf.data(), len), c & 4);
                if (n > len) fail("dma_transfer moved more than offered");
                break;
            }
            case 3:
                r.advance(int64_t(a | b << 8) * (c & 1 ? 1000 : 10));
                break;
            case 4:
                r.advance(int64_t(a | b << 8 | c << 16) * 1000);
                break;
            case 5:
                if (a == 0x5A) r.fdc->hardware_reset();
                break;
            default:
                if (r.host.deadline != kNever) r.advance(r.host.deadline - r.host.now);
                break;
        }
        // Whatever the controller does from a loaded state, its state stays one load accepts.
        if (const Status valid = r.fdc->validate_state(r.fdc->state()); !valid)
            fail("a state the core reached fails validate_state", valid.error().message());
    }
}

void write_seeds(const char *dir) {
    auto put = [dir](const std::string &name, const std::vector<uint8_t> &blob, uint8_t mode) {
        std::vector<uint8_t> in = {mode, 0, 0};
        std::vector<uint8_t> part = blob;
        if ((mode & 3) >= 2)
            part =
                std::vector<uint8_t>(blob.begin() + sf::kHeaderSize, blob.end() - sf::kTrailerSize);
        in[1] = uint8_t(part.size());
        in[2] = uint8_t(part.size() >> 8);
        in.insert(in.end(), part.begin(), part.end());
        for (uint8_t b : {1, 5, 0, 0, 6, 0, 0, 0, 4, 100, 0, 0, 1, 4, 0, 0}) in.push_back(b);
        std::ofstream(std::string(dir) + "/" + name, std::ios::binary)
            .write(reinterpret_cast<const char *>(in.data()), std::streamsize(in.size()));
    };
    auto send = [](Rig &r, std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) r.fdc->write(kFifo, b);
    };
    for (int fast = 0; fast < 2; ++fast) {
        const std::string tag = fast ? "fast-" : "accurate-";
        const uint8_t m = uint8_t(fast ? 8 : 0);
        Rig r(fast);
        put(tag + "power-on", r.save(), uint8_t(m | 2 | 4));
        r.fdc->write(kDor, 0x1C);
        send(r, {0x03, 0xDF, 0x02});
        r.advance(600'000'000);
        send(r, {0x0F, 0x00, 30});
        r.advance(7'000'000);
        put(tag + "mid-seek", r.save(), uint8_t(m | 2 | 4));
        r.advance(200'000'000);
        send(r, {0x08});
        put(tag + "result", r.save(), uint8_t(m | 2 | 4));
        r.fdc->read(kFifo);
        r.fdc->read(kFifo);
        send(r, {0x13, 0x00, 0x07, 0x00});
        r.fdc->write(kCcr, 2);                              // 250 kbit/s for the 160K medium
        send(r, {0x46, 0x00, 15, 0, 3, 2, 4, 0x1B, 0xFF});  // logical cylinder 15 of the 160K
        for (int i = 0; i < 4000 && !(r.fdc->state().ctrl.exec.step == ExecStep::Transfer &&
                                      r.fdc->state().ctrl.exec.stream.moved > 40);
             ++i) {
            r.advance(50'000);
            std::vector<uint8_t> buf(16);
            if (r.host.drq) r.fdc->dma_transfer(DmaCycle::ToMemory, buf, false);
        }
        put(tag + "mid-sector-dma", r.save(), uint8_t(m | 2 | 4));
        put(tag + "mid-sector-dma-raw", r.save(), m);
        send(r, {0x03, 0xDF, 0x03});
        put(tag + "pio", r.save(), uint8_t(m | 1 | 4));
    }
    std::exit(0);
}

}  // namespace
}  // namespace fdplug::floppy::fuzz

using namespace fdplug::floppy;
using namespace fdplug::floppy::fuzz;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    if (const char *dir = std::getenv("FDPLUG_STATE_FUZZ_SEEDS")) write_seeds(dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const uint8_t mode = data[0];
    size_t len = size_t(data[1] | data[2] << 8);
    len = std::min(len, size - 3);
    std::vector<uint8_t> blob(data + 3, data + 3 + len);
    const std::span<const uint8_t> ops(data + 3 + len, size - 3 - len);
    switch (mode & 3) {
        case 0:
            break;
        case 1:
            if (blob.size() >= sf::kHeaderSize + sf::kTrailerSize)
                put_u32(blob, blob.size() - 4,
                        sf::crc32(std::span<const uint8_t>(blob.data(), blob.size() - 4)));
            break;
        default: {
            std::vector<uint8_t> framed(sf::kHeaderSize);
            std::memcpy(framed.data(), sf::kMagic, 8);
            put_u32(framed, 8, (mode & 3) == 2 ? sf::kVersion : sf::kMinVersion);
            put_u32(framed, 12, uint32_t(blob.size()));
            framed.insert(framed.end(), blob.begin(), blob.end());
            framed.resize(framed.size() + 4);
            put_u32(framed, framed.size() - 4,
                    sf::crc32(std::span<const uint8_t>(framed.data(), framed.size() - 4)));
            blob = std::move(framed);
            break;
        }
    }

    Rig r(mode & 8);
    FdcState s;
    std::string error;
    if (!sf::decode(blob, &s, &error)) {
        if (error.empty()) fail("decode refused without a message");
        return 0;
    }
    if (!(s == s)) fail("decoded state not equal to itself");
    if (mode & 4) {
        static const uint64_t fingerprint = [] {
            Rig probe(false);
            return must_save(*probe.fdc, "save_state").drives[0].media.fingerprint;
        }();
        FdcState mine = r.fdc->state();
        mine.drives[0].media.fingerprint = fingerprint;
        match_rig(s, mine);
    }
    const FdcState before = r.fdc->state();
    if (const Status loaded = r.fdc->load_state(s); !loaded) {
        if (loaded.error().message().empty()) fail("load refused without a message");
        if (!(r.fdc->state() == before))
            fail("a refused load changed the device", loaded.error().message());
        return 0;
    }
    // Loaded: the state reads back as loaded, re-encodes losslessly, and runs.
    FdcState back = must_save(*r.fdc, "save_state after load");
    for (unsigned u = 0; u < 4; ++u)
        back.drives[u].media.source = s.drives[u].media.source;  // informational
    if (!(back == s)) fail("the loaded state does not read back");
    FdcState again;
    if (!sf::decode(sf::encode(back), &again, &error) || !(again == back))
        fail("re-encoding is lossy", error);
    run_ops(r, ops);
    return 0;
}
