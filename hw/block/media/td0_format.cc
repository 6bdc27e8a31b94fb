#include "hw/block/media/td0_format.h"

#include <algorithm>
#include <array>

#include "hw/block/media/td0_lzss.h"

namespace fdplug::floppy {

namespace {

constexpr uint16_t kCrcPolynomial = 0xA097;
constexpr uint8_t kEndOfTracks = 0xFF;
constexpr uint8_t kCommentFlag = 0x80;  // in the stepping byte
constexpr uint8_t kFmFlag = 0x80;       // in the data rate byte and in a track's head byte
constexpr size_t kCommentHeaderBytes = 10;
constexpr size_t kMaxWarnings = 100;
// Advanced compression before file format 2.0 was LZW, which fdplug does not read.
constexpr uint8_t kFirstLzhVersion = 20;

constexpr std::array<uint16_t, 256> make_crc_table() {
    std::array<uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        uint16_t crc = uint16_t(i << 8);
        for (int bit = 0; bit < 8; ++bit)
            crc = uint16_t((crc & 0x8000) ? (crc << 1) ^ kCrcPolynomial : crc << 1);
        t[i] = crc;
    }
    return t;
}
constexpr std::array<uint16_t, 256> kCrcTable = make_crc_table();

std::string hex8(unsigned v) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    return std::string("0x") + kDigits[(v >> 4) & 15] + kDigits[v & 15];
}
std::string hex16(unsigned v) {
    return hex8(v >> 8) + hex8(v & 0xFF).substr(2);
}

std::string track_name(unsigned c, unsigned h) {
    return "cylinder " + std::to_string(c) + " head " + std::to_string(h);
}

// The data rate field's bits 0-2.
std::optional<DataRate> rate_of(uint8_t byte) {
    switch (byte & 7) {
        case 0:
            return DataRate::k250;
        case 1:
            return DataRate::k300;
        case 2:
        case 3:
            return DataRate::k500;
        case 4:
        case 5:
            return DataRate::k1000;
        default:
            return std::nullopt;
    }
}

// A cursor over the (expanded) file that reports where it stands when something is missing or
// wrong; `where` follows the offset in messages (" of the expanded data" for a "td" file).
class Reader {
  public:
    Reader(std::span<const uint8_t> bytes, std::string where)
        : bytes_(bytes), where_(std::move(where)) {}

    size_t pos() const { return pos_; }
    void seek(size_t pos) { pos_ = pos; }
    size_t left() const { return bytes_.size() - pos_; }
    const std::string &where() const { return where_; }

