#include "tools/fdplug-img/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/track_convert.h"
#include "hw/block/media/track_geometry.h"
#include "tools/fdplug-img/loaded_image.h"

namespace fdplug::img {

using namespace floppy;

namespace {

int failed(const std::string &message) {
    std::cerr << "fdplug-img: " << message << "\n";
    return 1;
}

const char *mark_name(DataMark mark) {
    switch (mark) {
        case DataMark::Normal:
            return "normal";
        case DataMark::Deleted:
            return "deleted";
        case DataMark::None:
            break;
    }
    return "none";
}

std::string geometry_text(const FormatChoice &c) {
    const Geometry &g = c.geometry;
    std::string name = format_name(g);
    return std::to_string(g.cylinders) + " x " + std::to_string(g.heads) + " x " +
           std::to_string(g.sectors) + ", " + std::to_string(data_rate_kbps(g.rate)) + " kbit/s, " +
           std::to_string(g.rpm) + " rpm" + (name.empty() ? "" : " (" + name + ")") +
           ", drive type " + drive_type_name(c.drive);
}

// One line per track: encoding, rate, sector count and sizes, the R values, and what is unusual.
std::string track_line(unsigned c, unsigned h, const Track &t) {
    std::string line = std::to_string(c) + "." + std::to_string(h) + "  " +
                       (t.encoding() == Encoding::Fm ? "FM " : "MFM") + " " +
                       std::to_string(data_rate_kbps(t.rate())) + " kbit/s  " +
                       std::to_string(t.sector_count()) + " sectors";
    if (t.sector_count() == 0) return line + " (unformatted)";
    line += " of " + std::to_string(sector_size(t.info(0).size_code)) + " bytes, R";
    unsigned deleted = 0, data_errors = 0, no_data = 0, foreign = 0;
    for (size_t i = 0; i < t.sector_count(); ++i) {
        const SectorInfo &s = t.info(i);
        line += (i ? "," : " ") + std::to_string(s.id.r);
        deleted += s.mark == DataMark::Deleted;
        no_data += s.mark == DataMark::None;
        data_errors += s.mark != DataMark::None && !s.data_crc_ok;
        foreign += s.id.c != c || s.id.h != h;
    }
    if (deleted) line += "; " + std::to_string(deleted) + " deleted";
    if (data_errors) line += "; " + std::to_string(data_errors) + " data CRC errors";
    if (no_data) line += "; " + std::to_string(no_data) + " without data";
    if (foreign) line += "; " + std::to_string(foreign) + " IDs of another C/H";
    return line;
}

nlohmann::json track_json(unsigned c, unsigned h, const Track &t) {
    nlohmann::json sectors = nlohmann::json::array();
    for (size_t i = 0; i < t.sector_count(); ++i) {
        const SectorInfo &s = t.info(i);
        sectors.push_back({{"c", s.id.c},
                           {"h", s.id.h},
                           {"r", s.id.r},
                           {"n", s.id.n},
                           {"bytes", sector_size(s.size_code)},
                           {"id_crc_ok", s.id_crc_ok},
                           {"mark", mark_name(s.mark)},
                           {"data_crc_ok", s.data_crc_ok}});
    }
    return {{"cylinder", c},
            {"head", h},
            {"encoding", t.encoding() == Encoding::Fm ? "FM" : "MFM"},
            {"rate_kbps", data_rate_kbps(t.rate())},
            {"sectors", sectors}};
}

// Writes a new file; `exclusive`: fail if it exists.
int write_file(const std::string &path, const std::vector<uint8_t> &bytes, bool exclusive) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0644);
    if (fd < 0) return failed("cannot create '" + path + "': " + std::strerror(errno));
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            return failed("writing '" + path + "' failed: " + std::strerror(err));
        }
        done += size_t(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
        return failed("flushing '" + path + "' failed: " + std::strerror(errno));
    return 0;
}

// A comment as IMD comment lines: CR LF line ends, no 0x1A (which ends an IMD comment).
std::string imd_comment_lines(const std::string &comment) {
    std::string out;
    for (char ch : comment) {
        if (ch == '\x1a' || ch == '\r') continue;
        if (ch == '\n')
            out += "\r\n";
        else
            out += ch;
    }
    return out;
}

