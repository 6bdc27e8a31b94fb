#include "system/machine_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "hw/core/byte_writer.h"
#include "hw/core/crc32.h"
#include "system/machine.h"

namespace fdplug::machine_state {

namespace {

// Device names and types are u16 length + bytes.
class Writer : public ByteWriter {
  public:
    void str(const std::string &s) {
        u(s.size(), 2);
        bytes(s.data(), s.size());
    }
};

class Reader {
  public:
    Reader(std::span<const uint8_t> in, std::string what) : in_(in), what_(std::move(what)) {}
    bool u(size_t width, uint64_t *v, const char *field) {
        if (!need(width, field)) return false;
        uint64_t x = 0;
        for (size_t i = 0; i < width; ++i) x |= uint64_t(in_[pos_ + i]) << (8 * i);
        pos_ += width;
        *v = x;
        return true;
    }
    template <typename T>
    bool num(T *out, const char *field, uint64_t max) {
        uint64_t v;
        if (!u(sizeof(T), &v, field)) return false;
        if (v > max) return fail(field, std::to_string(v) + " is more than " + std::to_string(max));
        *out = T(v);
        return true;
    }
    bool flag(bool *out, const char *field) {
        uint64_t v;
        if (!u(1, &v, field)) return false;
        if (v > 1) return fail(field, std::to_string(v) + " is not a boolean (0 or 1)");
        *out = v != 0;
        return true;
    }
    bool str(std::string *out, const char *field) {
        uint64_t n;
        if (!u(2, &n, field) || !need(n, field)) return false;
        out->assign(reinterpret_cast<const char *>(in_.data() + pos_), n);
        pos_ += n;
        return true;
    }
    bool bytes(std::span<const uint8_t> *out, size_t n, const char *field) {
        if (!need(n, field)) return false;
        *out = in_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    bool done() {
        if (pos_ == in_.size()) return true;
        return fail("(end)", std::to_string(in_.size() - pos_) + " bytes after the last field");
    }
    bool fail(const std::string &field, const std::string &what) {
        if (error.empty()) error = what_ + ": field " + field + ": " + what;
        return false;
    }
    std::string error;

  private:
    bool need(uint64_t n, const char *field) {
        if (in_.size() - pos_ >= n) return true;
        return fail(field, "the data ends before it");
    }
    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    std::string what_;
};

// --- the host's platform parts --------------------------------------------------------------

constexpr const char *kDmaName = "i8237", *kPicName = "i8259", *kCmosName = "mc146818",
                     *kRamName = "ram";

std::vector<uint8_t> encode_dma(const IsaDma::Registers &r) {
    Writer w;
    for (const IsaDma::ChannelState &c : r.channels) {
        w.u(c.base_address, 2);
        w.u(c.base_count, 2);
        w.u(c.current_address, 2);
        w.u(c.current_count, 2);
        w.u(c.mode, 1);
        w.u(c.page, 1);
        w.u(c.masked, 1);
        w.u(c.dreq, 1);
        w.u(c.soft_request, 1);
        w.u(c.terminal_count, 1);
    }
    for (unsigned i = 0; i < 2; ++i) {
        w.u(r.command[i], 1);
        w.u(r.temporary[i], 1);
        w.u(r.flip_flop[i], 1);
    }
    w.bytes(r.pages.data(), r.pages.size());
    return std::move(w.out);
}

bool decode_dma(std::span<const uint8_t> blob, IsaDma::Registers *out, std::string *error) {
    Reader r(blob, kDmaName);
    IsaDma::Registers x;
    for (IsaDma::ChannelState &c : x.channels) {
        if (!r.num(&c.base_address, "base_address", 0xFFFF) ||
            !r.num(&c.base_count, "base_count", 0xFFFF) ||
            !r.num(&c.current_address, "current_address", 0xFFFF) ||
            !r.num(&c.current_count, "current_count", 0xFFFF) || !r.num(&c.mode, "mode", 0xFF) ||
            !r.num(&c.page, "page", 0xFF) || !r.flag(&c.masked, "masked") ||
            !r.flag(&c.dreq, "dreq") || !r.flag(&c.soft_request, "soft_request") ||
            !r.flag(&c.terminal_count, "terminal_count"))
            break;
    }
    for (unsigned i = 0; i < 2 && r.error.empty(); ++i)
        if (!r.num(&x.command[i], "command", 0xFF) || !r.num(&x.temporary[i], "temporary", 0xFF) ||
            !r.flag(&x.flip_flop[i], "flip_flop"))
            break;
    std::span<const uint8_t> pages;
    if (r.error.empty() && r.bytes(&pages, x.pages.size(), "pages"))
        std::memcpy(x.pages.data(), pages.data(), pages.size());
    if (!r.error.empty() || !r.done()) {
        *error = r.error;
        return false;
    }
    *out = x;
    return true;
}

void encode_8259(Writer &w, const I8259::Registers &p) {
    for (uint8_t v : {p.irr, p.isr, p.imr, p.levels, p.icw2, p.icw3, p.lowest_priority, p.elcr})
        w.u(v, 1);
    for (bool b : {p.single, p.need_icw4, p.auto_eoi, p.level_mode, p.read_isr, p.poll,
                   p.special_mask, p.rotate_aeoi})
        w.u(b, 1);
    w.u(p.init_step, 1);
}

bool decode_8259(Reader &r, I8259::Registers *p) {
    for (uint8_t *v : {&p->irr, &p->isr, &p->imr, &p->levels, &p->icw2, &p->icw3})
        if (!r.num(v, "register", 0xFF)) return false;
    if (!r.num(&p->lowest_priority, "lowest_priority", 7) || !r.num(&p->elcr, "elcr", 0xFF))
        return false;
    for (bool *b : {&p->single, &p->need_icw4, &p->auto_eoi, &p->level_mode, &p->read_isr, &p->poll,
                    &p->special_mask, &p->rotate_aeoi})
        if (!r.flag(b, "flag")) return false;
    if (!r.num(&p->init_step, "init_step", 4)) return false;
    if (p->init_step == 1) return r.fail("init_step", "1 is no initialization step (0, 2, 3, 4)");
    return true;
}

std::vector<uint8_t> encode_pic(const PicPair::Registers &r) {
    Writer w;
    encode_8259(w, r.master);
    encode_8259(w, r.slave);
    w.u(r.lines, 2);
    return std::move(w.out);
}

bool decode_pic(std::span<const uint8_t> blob, PicPair::Registers *out, std::string *error) {
    Reader r(blob, kPicName);
    PicPair::Registers x;
    if (!decode_8259(r, &x.master) || !decode_8259(r, &x.slave) ||
        !r.num(&x.lines, "lines", 0xFFFF) || !r.done()) {
        *error = r.error;
        return false;
    }
    *out = x;
    return true;
}

std::vector<uint8_t> encode_cmos(const CmosRtc::Registers &c) {
    Writer w;
    w.bytes(c.ram.data(), c.ram.size());
    w.u(c.index, 1);
    w.u(c.nmi_disabled, 1);
    w.u(uint64_t(c.offset_s), 8);
    return std::move(w.out);
}

bool decode_cmos(std::span<const uint8_t> blob, CmosRtc::Registers *out, std::string *error) {
    Reader r(blob, kCmosName);
    CmosRtc::Registers x;
    std::span<const uint8_t> ram;
    uint64_t offset = 0;
    constexpr int64_t kMaxOffset = 100ll * 366 * 86400;  // a century either way
    if (r.bytes(&ram, x.ram.size(), "ram")) std::memcpy(x.ram.data(), ram.data(), ram.size());
    if (r.error.empty() && r.num(&x.index, "index", 0x7F) &&
        r.flag(&x.nmi_disabled, "nmi_disabled") && r.u(8, &offset, "offset_s")) {
        x.offset_s = int64_t(offset);
        if (x.offset_s < -kMaxOffset || x.offset_s > kMaxOffset)
            r.fail("offset_s",
                   std::to_string(x.offset_s) + " s is more than a century off the host clock");
    }
    if (!r.error.empty() || !r.done()) {
        *error = r.error;
        return false;
    }
    *out = x;
    return true;
}

struct Ram {
    std::vector<std::pair<uint32_t, std::span<const uint8_t>>> pages;  // index, bytes
};

std::vector<uint8_t> encode_ram(const GuestMemory &m) {
    Writer w;
    w.u(m.size(), 8);
    w.u(GuestMemory::kPageSize, 4);
    uint32_t n = 0;
    for (size_t i = 0; i < m.page_count(); ++i) n += m.page(i) != nullptr;
    w.u(n, 4);
    for (size_t i = 0; i < m.page_count(); ++i)
        if (const uint8_t *p = m.page(i)) {
            w.u(i, 4);
            w.bytes(p, GuestMemory::kPageSize);
        }
    return std::move(w.out);
}

bool decode_ram(std::span<const uint8_t> blob, const GuestMemory &m, Ram *out, std::string *error) {
    Reader r(blob, kRamName);
    uint64_t size = 0, page_size = 0, n = 0;
    Ram x;
    if (r.u(8, &size, "size") && size != m.size())
        r.fail("size", "the state has " + std::to_string(size) + " bytes of RAM, this machine " +
                           std::to_string(m.size()) + "; start it with the same -m");
    if (r.error.empty() && r.u(4, &page_size, "page_size") && page_size != GuestMemory::kPageSize)
        r.fail("page_size",
               std::to_string(page_size) + " is not " + std::to_string(GuestMemory::kPageSize));
    if (r.error.empty() && r.u(4, &n, "pages") && n > m.page_count())
        r.fail("pages", std::to_string(n) + " pages, RAM has " + std::to_string(m.page_count()));
    int64_t last = -1;
    for (uint64_t k = 0; k < n && r.error.empty(); ++k) {
        uint64_t index = 0;
        std::span<const uint8_t> bytes;
        if (!r.u(4, &index, "page index")) break;
        if (int64_t(index) <= last || index >= m.page_count()) {
            r.fail("page index", std::to_string(index) + " is out of order or past the end of RAM");
            break;
        }
        last = int64_t(index);
        if (!r.bytes(&bytes, GuestMemory::kPageSize, "page")) break;
        x.pages.emplace_back(uint32_t(index), bytes);
    }
    if (!r.error.empty() || !r.done()) {
        *error = r.error;
        return false;
    }
    *out = std::move(x);
    return true;
}

void apply_ram(GuestMemory &m, const Ram &ram) {
    m.clear();
    for (const auto &[index, bytes] : ram.pages)
        m.write(uint64_t(index) * GuestMemory::kPageSize, bytes);
}

// --- the file --------------------------------------------------------------------------------

enum Kind : uint8_t { kHostPart = 0, kDevice = 1 };

struct Entry {
    uint8_t kind = kHostPart;
    bool has_state = false;
    std::string name, type;
    std::span<const uint8_t> blob;   // loading
    std::vector<uint8_t> bytes;      // saving
    FdplugDevice *device = nullptr;  // this machine's device of that entry
};

std::string describe(const Entry &e) {
    return e.kind == kHostPart ? "host " + e.name
                               : e.type + " at " + e.name + (e.has_state ? "" : " (no state)");
}

// This machine's parts and devices, in the order a file lists them.
std::vector<Entry> machine_entries(Machine &m) {
    std::vector<Entry> out;
    auto part = [&](const char *name) {
        Entry e;
        e.kind = kHostPart;
        e.has_state = true;
        e.name = e.type = name;
        out.push_back(std::move(e));
    };
    if (m.dma()) part(kDmaName);
    if (m.pic()) part(kPicName);
    if (m.cmos()) part(kCmosName);
    part(kRamName);
    for (const auto &d : m.devices()) {
        if (!d->realized) continue;
        Entry e;
        e.kind = kDevice;
        e.has_state = d->type->save_state && d->type->load_state;
        e.name = d->path;
        e.type = d->type->name;
        e.device = d.get();
        out.push_back(std::move(e));
    }
    return out;
}

bool save_device(FdplugDevice *d, std::vector<uint8_t> *out, std::string *error) {
    FdplugBuffer buf;
    char *msg = nullptr;
    if (!d->type->save_state(d->self, &buf, &msg)) {
        *error = "device " + d->path + " (" + d->type->name +
                 "): " + (msg ? msg : "cannot save its state");
        std::free(msg);
        return false;
    }
    std::free(msg);
    *out = std::move(buf.bytes);
    return true;
}

bool load_device(FdplugDevice *d, std::span<const uint8_t> blob, std::string *error) {
    char *msg = nullptr;
    if (!d->type->load_state(d->self, blob.data(), blob.size(), &msg)) {
        *error =
            "device " + d->path + " (" + d->type->name + "): " + (msg ? msg : "refused its state");
        std::free(msg);
        return false;
    }
    std::free(msg);
    return true;
}

uint32_t get_u32(std::span<const uint8_t> b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 |
           uint32_t(b[at + 3]) << 24;
}

// What a file holds, its blobs pointing into `bytes`.
bool parse(std::span<const uint8_t> bytes, std::vector<Entry> *entries, std::string *error) {
    auto fail = [error](const std::string &what) {
        *error = what;
        return false;
    };
    if (bytes.size() < 20)
        return fail("not a device state file: " + std::to_string(bytes.size()) + " bytes");
    if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        return fail("not a device state file of fdplug-host (it does not start with \"FDPLUGVM\")");
    const uint32_t version = get_u32(bytes, 8);
    if (version != kVersion)
        return fail("device state file version " + std::to_string(version) +
                    " is not the one this host reads (" + std::to_string(kVersion) + ")");
    const uint32_t stored = get_u32(bytes, bytes.size() - 4),
                   computed = crc32(bytes.first(bytes.size() - 4));
    if (stored != computed)
        return fail("the device state file is corrupt (its checksum does not match)");
    Reader r(bytes.subspan(12, bytes.size() - 16), "device state file");
    uint64_t count = 0;
    if (!r.u(4, &count, "count")) return fail(r.error);
    if (count > 4096)
        return fail("the device state file lists " + std::to_string(count) + " devices");
    std::vector<Entry> list(count);
    std::vector<uint64_t> lengths(count);
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t kind = 0, flags = 0;
        if (!r.u(1, &kind, "kind") || !r.u(1, &flags, "flags") || !r.str(&list[i].name, "name") ||
            !r.str(&list[i].type, "type") || !r.u(4, &lengths[i], "length"))
            return fail(r.error);
        if (kind > kDevice || flags > 1)
            return fail("the device state file's entry " + std::to_string(i) + " is malformed");
        list[i].kind = uint8_t(kind);
        list[i].has_state = flags & 1;
    }
    for (uint64_t i = 0; i < count; ++i)
        if (!r.bytes(&list[i].blob, lengths[i], "blob")) return fail(r.error);
    if (!r.done()) return fail(r.error);
    *entries = std::move(list);
    return true;
}

}  // namespace

bool save(Machine &m, std::vector<uint8_t> *out, std::string *error) {
    std::vector<Entry> entries = machine_entries(m);
    for (Entry &e : entries) {
        if (e.kind == kHostPart) {
            if (e.name == kDmaName)
                e.bytes = encode_dma(m.dma()->registers());
            else if (e.name == kPicName)
                e.bytes = encode_pic(m.pic()->registers());
            else if (e.name == kCmosName)
                e.bytes = encode_cmos(m.cmos()->registers());
            else
                e.bytes = encode_ram(m.memory());
        } else if (e.has_state && !save_device(e.device, &e.bytes, error)) {
            return false;
        }
    }
    Writer w;
    w.bytes(kMagic, sizeof kMagic);
    w.u(kVersion, 4);
    w.u(entries.size(), 4);
    for (const Entry &e : entries) {
        w.u(e.kind, 1);
        w.u(e.has_state ? 1 : 0, 1);
        w.str(e.name);
        w.str(e.type);
        w.u(e.bytes.size(), 4);
    }
    for (const Entry &e : entries) w.bytes(e.bytes.data(), e.bytes.size());
    w.u(crc32(w.out), 4);
    *out = std::move(w.out);
    return true;
}

bool load(Machine &m, std::span<const uint8_t> bytes, std::string *error) {
    std::vector<Entry> file;
    if (!parse(bytes, &file, error)) return false;

    // The same device set, in the same order.
    const std::vector<Entry> here = machine_entries(m);
    for (size_t i = 0; i < std::max(file.size(), here.size()); ++i) {
        const bool same = i < file.size() && i < here.size() && file[i].kind == here[i].kind &&
                          file[i].name == here[i].name && file[i].type == here[i].type &&
                          file[i].has_state == here[i].has_state;
        if (same) continue;
        *error =
            "the state file does not fit this machine: entry " + std::to_string(i) + " is " +
            (i < file.size() ? describe(file[i]) : std::string("missing")) + " in the file, " +
            (i < here.size() ? describe(here[i]) : std::string("missing")) +
            " here; start the host with the -machine, -device and -drive options of the saved one";
        return false;
    }
    for (size_t i = 0; i < file.size(); ++i) file[i].device = here[i].device;

    // Every host part decoded and checked before anything changes.
    std::optional<IsaDma::Registers> dma;
    std::optional<PicPair::Registers> pic;
    std::optional<CmosRtc::Registers> cmos;
    Ram ram;
    for (const Entry &e : file) {
        if (e.kind == kHostPart) {
            bool ok = true;
            if (e.name == kDmaName)
                ok = decode_dma(e.blob, &dma.emplace(), error);
            else if (e.name == kPicName)
                ok = decode_pic(e.blob, &pic.emplace(), error);
            else if (e.name == kCmosName)
                ok = decode_cmos(e.blob, &cmos.emplace(), error);
            else
                ok = decode_ram(e.blob, m.memory(), &ram, error);
            if (!ok) return false;
        } else if (!e.has_state && !e.blob.empty()) {
            *error = "device " + e.name + " (" + e.type + ") has no state, but the file carries " +
                     std::to_string(e.blob.size()) + " bytes for it";
            return false;
        }
    }

    // A snapshot to put back if a device refuses its state.
    std::vector<std::vector<uint8_t>> before(file.size());
    for (size_t i = 0; i < file.size(); ++i)
        if (file[i].kind == kDevice && file[i].has_state &&
            !save_device(file[i].device, &before[i], error)) {
            *error = "cannot take the snapshot a failed load would go back to: " + *error;
            return false;
        }
    // (plain structs, not optionals: GCC 12 warns about maybe-uninitialized optional payloads)
    const IsaDma::Registers dma0 = m.dma() ? m.dma()->registers() : IsaDma::Registers{};
    const PicPair::Registers pic0 = m.pic() ? m.pic()->registers() : PicPair::Registers{};
    const CmosRtc::Registers cmos0 = m.cmos() ? m.cmos()->registers() : CmosRtc::Registers{};
    const std::vector<uint8_t> ram0 = encode_ram(m.memory());

    // Apply: the host parts first, so that devices driving their IRQ and DREQ lines on load
    // meet the restored controllers.
    if (dma) m.dma()->set_registers(*dma);
    if (pic) m.pic()->set_registers(*pic);
    if (cmos) m.cmos()->set_registers(*cmos);
    apply_ram(m.memory(), ram);
    for (size_t i = 0; i < file.size(); ++i) {
        if (file[i].kind != kDevice || !file[i].has_state) continue;
        if (load_device(file[i].device, file[i].blob, error)) continue;
        // Put everything back.
        std::string restore_error;
        bool restored = true;
        for (size_t j = 0; j < i; ++j)
            if (file[j].kind == kDevice && file[j].has_state)
                restored = load_device(file[j].device, before[j], &restore_error) && restored;
        if (m.dma()) m.dma()->set_registers(dma0);
        if (m.pic()) m.pic()->set_registers(pic0);
        if (m.cmos()) m.cmos()->set_registers(cmos0);
        Ram ram_back;
        std::string ram_error;
        if (decode_ram(ram0, m.memory(), &ram_back, &ram_error)) apply_ram(m.memory(), ram_back);
        if (!restored)
            *error +=
                "; and putting the machine back failed (" + restore_error + "): restart the host";
        else
            *error += "; nothing was changed";
        m.run_deferred();
        return false;
    }
    m.run_deferred();  // a DMA request a device restored is served as it would have been
    return true;
}

bool save_file(Machine &m, const std::string &filename, std::string *error) {
    std::vector<uint8_t> bytes;
    if (!save(m, &bytes, error)) return false;
    const std::string tmp = filename + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *error = "cannot create '" + tmp + "': " + std::strerror(errno);
        return false;
    }
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            *error = "cannot write '" + tmp + "': " + std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return false;
        }
        done += size_t(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        *error = "cannot write '" + tmp + "': " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    if (::rename(tmp.c_str(), filename.c_str()) != 0) {
        *error = "cannot rename '" + tmp + "' to '" + filename + "': " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

bool load_file(Machine &m, const std::string &filename, std::string *error) {
    const int fd = ::open(filename.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *error = "cannot open '" + filename + "': " + std::strerror(errno);
        return false;
    }
    struct stat st {};
    constexpr off_t kMaxFile = off_t(1) << 32;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxFile) {
        *error =
            "'" + filename + "' is not a device state file (not a regular file of at most 4 GiB)";
        ::close(fd);
        return false;
    }
    std::vector<uint8_t> bytes(size_t(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += size_t(n);
    }
    ::close(fd);
    if (done != bytes.size()) {
        *error = "cannot read '" + filename + "'";
        return false;
    }
    if (!load(m, bytes, error)) {
        *error = "'" + filename + "': " + *error;
        return false;
    }
    return true;
}

}  // namespace fdplug::machine_state