    // The next `n` bytes, or an empty span + error when the data ends first.
    std::span<const uint8_t> take(size_t n, const std::string &what) {
        if (left() < n) {
            fail(pos_, what + (n == 1 ? " needs 1 byte, but the data ends there"
                                      : " needs " + std::to_string(n) +
                                            " bytes, but the data ends after " +
                                            std::to_string(left()) + " of them"));
            return {};
        }
        auto out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    std::string at(size_t offset) const {
        return "at byte " + std::to_string(offset) + where_ + ": ";
    }
    bool fail(size_t offset, const std::string &what, ErrorKind kind = ErrorKind::Corrupt) {
        error_ = at(offset) + what;
        kind_ = kind;
        return false;
    }
    Error<> error() const { return Error(kind_, error_); }

  private:
    std::span<const uint8_t> bytes_;
    std::string where_;
    std::string error_;
    ErrorKind kind_ = ErrorKind::Corrupt;
    size_t pos_ = 0;
};

void warn(Td0File &file, size_t &dropped, std::string text) {
    if (file.warnings.size() < kMaxWarnings)
        file.warnings.push_back(std::move(text));
    else
        ++dropped;
}

// Expands one data block (encoding byte first) into `out`, which has the sector's size. An
// error text (without the offset) when it does not expand to exactly that size.
std::string expand_block(std::span<const uint8_t> block, std::span<uint8_t> out) {
    const size_t size = out.size();
    const uint8_t encoding = block[0];
    std::span<const uint8_t> in = block.subspan(1);
    auto wrong_size = [&](size_t got) {
        return "encoding " + std::to_string(encoding) + " gives " + std::to_string(got) +
               " bytes for a sector of " + std::to_string(size);
    };
    switch (encoding) {
        case 0:
            if (in.size() != size) return wrong_size(in.size());
            std::copy(in.begin(), in.end(), out.begin());
            return "";
        case 1: {
            if (in.size() != 4)
                return "a repeated-pattern block (encoding 1) holds 4 bytes, not " +
                       std::to_string(in.size());
            const size_t count = size_t(in[0]) | size_t(in[1]) << 8;
            if (count * 2 != size) return wrong_size(count * 2);
            for (size_t i = 0; i < size; i += 2) {
                out[i] = in[2];
                out[i + 1] = in[3];
            }
            return "";
        }
        case 2: {
            size_t done = 0, i = 0;
            while (i < in.size()) {
                const size_t at = i + 1;
                if (in.size() - i < 2)
                    return "a run (encoding 2) at block byte " + std::to_string(at) +
                           " is cut short";
                const unsigned kind = in[i], count = in[i + 1];
                i += 2;
                if (kind == 0) {  // `count` bytes as they are
                    if (in.size() - i < count)
                        return "a literal run at block byte " + std::to_string(at) + " needs " +
                               std::to_string(count) + " bytes, but the block has " +
                               std::to_string(in.size() - i);
                    if (size - done < count) return wrong_size(done + count);
                    std::copy_n(in.begin() + long(i), count, out.begin() + long(done));
                    i += count;
                    done += count;
                    continue;
                }
                // A pattern of 1 << kind bytes, `count` times. Teledisk writes kind 1 (2 bytes);
                // larger kinds are read as MAME reads them.
                if (kind > 7)
                    return "a run at block byte " + std::to_string(at) + " has kind " +
                           std::to_string(kind) + " (0 literal, 1 to 7 repeated pattern)";
                const size_t unit = size_t(1) << kind;
                if (in.size() - i < unit)
                    return "a pattern run at block byte " + std::to_string(at) + " needs " +
                           std::to_string(unit) + " bytes, but the block has " +
                           std::to_string(in.size() - i);
                if ((size - done) / unit < count) return wrong_size(done + unit * count);
                for (unsigned n = 0; n < count; ++n, done += unit)
                    std::copy_n(in.begin() + long(i), unit, out.begin() + long(done));
                i += unit;
            }
            if (done != size) return wrong_size(done);
            return "";
        }
        default:
            return "encoding " + std::to_string(encoding) +
                   " is not a Teledisk data encoding (0 raw, 1 repeated pattern, 2 runs)";
    }
}

// One track record after its sector count: the rest of its header and its sectors.
bool parse_track(Reader &in, Td0File &file, std::vector<size_t> &first_seen, size_t &dropped,
                 std::vector<uint8_t> &sector) {
    const size_t start = in.pos();
    std::span<const uint8_t> head = in.take(4, "a track header");
    if (head.empty()) return false;
    const uint8_t count = head[0], cylinder = head[1], head_byte = head[2];
    const uint8_t crc = uint8_t(td0_crc(head.first(3)));
    if (head[3] != crc)
        return in.fail(start + 3, "the track header's CRC byte is " + hex8(head[3]) +
                                      ", but its bytes give " + hex8(crc));
    if (cylinder >= kMaxTrackCylinders)
        return in.fail(start + 1, "cylinder " + std::to_string(cylinder) +
                                      " lies beyond any drive's reach (0 to " +
                                      std::to_string(kMaxTrackCylinders - 1) + ")");
    if ((head_byte & ~kFmFlag) >= kMaxTrackHeads)
        return in.fail(start + 2, "head byte " + hex8(head_byte) +
                                      " names no head (bit 0: the head, bit 7: FM)");
    const unsigned h = head_byte & 1;
    size_t &seen = first_seen[cylinder * kMaxTrackHeads + h];
    if (seen != SIZE_MAX)
        return in.fail(start, "a second record for " + track_name(cylinder, h) +
                                  " (the first is at byte " + std::to_string(seen) + ")");
    seen = start;

    const bool fm = (file.header.data_rate & kFmFlag) || (head_byte & kFmFlag);
    Track track(fm ? Encoding::Fm : Encoding::Mfm, *rate_of(file.header.data_rate));
    const std::string where = track_name(cylinder, h) + "'s ";
    for (unsigned i = 0; i < count; ++i) {
        const size_t at = in.pos();
        const std::string name = where + "sector " + std::to_string(i);
        std::span<const uint8_t> s = in.take(6, name + "'s header");
        if (s.empty()) return false;
        const uint8_t n = s[3], flags = s[4], stored_crc = s[5];
        const bool has_block = !(flags & (kTd0Skipped | kTd0NoData)) && n <= kMaxSizeCode;
        SectorInfo info{
            .id = {s[0], s[1], s[2], n},
            .size_code = n <= kMaxSizeCode ? n : uint8_t(0),
            .id_crc_ok = !(flags & kTd0NoId),
            .mark = (flags & kTd0NoData) || n > kMaxSizeCode ? DataMark::None
                    : (flags & kTd0Deleted)                  ? DataMark::Deleted
                                                             : DataMark::Normal,
            .data_crc_ok = !(flags & kTd0DataCrcError),
        };
        // Without a data field the data CRC means nothing (track.h); keep it in its one form,
        // so that the same disk compares equal however it was stored (an IMD file keeps none).
        if (info.mark == DataMark::None) info.data_crc_ok = true;
        const std::string sector_name = name + " (R=" + std::to_string(s[2]) + ")";
        uint8_t crc_now;
        bool added;
        if (has_block) {
            const size_t block_at = in.pos();
            std::span<const uint8_t> length = in.take(2, sector_name + "'s data block length");
            if (length.empty()) return false;
            const size_t bytes = size_t(length[0]) | size_t(length[1]) << 8;
            if (bytes == 0)
                return in.fail(block_at, sector_name +
                                             "'s data block is empty: it needs at least its "
                                             "encoding byte");
            std::span<const uint8_t> block = in.take(bytes, sector_name + "'s data block");
            if (block.empty()) return false;
            sector.resize(sector_size(n));
            if (std::string bad = expand_block(block, sector); !bad.empty())
                return in.fail(block_at + 2, sector_name + "'s data block: " + bad);
            crc_now = uint8_t(td0_crc(sector));
            added = track.add(info, sector);
        } else {
            crc_now = uint8_t(td0_crc(s.first(5)));
            // Skipped by DOS allocation: the sector had data, which Teledisk did not keep.
            added = track.add_filled(info, 0);
        }
        if (!added)
            return in.fail(at, sector_name + " takes the track past " +
                                   std::to_string(kMaxTrackDataBytes) +
                                   " bytes of data, more than a track holds");
        if (crc_now != stored_crc)
            warn(file, dropped,
                 in.at(at + 5) + sector_name + "'s CRC byte is " + hex8(stored_crc) + ", but its " +
                     (has_block ? "data gives " : "header gives ") + hex8(crc_now) +
                     (has_block ? " (the data is used as it is)" : ""));
    }
    file.disk.put(cylinder, h, std::move(track));
    return true;
}

}  // namespace

