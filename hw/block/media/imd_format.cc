#include "hw/block/media/imd_format.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>

namespace fdplug::floppy {

namespace {

constexpr uint8_t kCommentEnd = 0x1A;
constexpr uint8_t kCylinderMapFlag = 0x80;
constexpr uint8_t kHeadMapFlag = 0x40;
constexpr uint8_t kHeadMask = 0x3F;
constexpr uint8_t kSizeTableCode = 0xFF;  // an extension: a per-sector size table follows
constexpr uint8_t kMaxImdSizeCode = 6;    // 8192 bytes

// Mode byte: the data rate and encoding the track was read at.
struct ImdMode {
    DataRate rate;
    Encoding encoding;
};
constexpr std::array<ImdMode, 6> kModes = {{
    {DataRate::k500, Encoding::Fm},
    {DataRate::k300, Encoding::Fm},
    {DataRate::k250, Encoding::Fm},
    {DataRate::k500, Encoding::Mfm},
    {DataRate::k300, Encoding::Mfm},
    {DataRate::k250, Encoding::Mfm},
}};

// Data record types: whether data follows (one fill byte if compressed), its mark and CRC.
struct ImdRecord {
    bool has_data;
    bool compressed;
    DataMark mark;
    bool data_crc_ok;
};
constexpr std::array<ImdRecord, 9> kRecords = {{
    {false, false, DataMark::None, true},     // 0 unavailable: the data could not be read
    {true, false, DataMark::Normal, true},    // 1 normal
    {true, true, DataMark::Normal, true},     // 2 compressed
    {true, false, DataMark::Deleted, true},   // 3 deleted
    {true, true, DataMark::Deleted, true},    // 4 deleted, compressed
    {true, false, DataMark::Normal, false},   // 5 data error
    {true, true, DataMark::Normal, false},    // 6 compressed, data error
    {true, false, DataMark::Deleted, false},  // 7 deleted, data error
    {true, true, DataMark::Deleted, false},   // 8 deleted, compressed, data error
}};

std::optional<uint8_t> mode_byte(Encoding encoding, DataRate rate) {
    for (size_t i = 0; i < kModes.size(); ++i)
        if (kModes[i].encoding == encoding && kModes[i].rate == rate) return uint8_t(i);
    return std::nullopt;
}

uint8_t record_type(const SectorInfo &info, bool compressed) {
    if (info.mark == DataMark::None) return 0;
    for (size_t i = 1; i < kRecords.size(); ++i) {
        const ImdRecord &r = kRecords[i];
        if (r.compressed == compressed && r.mark == info.mark && r.data_crc_ok == info.data_crc_ok)
            return uint8_t(i);
    }
    return 0;  // not reached: every mark and CRC state has a type
}

std::string hex(unsigned v) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    return std::string("0x") + kDigits[(v >> 4) & 15] + kDigits[v & 15];
}

std::string track_name(unsigned c, unsigned h) {
    return "cylinder " + std::to_string(c) + " head " + std::to_string(h);
}

// A cursor over the file that reports where it stands when something is missing or wrong.
class Reader {
  public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    size_t pos() const { return pos_; }
    bool at_end() const { return pos_ >= bytes_.size(); }
    size_t left() const { return bytes_.size() - pos_; }

