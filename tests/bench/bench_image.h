// A 1.44 MB raw image for the benchmarks: every sector tagged with its LBA, so that a misplaced
// or missing sector shows when the read is checked.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/bench/floppy_driver.h"

namespace fdplug::bench {

inline std::vector<uint8_t> patterned_disk() {
    std::vector<uint8_t> v(Geometry144::kDiskBytes);
    for (size_t i = 0; i < v.size(); ++i) {
        const uint32_t lba = uint32_t(i / 512), off = uint32_t(i % 512);
        v[i] = off == 0   ? uint8_t(lba)
               : off == 1 ? uint8_t(lba >> 8)
                          : uint8_t(lba * 29 + off * 7 + 0x11);
    }
    return v;
}

// The image file lives as long as this object.
class TempImage {
  public:
    TempImage() : bytes_(patterned_disk()) {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "fdplug-bench-XXXXXX").string();
        if (::mkdtemp(tmpl.data())) dir_ = tmpl;
        path_ = dir_ + "/disk144.img";
        std::ofstream(path_, std::ios::binary)
            .write(reinterpret_cast<const char *>(bytes_.data()), std::streamsize(bytes_.size()));
    }
    ~TempImage() {
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    const std::string &path() const { return path_; }
    const std::vector<uint8_t> &bytes() const { return bytes_; }

  private:
    std::vector<uint8_t> bytes_;
    std::string dir_, path_;
};

}  // namespace fdplug::bench