std::string base_name(const std::string &path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int info(const std::string &path, bool json) {
    auto image = load_image(path, "");
    if (!image) return failed(image.error().message());
    const Geometry &g = image->choice.geometry;
    const std::vector<std::string> losses = sector_image_losses(image->disk);
    if (json) {
        nlohmann::json tracks = nlohmann::json::array();
        for (unsigned c = 0; c < kMaxTrackCylinders; ++c)
            for (unsigned h = 0; h < kMaxTrackHeads; ++h)
                if (const Track *t = image->disk.find(c, h)) tracks.push_back(track_json(c, h, *t));
        nlohmann::json out = {{"file", image->path},
                              {"format", image->format},
                              {"file_bytes", image->file_bytes},
                              {"geometry",
                               {{"cylinders", g.cylinders},
                                {"heads", g.heads},
                                {"sectors", g.sectors},
                                {"rate_kbps", data_rate_kbps(g.rate)},
                                {"rpm", g.rpm},
                                {"name", format_name(g)},
                                {"drive_type", drive_type_name(image->choice.drive)}}},
                              {"uniform", losses.empty()},
                              {"raw_losses", losses},
                              {"tracks", tracks}};
        if (image->format != "raw") out["comment"] = image->comment;
        if (image->format == "td0") out["warnings"] = image->warnings;
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << "file: " << image->path << "\n"
              << "format: " << image->format << ", " << image->file_bytes << " bytes\n";
    if (image->format != "raw") {
        std::string comment = image->comment;
        while (!comment.empty() && (comment.back() == '\n' || comment.back() == '\r'))
            comment.pop_back();
        std::cout << "comment: " << comment << "\n";
    }
    for (const std::string &w : image->warnings) std::cout << "warning: " << w << "\n";
    std::cout << "geometry: " << geometry_text(image->choice) << "\n"
              << "uniform: " << (losses.empty() ? "yes (a raw image holds all of it)" : "no")
              << "\n";
    for (const std::string &l : losses) std::cout << "  raw would lose: " << l << "\n";
    std::cout << "tracks:\n";
    for (unsigned c = 0; c < kMaxTrackCylinders; ++c)
        for (unsigned h = 0; h < kMaxTrackHeads; ++h)
            if (const Track *t = image->disk.find(c, h))
                std::cout << "  " << track_line(c, h, *t) << "\n";
    return 0;
}

int convert(const std::string &in, const std::string &out, const std::string &to, bool lossy) {
    if (to != "raw" && to != "imd") return failed("-O takes raw or imd, not '" + to + "'");
    auto image = load_image(in, "");
    if (!image) return failed(image.error().message());
    std::vector<uint8_t> bytes;
    if (to == "raw") {
        const std::vector<std::string> losses = sector_image_losses(image->disk);
        if (!losses.empty() && !lossy) {
            std::cerr << "fdplug-img: a raw image of '" << in << "' would lose:\n";
            for (const std::string &l : losses) std::cerr << "  " << l << "\n";
            std::cerr << "fdplug-img: convert with --lossy to accept that\n";
            return 1;
        }
        bytes = sector_image_of(image->disk, image->choice.geometry);
    } else {
        const std::string header =
            image->format == "imd"
                ? image->header
                : imd_header(imd_date_now(), "Converted from " + base_name(in) +
                                                 " by fdplug-img\r\n" +
                                                 imd_comment_lines(image->comment));
        auto written = write_imd(header, image->disk);
        if (!written)
            return failed("'" + in + "' cannot be written as IMD: " + written.error().message());
        bytes = std::move(*written);
    }
    return write_file(out, bytes, false);
}

int create(const std::string &path, const std::string &format, const std::string &size) {
    if (format != "raw" && format != "imd")
        return failed("-f takes raw or imd, not '" + format + "'");
    const FloppyFormat *f = format_by_name(size);
    if (!f) return failed("unknown size '" + size + "'; give a format name such as 1.44M or 720K");
    const Geometry &g = f->geometry;
    if (format == "raw") return write_file(path, std::vector<uint8_t>(g.size_bytes()), true);
    // A blank medium of that format, as tracks: what a raw file of zeros would be.
    MemoryImage blank(g, false);
    Expected<TrackDisk> disk = read_tracks(blank);
    if (!disk) return failed(size + " media cannot be made: " + disk.error().message());
    const std::string header =
        imd_header(imd_date_now(), "Blank " + size + " disk by fdplug-img\r\n");
    auto written = write_imd(header, *disk);
    if (!written)
        return failed(size + " media cannot be an IMD file: " + written.error().message());
    return write_file(path, *written, true);
}

int check(const std::string &path) {
    auto image = load_image(path, "");
    if (!image) return failed(image.error().message());
    const std::vector<std::string> losses = sector_image_losses(image->disk);
    for (const std::string &w : image->warnings)
        std::cout << image->path << ": warning: " << w << "\n";
    std::cout << image->path << ": ok, " << image->format << ", " << geometry_text(image->choice)
              << (losses.empty() ? ", uniform"
                                 : ", not uniform (" + std::to_string(losses.size()) +
                                       " kinds of sector a raw image cannot hold)")
              << "\n";
    return 0;
}

}  // namespace fdplug::img