    // The next `n` bytes, or an empty span + error when the file ends first.
    std::span<const uint8_t> take(size_t n, const std::string &what) {
        if (left() < n) {
            fail(pos_, what + (n == 1 ? " needs 1 byte, but the file ends there"
                                      : " needs " + std::to_string(n) +
                                            " bytes, but the file ends after " +
                                            std::to_string(left()) + " of them"));
            return {};
        }
        auto out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    bool fail(size_t at, const std::string &what) {
        error_ = "at byte " + std::to_string(at) + ": " + what;
        return false;
    }
    // What the first failure said: "at byte 1234: …".
    Error<> error() const { return Error(ErrorKind::Corrupt, error_); }

  private:
    std::span<const uint8_t> bytes_;
    std::string error_;
    size_t pos_ = 0;
};

// One track record: header, maps and data records, into `disk`. `first_seen` holds the offset
// of the record that first named each (c, h), to name it when another names it again.
bool parse_track(Reader &in, TrackDisk &disk, std::vector<size_t> &first_seen) {
    const size_t start = in.pos();
    if (in.left() < 5)
        return in.fail(start, "a track record starts here but the file ends after " +
                                  std::to_string(in.left()) + " of its 5 header bytes");
    std::span<const uint8_t> head = in.take(5, "a track header");
    const uint8_t mode = head[0], cylinder = head[1], head_byte = head[2], count = head[3],
                  size_code = head[4];
    if (mode >= kModes.size())
        return in.fail(start, "mode " + hex(mode) + " is not an IMD mode (0 to 5)");
    if (cylinder >= kMaxTrackCylinders)
        return in.fail(start + 1, "cylinder " + std::to_string(cylinder) +
                                      " lies beyond any drive's reach (0 to " +
                                      std::to_string(kMaxTrackCylinders - 1) + ")");
    const unsigned h = head_byte & kHeadMask;
    if (h >= kMaxTrackHeads)
        return in.fail(start + 2, "head byte " + hex(head_byte) + " names head " +
                                      std::to_string(h) + "; a disk has heads 0 and 1");
    if (count > 0 && size_code == kSizeTableCode)
        return in.fail(start + 4,
                       "size code 0xFF (a table of sector sizes) is an extension fdplug does "
                       "not read; the track's sectors must share one size code 0 to 6");
    if (count > 0 && size_code > kMaxImdSizeCode)
        return in.fail(start + 4, "size code " + std::to_string(size_code) +
                                      " is not an IMD sector size (0 to 6: 128 to 8192 bytes)");
    const size_t bytes = count * (count > 0 ? sector_size(size_code) : 0);
    if (bytes > kMaxTrackDataBytes)
        return in.fail(start + 3, std::to_string(count) + " sectors of " +
                                      std::to_string(sector_size(size_code)) + " bytes (" +
                                      std::to_string(bytes) + ") are more than a track holds (" +
                                      std::to_string(kMaxTrackDataBytes) + " bytes at most)");
    size_t &seen = first_seen[cylinder * kMaxTrackHeads + h];
    if (seen != SIZE_MAX)
        return in.fail(start, "a second record for " + track_name(cylinder, h) +
                                  " (the first is at byte " + std::to_string(seen) + ")");
    seen = start;

    const std::string where = track_name(cylinder, h) + "'s ";
    std::span<const uint8_t> r_map = in.take(count, where + "sector numbering map");
    if (r_map.size() != count) return false;
    std::span<const uint8_t> c_map, h_map;
    if (head_byte & kCylinderMapFlag) {
        c_map = in.take(count, where + "cylinder map");
        if (c_map.size() != count) return false;
    }
    if (head_byte & kHeadMapFlag) {
        h_map = in.take(count, where + "head map");
        if (h_map.size() != count) return false;
    }

    Track track(kModes[mode].encoding, kModes[mode].rate);
    track.reserve(count, bytes);
    for (unsigned i = 0; i < count; ++i) {
        const size_t at = in.pos();
        const std::string sector =
            where + "sector " + std::to_string(i) + " (R=" + std::to_string(r_map[i]) + ")";
        std::span<const uint8_t> type = in.take(1, sector + "'s data record");
        if (type.empty()) return false;
        if (type[0] >= kRecords.size())
            return in.fail(at, sector + ": data record type " + std::to_string(type[0]) +
                                   " is not an IMD type (0 to 8)");
        const ImdRecord &rec = kRecords[type[0]];
        SectorInfo info{
            .id = {c_map.empty() ? cylinder : c_map[i], h_map.empty() ? uint8_t(h) : h_map[i],
                   r_map[i], size_code},
            .size_code = size_code,
            .mark = rec.mark,
            .data_crc_ok = rec.data_crc_ok,
        };
        const size_t length = !rec.has_data ? 0 : rec.compressed ? 1 : sector_size(size_code);
        std::span<const uint8_t> data =
            in.take(length, sector + "'s record type " + std::to_string(type[0]));
        if (data.size() != length) return false;
        // add() cannot fail: the count and size were bounded above.
        if (length == sector_size(size_code))
            track.add(info, data);
        else
            track.add_filled(info, length ? data[0] : 0);
    }
    disk.put(cylinder, h, std::move(track));
    return true;
}

// All bytes of the data field the same: an IMD compressed record holds it as one byte.
bool uniform(std::span<const uint8_t> data) {
    return std::ranges::adjacent_find(data, std::ranges::not_equal_to{}) == data.end();
}

}  // namespace

bool looks_like_imd(std::span<const uint8_t> start) {
    return start.size() >= kImdSignature.size() &&
           std::equal(kImdSignature.begin(), kImdSignature.end(), start.begin());
}

Expected<ImdFile> parse_imd(std::span<const uint8_t> bytes) {
    Reader in(bytes);
    if (bytes.size() > kMaxImdFileBytes) {
        in.fail(0, "the file is " + std::to_string(bytes.size()) +
                       " bytes, larger than any IMD disk (" + std::to_string(kMaxImdFileBytes) +
                       " bytes at most)");
        return in.error();
    }
    if (!looks_like_imd(bytes)) {
        in.fail(0, "no \"IMD \" signature: this is not an ImageDisk file");
        return in.error();
    }
    const auto end = std::ranges::find(bytes, kCommentEnd);
    if (end == bytes.end()) {
        in.fail(bytes.size(), "the header and comment never end: no 0x1A byte follows them");
        return in.error();
    }
    ImdFile file;
    file.header.assign(bytes.begin(), end);
    in.take(file.header.size() + 1, "the header");
    std::vector<size_t> first_seen(kMaxTrackCylinders * kMaxTrackHeads, SIZE_MAX);
    while (!in.at_end())
        if (!parse_track(in, file.disk, first_seen)) return in.error();
    return file;
}

Status imd_can_hold(const Track &track) {
    auto refuse = [](std::string text) { return Error(ErrorKind::Unsupported, std::move(text)); };
    if (!mode_byte(track.encoding(), track.rate()))
        return refuse("an IMD file holds tracks at 250, 300 or 500 kbit/s, not 1 Mbit/s");
    for (size_t i = 0; i < track.sector_count(); ++i) {
        const SectorInfo &s = track.info(i);
        if (s.size_code != track.info(0).size_code)
            return refuse("an IMD track holds sectors of one size; this one mixes " +
                          std::to_string(sector_size(track.info(0).size_code)) + " and " +
                          std::to_string(sector_size(s.size_code)) + " bytes");
        if (s.size_code > kMaxImdSizeCode)
            return refuse("an IMD file holds sectors of 128 to 8192 bytes, not " +
                          std::to_string(sector_size(s.size_code)));
        if (s.id.n != s.size_code)
            return refuse("sector R=" + std::to_string(s.id.r) +
                          " has N=" + std::to_string(s.id.n) + " in its ID and " +
                          std::to_string(sector_size(s.size_code)) +
                          " bytes of data; an IMD file keeps one N for both");
        if (!s.id_crc_ok)
            return refuse("sector R=" + std::to_string(s.id.r) +
                          " has an ID CRC error, which an IMD file cannot record");
    }
    return {};
}

Expected<std::vector<uint8_t>> write_imd(std::string_view header_text, const TrackDisk &disk) {
    auto refuse = [](std::string text) { return Error(ErrorKind::Unsupported, std::move(text)); };
    const std::span<const uint8_t> header(reinterpret_cast<const uint8_t *>(header_text.data()),
                                          header_text.size());
    if (!looks_like_imd(header)) return refuse("the header must start with the \"IMD \" signature");
    if (std::ranges::find(header, kCommentEnd) != header.end())
        return refuse("the comment must not contain the byte 0x1A, which ends it");
    std::vector<uint8_t> bytes(header.begin(), header.end());
    bytes.push_back(kCommentEnd);
    for (unsigned c = 0; c < kMaxTrackCylinders; ++c) {
        for (unsigned h = 0; h < kMaxTrackHeads; ++h) {
            const Track *t = disk.find(c, h);
            if (!t) continue;
            if (Status held = imd_can_hold(*t); !held)
                return held.error().prefixed(track_name(c, h) + ": ");
            const size_t count = t->sector_count();
            bool c_map = false, h_map = false;
            for (size_t i = 0; i < count; ++i) {
                c_map = c_map || t->info(i).id.c != c;
                h_map = h_map || t->info(i).id.h != h;
            }
            bytes.push_back(*mode_byte(t->encoding(), t->rate()));
            bytes.push_back(uint8_t(c));
            bytes.push_back(
                uint8_t(h | (c_map ? kCylinderMapFlag : 0) | (h_map ? kHeadMapFlag : 0)));
            bytes.push_back(uint8_t(count));
            bytes.push_back(count ? t->info(0).size_code : 0);
            for (size_t i = 0; i < count; ++i) bytes.push_back(t->info(i).id.r);
            if (c_map)
                for (size_t i = 0; i < count; ++i) bytes.push_back(t->info(i).id.c);
            if (h_map)
                for (size_t i = 0; i < count; ++i) bytes.push_back(t->info(i).id.h);
            for (size_t i = 0; i < count; ++i) {
                const SectorInfo &s = t->info(i);
                std::span<const uint8_t> data = t->data(i);
                const bool compress = uniform(data);
                bytes.push_back(record_type(s, compress));
                if (s.mark == DataMark::None) continue;
                if (compress)
                    bytes.push_back(data[0]);
                else
                    bytes.insert(bytes.end(), data.begin(), data.end());
            }
        }
    }
    return bytes;
}

std::string imd_header(std::string_view date_time, std::string_view comment) {
    return std::string(kImdSignature) + "1.18: " + std::string(date_time) + "\r\n" +
           std::string(comment);
}

std::string imd_date_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%d/%m/%Y %H:%M:%S", &tm);
    return buf;
}

std::string imd_comment(std::string_view header) {
    const size_t eol = header.find('\n');
    return eol == std::string_view::npos ? std::string() : std::string(header.substr(eol + 1));
}

}  // namespace fdplug::floppy
