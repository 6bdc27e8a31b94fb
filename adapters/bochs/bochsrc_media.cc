// The floppya:/floppyb: values of Bochs 2.7's parameter tree, as fdplug takes them
// (bochsrc_media.h). Reference: docs/bochs.md#the-parameter-tree.
#include "adapters/bochs/bochsrc_media.h"

#include <iterator>

namespace fdplug::bochs {
namespace {

using floppy::DriveType;
using floppy::Error;
using floppy::ErrorKind;

// floppy.N.devtype: the CMOS drive code, 0 (none) to 5.
constexpr DriveType kDriveTypes[] = {DriveType::None, DriveType::k360, DriveType::k120,
                                     DriveType::k720, DriveType::k144, DriveType::k288};

// floppy.N.type: Bochs' media types, their bochsrc keyword and the most 512-byte sectors Bochs'
// plugin accepts in a file for them (0: no limit of its own here).
struct MediaType {
    int64_t code;
    const char *keyword;
    uint64_t max_sectors;
};
constexpr MediaType kMediaTypes[] = {
    {10, "none", 0},   {11, "1_2", 2400}, {12, "1_44", 0},   {13, "2_88", 5760}, {14, "720k", 1440},
    {15, "360k", 720}, {16, "160k", 320}, {17, "180k", 360}, {18, "320k", 640},  {19, "image", 0},
};

const MediaType *media_type(int64_t code) {
    for (const MediaType &t : kMediaTypes)
        if (t.code == code) return &t;
    return nullptr;
}

}  // namespace

DriveType drive_type_of(int64_t devtype) {
    if (devtype < 0 || devtype >= int64_t(std::size(kDriveTypes))) return DriveType::None;
    return kDriveTypes[devtype];
}

std::string directive_of(unsigned unit) {
    return std::string("floppy") + char('a' + unit);
}

const char *media_keyword(int64_t code) {
    const MediaType *t = media_type(code);
    return t ? t->keyword : "image";
}

floppy::Status check_source(unsigned unit, int64_t code, const std::string &path) {
    if (path.rfind(kVvfatPrefix, 0) != 0) return {};
    return Error(ErrorKind::Unsupported,
                 directive_of(unit) + ": " + media_keyword(code) + "=\"" + path +
                     "\": fdplug's libbx_floppy.so cannot present a host directory as a FAT "
                     "floppy (vvfat:). Make an image of it (e.g. mformat -C -f 1440 -i dir.img :: "
                     "&& mcopy -s -i dir.img DIR/* ::) and name that file, or use Bochs' own "
                     "floppy plugin");
}

floppy::Status check_size(int64_t code, const std::string &path, uint64_t bytes) {
    const MediaType *t = media_type(code);
    if (!t || t->max_sectors == 0 || bytes <= t->max_sectors * 512) return {};
    return Error(ErrorKind::UnknownSize,
                 std::string(t->keyword) + "=\"" + path + "\": the file is " +
                     std::to_string(bytes) + " bytes, more than a " + t->keyword +
                     " medium holds (" + std::to_string(t->max_sectors * 512) +
                     "); name the medium's size (1_44=, 2_88=, …) or use image= to let fdplug "
                     "tell it from the file");
}

}  // namespace fdplug::bochs