uint16_t td0_crc(std::span<const uint8_t> bytes, uint16_t crc) {
    for (uint8_t b : bytes) crc = uint16_t((crc << 8) ^ kCrcTable[((crc >> 8) ^ b) & 0xFF]);
    return crc;
}

bool looks_like_td0(std::span<const uint8_t> start) {
    if (start.size() < kTd0HeaderBytes) return false;
    const bool normal = start[0] == 'T' && start[1] == 'D';
    const bool advanced = start[0] == 't' && start[1] == 'd';
    return (normal || advanced) && td0_crc(start.first(10)) == uint16_t(start[10] | start[11] << 8);
}

Expected<Td0File> parse_td0(std::span<const uint8_t> bytes) {
    Reader file_in(bytes, "");
    if (bytes.size() > kMaxTd0FileBytes) {
        file_in.fail(0, "the file is " + std::to_string(bytes.size()) +
                            " bytes, larger than any Teledisk disk (" +
                            std::to_string(kMaxTd0FileBytes) + " bytes at most)");
        return file_in.error();
    }
    const bool normal = bytes.size() >= 2 && bytes[0] == 'T' && bytes[1] == 'D';
    const bool advanced = bytes.size() >= 2 && bytes[0] == 't' && bytes[1] == 'd';
    if (!normal && !advanced) {
        file_in.fail(0, "no \"TD\" or \"td\" signature: this is not a Teledisk file");
        return file_in.error();
    }
    std::span<const uint8_t> h = file_in.take(kTd0HeaderBytes, "the header");
    if (h.empty()) return file_in.error();
    const uint16_t stored = uint16_t(h[10] | h[11] << 8), crc = td0_crc(h.first(10));
    if (stored != crc) {
        file_in.fail(10,
                     "the header's CRC is " + hex16(stored) + ", but its bytes give " + hex16(crc));
        return file_in.error();
    }
    Td0File file;
    file.header = {.advanced = advanced,
                   .sequence = h[2],
                   .check_signature = h[3],
                   .version = h[4],
                   .data_rate = h[5],
                   .drive_type = h[6],
                   .stepping = h[7],
                   .dos_allocation = h[8],
                   .sides = h[9]};
    if (file.header.sequence != 0) {
        file_in.fail(2,
                     "volume sequence " + std::to_string(file.header.sequence) +
                         ": this is a later part of a multi-volume set, which fdplug "
                         "does not read",
                     ErrorKind::Unsupported);
        return file_in.error();
    }
    if (advanced && file.header.version < kFirstLzhVersion) {
        file_in.fail(4,
                     "version " + std::to_string(file.header.version / 10) + "." +
                         std::to_string(file.header.version % 10) +
                         " advanced compression (LZW, before Teledisk's format 2.0) is not "
                         "read; expand the file with Teledisk or a converter first",
                     ErrorKind::Unsupported);
        return file_in.error();
    }
    if (!rate_of(file.header.data_rate)) {
        file_in.fail(5, "data rate byte " + hex8(file.header.data_rate) +
                            " names no data rate (bits 0-2: 0 to 5)");
        return file_in.error();
    }

    // A "td" file: the header, then the expanded stream, so that offsets are the same as in
    // the "TD" file of the same disk.
    std::vector<uint8_t> expanded;
    std::span<const uint8_t> data = bytes;
    if (advanced) {
        auto out =
            lzss_expand(bytes.subspan(kTd0HeaderBytes), kMaxTd0ExpandedBytes - kTd0HeaderBytes);
        if (!out) {
            file_in.fail(kTd0HeaderBytes, out.error().message());
            return file_in.error();
        }
        expanded.reserve(kTd0HeaderBytes + out->size());
        expanded.assign(h.begin(), h.end());
        expanded.insert(expanded.end(), out->begin(), out->end());
        data = expanded;
    }
    Reader in(data, advanced ? " of the expanded data" : "");
    in.seek(kTd0HeaderBytes);
    size_t dropped = 0;

    if (file.header.stepping & kCommentFlag) {
        const size_t at = in.pos();
        std::span<const uint8_t> c = in.take(kCommentHeaderBytes, "the comment header");
        if (c.empty()) return in.error();
        const size_t length = size_t(c[2]) | size_t(c[3]) << 8;
        std::span<const uint8_t> text = in.take(length, "the comment's text");
        if (text.size() != length) return in.error();
        file.has_comment = true;
        file.comment = {.year = c[4],
                        .month = c[5],
                        .day = c[6],
                        .hour = c[7],
                        .minute = c[8],
                        .second = c[9],
                        .text = std::string(text.begin(), text.end())};
        const uint16_t want = td0_crc(text, td0_crc(c.subspan(2)));
        const uint16_t got = uint16_t(c[0] | c[1] << 8);
        if (want != got)
            warn(file, dropped,
                 in.at(at) + "the comment's CRC is " + hex16(got) + ", but its bytes give " +
                     hex16(want) + " (the comment is kept as it is)");
    }

    std::vector<size_t> first_seen(kMaxTrackCylinders * kMaxTrackHeads, SIZE_MAX);
    std::vector<uint8_t> sector;
    for (;;) {
        if (in.left() == 0) {
            in.fail(in.pos(), "the data ends before the end-of-tracks byte (0xFF)");
            return in.error();
        }
        if (data[in.pos()] == kEndOfTracks) break;
        if (!parse_track(in, file, first_seen, dropped, sector)) return in.error();
    }
    if (dropped)
        file.warnings.push_back("… and " + std::to_string(dropped) + " more CRC mismatches");
    return file;
}

std::string td0_comment_text(const Td0Comment &comment) {
    std::string text = comment.text;
    std::replace(text.begin(), text.end(), '\0', '\n');
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    return text;
}

}  // namespace fdplug::floppy
