// Files for the tests that run the real host: a scratch directory that goes away with the test,
// whole-file reads and writes, and the variables meson sets for the tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fdplug::test {

inline std::string env_or_empty(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

inline std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_file(const std::string &path, const std::vector<uint8_t> &data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
}

// World-readable (0755), so that a host run as `nobody` can open what a test puts there.
class ScratchDir {
  public:
    ScratchDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "fdplug-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) ADD_FAILURE() << "mkdtemp failed";
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0755);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir &operator=(const ScratchDir &) = delete;

    std::string path(const std::string &name) const { return dir_ + "/" + name; }

  private:
    std::string dir_;
};

}  // namespace fdplug::test
