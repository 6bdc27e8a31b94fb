// fdplug-img: inspect, convert, create and check floppy images (raw and ImageDisk; Teledisk
// files to read) with the media layer fdplug's drives use, so what it says of a file is what a
// drive will see.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "tools/fdplug-img/commands.h"

namespace {

constexpr const char *kUsage = R"(usage: fdplug-img COMMAND [OPTIONS] ...

  info [--output=json] FILE         format, geometry, uniformity and every track's sectors
  convert -O raw|imd [--lossy] IN OUT
                                    IN (raw, IMD or TD0, detected) to OUT in the given format; a
                                    conversion to raw that would lose marks, CRC errors,
                                    sizes, IDs or FM tracks is refused unless --lossy
  create -f raw|imd FILE SIZE       a blank image of SIZE: 1.44M, 720K, 1.2M, 360K, ... (the
                                    format names of docs/media.md); never overwrites FILE
  check FILE                        whether fdplug can use FILE, and whether it is uniform
  --help                            this text

Exit status: 0 done, 1 refused or failed, 2 bad usage.
)";

int usage_error(const std::string &why) {
    std::cerr << "fdplug-img: " << why << "\n" << kUsage;
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage_error("no command given");
    for (const std::string &a : args) {
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        }
    }
    const std::string command = args.front();
    std::vector<std::string> files;
    std::string output_format, file_format, json;
    bool lossy = false;
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string &a = args[i];
        if ((a == "-O" || a == "-f") && i + 1 < args.size())
            (a == "-O" ? output_format : file_format) = args[++i];
        else if (a == "--lossy")
            lossy = true;
        else if (a.rfind("--output=", 0) == 0)
            json = a.substr(std::strlen("--output="));
        else if (!a.empty() && a[0] == '-')
            return usage_error("unknown option '" + a + "'");
        else
            files.push_back(a);
    }
    using namespace fdplug::img;
    if (command == "info" && files.size() == 1 && (json.empty() || json == "json"))
        return info(files[0], json == "json");
    if (command == "convert" && files.size() == 2 && !output_format.empty())
        return convert(files[0], files[1], output_format, lossy);
    if (command == "create" && files.size() == 2 && !file_format.empty())
        return create(files[0], file_format, files[1]);
    if (command == "check" && files.size() == 1) return check(files[0]);
    return usage_error("bad arguments for '" + command + "'");
}
